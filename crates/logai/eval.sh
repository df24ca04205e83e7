#!/usr/bin/env bash
# Scores Log AI on the ten Loghub-2k systems with ../shared/logai-eval/score.py.
# Usage: crates/logai/eval.sh [DATA_DIR]   (run from the workspace root or anywhere)
# SYSTEMS="A B ..." scores other systems laid out the same way (DATA_DIR/A/A_2k.log and
# DATA_DIR/A/A_2k.log_structured_corrected.csv), e.g. the six other Loghub-2k systems of
# logpai/logparser's data/loghub_2k_corrected (HPC Linux Mac OpenStack Proxifier Thunderbird).
# MODE=two-pass (default, what `redscope logai parse` prints), MODE=single-pass (one
# `LogAi::process` per line, in order, as at ingest: the ids stored with each record) or
# MODE=single-pass-canonical (single pass, ids mapped through `LogAi::canonical_id` at the end).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="${1:-$ROOT/../shared/data/loghub-2k}"
SCORER="$ROOT/../shared/logai-eval/score.py"
TARGET="${CARGO_TARGET_DIR:-/work/target-logai}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
MODE="${MODE:-two-pass}"
case "$MODE" in
  two-pass) EXAMPLE=parse; ARGS=() ;;
  single-pass) EXAMPLE=single_pass; ARGS=() ;;
  single-pass-canonical) EXAMPLE=single_pass; ARGS=(--canonical) ;;
  *) echo "unknown MODE $MODE" >&2; exit 2 ;;
esac
(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --quiet -j 1 --release -p logai --example "$EXAMPLE")
BIN="$TARGET/release/examples/$EXAMPLE"
SYSTEMS="${SYSTEMS:-Android Apache BGL HDFS Hadoop HealthApp OpenSSH Spark Windows Zookeeper}"
for system in $SYSTEMS; do
  "$BIN" "${ARGS[@]}" < "$DATA/$system/${system}_2k.log" > "$OUT/$system.jsonl"
  python3 "$SCORER" --truth "$DATA/$system/${system}_2k.log_structured_corrected.csv" \
    --pred "$OUT/$system.jsonl" --json > "$OUT/$system.score"
done
python3 - "$OUT" $SYSTEMS <<'PY'
import json, sys, os
out = sys.argv[1]
systems = sys.argv[2:]
rows = {s: json.load(open(os.path.join(out, s + ".score"))) for s in systems}
print(f"| {'system':<10} | {'GA':>6} | {'PA':>6} | {'FTA':>6} | {'SEV':>6} | {'FPE':>6} | groups (pred/true) |")
print(f"|{'-'*12}|{'-'*8}|{'-'*8}|{'-'*8}|{'-'*8}|{'-'*8}|{'-'*20}|")
def f(v):
    return f"{v:6.4f}" if v is not None else "     -"
for s in systems:
    r = rows[s]
    print(f"| {s:<10} | {f(r['GA'])} | {f(r['PA'])} | {f(r['FTA'])} | {f(r.get('SEV'))} | {f(r.get('FPE'))} | {r['pred_groups']:>8} / {r['true_groups']:<7} |")
avg = lambda k: sum(rows[s][k] for s in systems if k in rows[s]) / max(1, sum(1 for s in systems if k in rows[s]))
print(f"| {'average':<10} | {f(avg('GA'))} | {f(avg('PA'))} | {f(avg('FTA'))} | {f(avg('SEV'))} | {f(avg('FPE'))} |                    |")
PY
