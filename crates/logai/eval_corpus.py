#!/usr/bin/env python3
"""Scores Log AI's severity on the corpus of logs written by real programs (testdata/corpus).

Usage: crates/logai/eval_corpus.py [--bin PARSE_BINARY] [--min-sev X] [--max-fpe Y]

Every system's raw NAME.log goes through the parser (one resource, raw lines on stdin, one
configuration, as `redscope logai parse` runs) and is scored against NAME/truth.csv with
../shared/logai-eval/score.py: SEV on the lines that carry a level of their own, FPE on those
whose level is below WARN. Prints one row per system and the line-weighted and per-system
averages; with --min-sev/--max-fpe, exits 1 when the averages miss them.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "testdata", "corpus")
SCORER = os.path.join(ROOT, "..", "shared", "logai-eval", "score.py")


def build():
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "logai", "--example", "parse"],
                   cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "examples", "parse")


def systems():
    for name in sorted(os.listdir(CORPUS)):
        log = os.path.join(CORPUS, name, f"{name}.log")
        truth = os.path.join(CORPUS, name, "truth.csv")
        if os.path.isfile(log) and os.path.isfile(truth):
            yield name, log, truth


def score(binary, log, truth, out_dir):
    pred = os.path.join(out_dir, os.path.basename(log) + ".jsonl")
    with open(log, "rb") as src, open(pred, "wb") as dst:
        subprocess.run([binary], stdin=src, stdout=dst, check=True)
    result = subprocess.run([sys.executable, SCORER, "--truth", truth, "--pred", pred, "--json"],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin")
    ap.add_argument("--min-sev", type=float)
    ap.add_argument("--max-fpe", type=float)
    a = ap.parse_args()
    if not os.path.isfile(SCORER):
        sys.exit(f"no scorer at {SCORER}")
    binary = a.bin or build()
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for name, log, truth in systems():
            rows.append((name, score(binary, log, truth, out)))
    if not rows:
        sys.exit(f"no corpus systems under {CORPUS}")
    print(f"| {'system':<24} | {'lines':>5} | {'levels':>6} | {'SEV':>6} | {'FPE':>6} |")
    print(f"|{'-' * 26}|{'-' * 7}|{'-' * 8}|{'-' * 8}|{'-' * 8}|")
    weighted, lines, per_system, fpe_sum, fpe_lines = 0.0, 0, [], 0.0, 0
    for name, r in rows:
        n = r.get("severity_lines", 0)
        sev = f"{r['SEV']:.4f}" if n else "     -"
        fpe = f"{r['FPE']:.4f}" if n else "     -"
        print(f"| {name:<24} | {r['lines']:>5} | {n:>6} | {sev} | {fpe} |")
        if n:
            weighted += r["SEV"] * n
            lines += n
            per_system.append(r["SEV"])
            fpe_sum += r["FPE"] * n
            fpe_lines += n
    sev_avg, fpe_avg = weighted / lines, fpe_sum / fpe_lines
    print(f"\n{len(rows)} systems, {len(per_system)} with levels, {lines} lines with a level: "
          f"SEV {sev_avg:.4f} (per-system mean {sum(per_system) / len(per_system):.4f}), "
          f"FPE {fpe_avg:.4f}")
    failed = (a.min_sev is not None and sev_avg < a.min_sev) or (a.max_fpe is not None and fpe_avg > a.max_fpe)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
