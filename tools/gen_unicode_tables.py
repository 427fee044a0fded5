#!/usr/bin/env python3
"""Generates src/tokenizer/unicode_tables.cc: the Unicode tables the tokenizer's pre-tokenizers use.

Reads the Unicode Character Database (Debian package `unicode-data`: /usr/share/unicode) and writes
compact, sorted tables:
  - general-category runs (start code point -> category), one entry where the category changes;
  - the White_Space code points (PropList.txt), what the regex engines' \\s matches;
  - simple lowercase mappings as (first, last, delta, stride) runs;
  - the literal letter class of the deepseek-llm pre-tokenizer regex, as sorted code point ranges.

The reference tokenizer (llama.cpp) classifies code points with Unicode 15.1; UnicodeData.txt 15.0 lacks
the 627 code points 15.1 added, so they are patched in below (all other code points are identical).
Unassigned code points get the category 'undefined' (llama.cpp's UNDEFINED flag), not 'other'.

Usage: tools/gen_unicode_tables.py [--ucd /usr/share/unicode] [--out src/tokenizer/unicode_tables.cc]
Python 3 standard library only.
"""

import argparse
import os
import sys

MAX_CODEPOINT = 0x110000

# Category codes; must match rf::tok::Category in src/tokenizer/unicode.h.
CATEGORY_CODES = {
    "undefined": 0, "L": 1, "N": 2, "P": 3, "S": 4, "M": 5, "Z": 6, "C": 7,
}

# Code points Unicode 15.1 added (UnicodeData.txt 15.1 vs 15.0): IDS characters, a CJK stroke, and
# CJK Unified Ideographs Extension I.
UNICODE_15_1_ADDITIONS = [
    (0x2FFC, 0x2FFF, "So"),
    (0x31EF, 0x31EF, "So"),
    (0x2EBF0, 0x2EE5D, "Lo"),
]

# The letter class of llama.cpp's deepseek-llm pre-tokenizer regex
# "\s?[A-Za-zµÀ-ÖØ-öø-ƺ...]+", copied verbatim (it approximates the cased letters, \p{LC}).
# Six code points are escaped: they have singleton canonical decompositions, so any NFC-normalizing
# editor would silently turn them into other letters (U+212A KELVIN SIGN into "K", ...).
DEEPSEEK_LLM_LETTER_CLASS = (
    "A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚ"
    "Ḁ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1f7dᾀ-ᾴᾶ-ᾼ\u1fbeῂ-ῄῆ-ῌῐ-\u1fd3ῖ-\u1fdbῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212a-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄ"
    "Ⰰ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃"
)


def read_general_categories(ucd):
    """Returns a list of two-letter general categories indexed by code point ('Cn' if unassigned)."""
    gc = ["Cn"] * MAX_CODEPOINT
    rows = []
    with open(os.path.join(ucd, "UnicodeData.txt"), encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            if len(fields) >= 3:
                rows.append(fields)
    i = 0
    while i < len(rows):
        cp = int(rows[i][0], 16)
        name, cat = rows[i][1], rows[i][2]
        if name.endswith(", First>"):
            last = int(rows[i + 1][0], 16)
            for c in range(cp, last + 1):
                gc[c] = cat
            i += 2
            continue
        gc[cp] = cat
        i += 1
    for first, last, cat in UNICODE_15_1_ADDITIONS:
        for c in range(first, last + 1):
            if gc[c] != "Cn":
                sys.exit("U+%04X is already assigned: is this UCD newer than 15.0?" % c)
            gc[c] = cat
    return gc


def read_simple_lowercase(ucd):
    """Returns sorted (code point, lowercase) pairs from UnicodeData.txt field 13."""
    pairs = []
    with open(os.path.join(ucd, "UnicodeData.txt"), encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            if len(fields) > 13 and fields[13]:
                pairs.append((int(fields[0], 16), int(fields[13], 16)))
    return sorted(pairs)


def read_white_space(ucd):
    cps = []
    with open(os.path.join(ucd, "PropList.txt"), encoding="utf-8") as f:
        for line in f:
            body = line.split("#", 1)[0].strip()
            if not body:
                continue
            rng, prop = [x.strip() for x in body.split(";")]
            if prop != "White_Space":
                continue
            if ".." in rng:
                lo, hi = [int(x, 16) for x in rng.split("..")]
            else:
                lo = hi = int(rng, 16)
            cps.extend(range(lo, hi + 1))
    return sorted(cps)


def category_runs(gc):
    def code(cat):
        return CATEGORY_CODES["undefined"] if cat == "Cn" else CATEGORY_CODES[cat[0]]

    runs = [(0, code(gc[0]))]
    for cp in range(1, MAX_CODEPOINT):
        c = code(gc[cp])
        if c != runs[-1][1]:
            runs.append((cp, c))
    return runs


def lowercase_runs(pairs):
    """Groups (cp, lower) pairs into (first, last, delta, stride) runs with stride 1 or 2."""
    runs = []
    for cp, lower in pairs:
        delta = lower - cp
        if runs:
            first, last, d, stride = runs[-1]
            if d == delta and cp - last in (1, 2) and (stride == 0 or cp - last == stride):
                runs[-1] = (first, cp, d, cp - last)
                continue
        runs.append((cp, cp, delta, 0))
    return [(f, l, d, s if s else 1) for f, l, d, s in runs]


def parse_char_class(text):
    """Parses a regex character class body of literal characters and ranges into merged ranges."""
    cps = [ord(ch) for ch in text]
    ranges = []
    i = 0
    while i < len(cps):
        if i + 2 < len(cps) and cps[i + 1] == ord("-"):
            ranges.append((cps[i], cps[i + 2]))
            i += 3
        else:
            ranges.append((cps[i], cps[i]))
            i += 1
    ranges.sort()
    merged = []
    for lo, hi in ranges:
        if lo > hi:
            sys.exit("bad range U+%04X-U+%04X in the deepseek-llm class" % (lo, hi))
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def check_deepseek_class(ranges, gc):
    """Every endpoint of the class must be a cased letter; a typo would almost surely break this."""
    for lo, hi in ranges:
        for cp in (lo, hi):
            if gc[cp] not in ("Lu", "Ll", "Lt"):
                sys.exit("deepseek-llm class endpoint U+%04X is %s, not a cased letter" % (cp, gc[cp]))


def emit(out, runs, white_space, lower, deepseek):
    w = out.write
    w("// Unicode tables for the pre-tokenizers. Generated by tools/gen_unicode_tables.py from the Unicode\n")
    w("// Character Database 15.0 plus the 15.1 additions: do not edit by hand.\n")
    w('#include "tokenizer/unicode_tables.h"\n\n')
    w("namespace rf::tok::tables {\n\n")
    w("// (start << 4) | category: the category holds from start up to the next entry's start.\n")
    w("const uint32_t kCategoryRuns[] = {\n")
    for i in range(0, len(runs), 8):
        w("    " + " ".join("0x%07X," % ((cp << 4) | c) for cp, c in runs[i:i + 8]) + "\n")
    w("};\n")
    w("const size_t kCategoryRunCount = sizeof(kCategoryRuns) / sizeof(kCategoryRuns[0]);\n\n")
    w("// White_Space code points (PropList.txt), sorted.\n")
    w("const uint32_t kWhiteSpace[] = {\n")
    for i in range(0, len(white_space), 8):
        w("    " + " ".join("0x%04X," % cp for cp in white_space[i:i + 8]) + "\n")
    w("};\n")
    w("const size_t kWhiteSpaceCount = sizeof(kWhiteSpace) / sizeof(kWhiteSpace[0]);\n\n")
    w("// Simple lowercase mappings: every stride-th code point in [first, last] maps to itself + delta.\n")
    w("const LowercaseRun kLowercaseRuns[] = {\n")
    for first, last, delta, stride in lower:
        w("    {0x%05X, 0x%05X, %d, %d},\n" % (first, last, delta, stride))
    w("};\n")
    w("const size_t kLowercaseRunCount = sizeof(kLowercaseRuns) / sizeof(kLowercaseRuns[0]);\n\n")
    w("// The deepseek-llm letter class, as sorted disjoint [first, last] ranges.\n")
    w("const CodepointRange kDeepseekLetters[] = {\n")
    for i in range(0, len(deepseek), 4):
        w("    " + " ".join("{0x%05X, 0x%05X}," % r for r in deepseek[i:i + 4]) + "\n")
    w("};\n")
    w("const size_t kDeepseekLetterCount = sizeof(kDeepseekLetters) / sizeof(kDeepseekLetters[0]);\n\n")
    w("}  // namespace rf::tok::tables\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ucd", default="/usr/share/unicode", help="Unicode Character Database directory")
    ap.add_argument("--out", default=os.path.join(here, "..", "src", "tokenizer", "unicode_tables.cc"))
    args = ap.parse_args()

    gc = read_general_categories(args.ucd)
    deepseek = parse_char_class(DEEPSEEK_LLM_LETTER_CLASS)
    check_deepseek_class(deepseek, gc)
    with open(args.out, "w", encoding="utf-8") as out:
        emit(out, category_runs(gc), read_white_space(args.ucd),
             lowercase_runs(read_simple_lowercase(args.ucd)), deepseek)


if __name__ == "__main__":
    main()
