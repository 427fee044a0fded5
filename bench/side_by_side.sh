#!/usr/bin/env bash
# Side-by-side llama-bench runs: ROCmForge and an external llama.cpp on the same GGUF files and
# threads, alternating engine by engine per repetition round so that drift in this machine's
# bandwidth and clocks hits both alike. ROCmForge measures its roofs in the same run.
#
#   bench/side_by_side.sh LLAMA_BENCH MODEL... [-- extra args for both, e.g. -p 512 -n 128 -t 2]
#
# LLAMA_BENCH: path to a llama-bench binary (not built or fetched by this project). Prints a
# markdown table: per model and test, tokens/s of each engine (mean of the rounds' means) and
# their ratio, plus ROCmForge's fraction of its roof.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rocmforge="${ROCMFORGE:-$here/build/bin/rocmforge}"
llama_bench="$1"; shift
models=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do models+=("$1"); shift; done
[ $# -gt 0 ] && shift
args=("$@"); [ ${#args[@]} -eq 0 ] && args=(-p 512 -n 128 -t 2)
rounds="${ROUNDS:-3}"
out="$(mktemp -d)"
for m in "${models[@]}"; do
  for r in $(seq "$rounds"); do
    name="$(basename "$m" .gguf)"
    "$llama_bench" -m "$m" "${args[@]}" -r 1 -o json > "$out/$name.llama.$r.json" 2>/dev/null
    "$rocmforge" bench -m "$m" "${args[@]}" -r 1 --roofline -o json > "$out/$name.ours.$r.json" 2>/dev/null
  done
done
python3 - "$out" <<'PY'
import glob, json, os, statistics, sys
d = sys.argv[1]
rows = {}
roofs = {}
for f in sorted(glob.glob(os.path.join(d, "*.json"))):
    name, engine, _, _ = os.path.basename(f).rsplit(".", 3)
    for t in json.load(open(f)):
        test = f"pp{t['n_prompt']}" if t["n_prompt"] else f"tg{t['n_gen']}"
        e = rows.setdefault((name, test), {"llama": [], "ours": [], "roof": []})
        e[engine].append(t["avg_ts"])
        if engine == "ours" and "roof_fraction" in t:
            e["roof"].append(t["roof_fraction"])
            for key, value in t.get("roofline", {}).items():
                roofs.setdefault(key, []).append(value)
print("| model | test | llama.cpp t/s | ROCmForge t/s | ratio | ROCmForge / roof |")
print("|---|---|---:|---:|---:|---:|")
for (name, test), e in rows.items():
    l, o = statistics.mean(e["llama"]), statistics.mean(e["ours"])
    roof = f"{100 * statistics.median(e['roof']):.0f} %" if e["roof"] else "-"
    print(f"| {name} | {test} | {l:.1f} ± {statistics.pstdev(e['llama']):.1f} | {o:.1f} ± {statistics.pstdev(e['ours']):.1f} | {o / l:.2f}x | {roof} |")
if roofs:
    print()
    print("Roofs measured in the run: " + ", ".join(f"{k} {min(v):.0f}–{max(v):.0f}" for k, v in sorted(roofs.items())))
PY
rm -rf "$out"
