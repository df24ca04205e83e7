#!/bin/bash
# Reproduce node-winston-simple.log: winston 3 format.simple(): 'level: message {meta}', stacks follow on extra lines.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q nodejs npm python3 >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cd "$W"; npm init -y >/dev/null; npm install --silent --no-audit --no-fund express@5.3.0 winston@3.19.0 >/dev/null
cp "$HERE/app.js" "$W/app.js"
node app.js simple > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" winston-simple "$HERE/$NAME.log" "$HERE/truth.csv"
