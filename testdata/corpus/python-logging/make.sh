#!/bin/bash
# Reproduce python-logging.log: stdlib logging with logging.basicConfig()'s
# default format "%(levelname)s:%(name)s:%(message)s" (plus urllib3's own logs).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q python3 python3-venv >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
if [ -n "${VENV:-}" ]; then ln -s "$VENV" "$W/venv"; else python3 -m venv "$W/venv"; fi
"$W/venv/bin/pip" install -q requests==2.34.2 urllib3==2.8.0
"$W/venv/bin/python" "$HERE/app.py" > "$W/raw.log" 2>&1
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" python-default "$HERE/$NAME.log" "$HERE/truth.csv"
