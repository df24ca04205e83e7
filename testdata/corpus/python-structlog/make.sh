#!/bin/bash
# Reproduce python-structlog.log: structlog's default-style processor chain with ConsoleRenderer(colors=False).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q python3 python3-venv >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
if [ -n "${VENV:-}" ]; then ln -s "$VENV" "$W/venv"; else python3 -m venv "$W/venv"; fi
"$W/venv/bin/pip" install -q structlog==26.1.0
"$W/venv/bin/python" "$HERE/app.py" console > "$W/raw.log" 2>&1
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" structlog-console "$HERE/$NAME.log" "$HERE/truth.csv"
