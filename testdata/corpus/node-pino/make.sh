#!/bin/bash
# Reproduce node-pino.log: pino's default JSON lines (numeric levels 10-60, err serializer with stack in one JSON string) from an express cart API exercising itself.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q nodejs npm python3 >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cd "$W"; npm init -y >/dev/null; npm install --silent --no-audit --no-fund express@5.3.0 pino@10.4.0 >/dev/null
cp "$HERE/app.js" "$W/app.js"
node app.js  > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" json-level-numeric "$HERE/$NAME.log" "$HERE/truth.csv"
