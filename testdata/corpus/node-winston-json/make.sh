#!/bin/bash
# Reproduce node-winston-json.log: winston 3 createLogger with format.combine(errors({stack:true}), timestamp(), json()) and npm levels incl. http/verbose/silly.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q nodejs npm python3 >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cd "$W"; npm init -y >/dev/null; npm install --silent --no-audit --no-fund express@5.3.0 winston@3.19.0 >/dev/null
cp "$HERE/app.js" "$W/app.js"
node app.js json > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" json-level "$HERE/$NAME.log" "$HERE/truth.csv"
