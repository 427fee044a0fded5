#!/usr/bin/env python3
"""Serving benchmark over HTTP against any OpenAI-compatible server (rocmforge serve, llama-server).

  http_bench.py URL [--streams 16] [--tokens 64] [--prefix-words 700] [--reps 3]

1. One greedy /v1/completions request of --tokens tokens, then --streams concurrent ones (different
   prompts): aggregate completion tokens/s of each (usage.completion_tokens / wall time), ratio.
2. Time to first token (streamed) of a ~1000-token prompt, then of another sharing all but its
   last words: the prefix cache's speed-up. Medians of --reps runs; each run uses fresh texts so no
   run hits another's cache.
"""
import argparse, json, statistics, threading, time, urllib.request

WORDS = ("time little girl park sun tree dog cat ball play happy friend mom dad day big red blue "
         "went saw said found wanted jumped ran laughed home school garden river boat bird").split()


def text(seed, n):
    x = seed * 2654435761 % 2**32 + 1
    out = []
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF; x ^= x >> 17; x ^= (x << 5) & 0xFFFFFFFF
        out.append(WORDS[x % len(WORDS)])
    return " ".join(out)


def post(url, body, stream=False):
    req = urllib.request.Request(url + "/v1/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=600)


def complete(url, prompt, tokens):
    body = {"prompt": prompt, "max_tokens": tokens, "temperature": 0, "ignore_eos": True}
    with post(url, body) as r:
        return json.load(r)["usage"]["completion_tokens"]


def ttft(url, prompt):
    body = {"prompt": prompt, "max_tokens": 1, "temperature": 0, "stream": True}
    start = time.perf_counter()
    with post(url, body) as r:
        for line in r:
            if line.startswith(b"data: ") and b'"text"' in line:
                return time.perf_counter() - start
    raise RuntimeError("no token streamed")


def concurrent(url, prompts, tokens):
    done = [0] * len(prompts)
    def one(i):
        done[i] = complete(url, prompts[i], tokens)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
    start = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    return sum(done) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--streams", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--prefix-words", type=int, default=700)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    complete(a.url, "warm up", 4)
    one, many, cold, warm = [], [], [], []
    for rep in range(a.reps):
        one.append(concurrent(a.url, [text(1000 + rep, 12)], a.tokens))
        many.append(concurrent(a.url, [text(7 + rep * a.streams + s, 12) for s in range(a.streams)], a.tokens))
        shared = text(99 + rep, a.prefix_words)
        cold.append(ttft(a.url, shared + " " + text(5 + rep, 12)))
        warm.append(ttft(a.url, shared + " " + text(6 + rep, 12)))
    m = statistics.median
    print(f"| 1 stream x {a.tokens} | {m(one):.1f} tok/s |")
    print(f"| {a.streams} streams x {a.tokens} | {m(many):.1f} tok/s ({m(many) / m(one):.2f}x one stream) |")
    print(f"| TTFT cold, ~{a.prefix_words} words | {1e3 * m(cold):.0f} ms |")
    print(f"| TTFT, same prefix | {1e3 * m(warm):.0f} ms ({m(cold) / m(warm):.1f}x faster) |")


if __name__ == "__main__":
    main()
