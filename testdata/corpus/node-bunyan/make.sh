#!/bin/bash
# Reproduce node-bunyan.log: bunyan's default JSON records (v:0, numeric levels, req/res/err std serializers) from an express cart API.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q nodejs npm python3 >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cd "$W"; npm init -y >/dev/null; npm install --silent --no-audit --no-fund express@5.3.0 bunyan@2.0.5 >/dev/null
cp "$HERE/app.js" "$W/app.js"
node app.js  > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" json-level-numeric "$HERE/$NAME.log" "$HERE/truth.csv"
