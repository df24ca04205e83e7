#!/bin/bash
# Reproduce node-express-morgan.log: morgan('combined') access log plus the app's console.log/warn/error output (util.inspect objects and Error stacks), Node's DEP0005 warning and an uncaught TypeError report.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q nodejs npm python3 >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
cd "$W"; npm init -y >/dev/null; npm install --silent --no-audit --no-fund express@5.3.0 morgan@1.12.1 >/dev/null
cp "$HERE/app.js" "$W/app.js"
node app.js  > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" none "$HERE/$NAME.log" "$HERE/truth.csv"
