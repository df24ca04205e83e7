#!/bin/bash
# Reproduce java-jul.log: java.util.logging ConsoleHandler + SimpleFormatter default two-line format ('date time class method' / 'LEVEL: msg'), levels lowered to ALL via logging.properties.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q --no-install-recommends default-jdk-headless python3  >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
CP=""
javac -d "$W/classes" -cp "$CP" "$HERE/Service.java" "$HERE/JulApp.java"
(cd "$HERE" && java -cp "$W/classes:$CP" -Djava.util.logging.config.file=logging.properties JulApp) > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" java-jul "$HERE/$NAME.log" "$HERE/truth.csv"
