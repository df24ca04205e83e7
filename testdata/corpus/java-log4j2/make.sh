#!/bin/bash
# Reproduce java-log4j2.log: Log4j 2.19 (Debian liblog4j2-java), Console appender with PatternLayout '%d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg%n', root level trace; stack traces with Log4j's ~[jar:?] packaging data.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); NAME=$(basename "$HERE")
[ -n "${SKIP_APT:-}" ] || apt-get install -y -q --no-install-recommends default-jdk-headless python3 liblog4j2-java >/dev/null
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
CP="/usr/share/java/log4j-api.jar:/usr/share/java/log4j-core.jar"
javac -d "$W/classes" -cp "$CP" "$HERE/Service.java" "$HERE/Log4jApp.java"
(cd "$HERE" && java -cp "$W/classes:$CP" -Dlog4j2.configurationFile=log4j2.xml Log4jApp) > "$W/raw.log" 2>&1 || true
head -n 2000 "$W/raw.log" > "$HERE/$NAME.log"
python3 "$HERE/../tools/applog_truth.py" java-pattern "$HERE/$NAME.log" "$HERE/truth.csv"
