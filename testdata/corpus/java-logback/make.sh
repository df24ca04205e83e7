#!/bin/bash
# Reproduce java-logback.log: SLF4J 1.7.32 + Logback 1.2.11 (Debian) with no logback.xml: BasicConfigurator's console output (TTLLLayout), DEBUG level; 'Caused by' and '... N common frames omitted'.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q --no-install-recommends default-jdk-headless python3 liblogback-java libslf4j-java >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
CP="/usr/share/java/slf4j-api.jar:/usr/share/java/logback-classic.jar:/usr/share/java/logback-core.jar"
javac -d "$W/classes" -cp "$CP" "$HERE/Service.java" "$HERE/LogbackApp.java"
(cd "$HERE" && java -cp "$W/classes:$CP"  LogbackApp) > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" java-pattern "$HERE/$NAME.log" "$HERE/truth.csv"
