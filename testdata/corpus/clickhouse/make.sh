#!/bin/bash
# ClickHouse 18.16 (Debian) clickhouse-server.log at logger level "debug" (first run) / "information",
# driven with clickhouse-client: DDL, inserts, selects, bad SQL, unknown tables, wrong password; SIGTERM; restart.
. "$(dirname "$0")/../tools/common.sh"
need clickhouse-server clickhouse-client
W=/tmp/corpus-clickhouse; rm -rf $W; mkdir -p $W/data/tmp $W/data/user_files $W/data/format_schemas; chown -R clickhouse $W
sed -e "s|<level>warning</level>|<level>debug</level>|" \
    -e "s|/var/log/clickhouse-server/clickhouse-server.log|$W/clickhouse-server.log|" \
    -e "s|/var/log/clickhouse-server/clickhouse-server.err.log|$W/clickhouse-server.err.log|" \
    -e "s|<http_port>8123</http_port>|<http_port>8399</http_port>|" -e "s|<tcp_port>9000</tcp_port>|<tcp_port>9399</tcp_port>|" \
    -e "s|<interserver_http_port>9009</interserver_http_port>|<interserver_http_port>9398</interserver_http_port>|" \
    -e "s|<listen_host>::1</listen_host>||" \
    -e "s|/var/lib/clickhouse/|$W/data/|g" /etc/clickhouse-server/config.xml > $W/config.xml
sed -e 's|<password></password>|<password>chpw</password>|' /etc/clickhouse-server/users.xml > $W/users.xml
sed -i "s|<users_config>users.xml</users_config>|<users_config>$W/users.xml</users_config>|" $W/config.xml
start() { su -s /bin/sh clickhouse -c "cd $W && clickhouse-server --config-file=$W/config.xml" >/dev/null 2>&1 & sleep 1; for i in $(seq 60); do (echo > /dev/tcp/127.0.0.1/9399) 2>/dev/null && break; sleep 0.5; done; }
start
q() { clickhouse-client --port 9399 --password ${PW:-chpw} -q "$1" >/dev/null 2>&1 || true; }
q "CREATE DATABASE shop"
q "CREATE TABLE shop.events (d Date, id UInt32, name String) ENGINE = MergeTree(d, id, 8192)"
for i in $(seq 1 8); do q "INSERT INTO shop.events SELECT today(), number, toString(number) FROM system.numbers LIMIT $((i*1000))"; done
q "SELECT count(), uniq(name) FROM shop.events"
q "OPTIMIZE TABLE shop.events FINAL"
q "SELEC 1"; q "SELECT * FROM shop.nosuch"; q "SELECT nosuchfunc(1)"; q "SELECT 1/0, toUInt8('x')"
q "INSERT INTO shop.events VALUES ('notadate', 1, 'x')"
PW=wrong q "SELECT 1"
curl -s -o /dev/null "http://127.0.0.1:8399/?query=SELECT%201&password=chpw"; curl -s -o /dev/null "http://127.0.0.1:8399/?query=SELEC"
q "DROP TABLE shop.events"; q "DROP DATABASE shop"
pkill -TERM -u clickhouse -x clickhouse-serv 2>/dev/null || kill -TERM $(pgrep -u clickhouse clickhouse) ; sleep 3
sed -i "s|<level>debug</level>|<level>information</level>|" $W/config.xml
start
q "SELECT version()"; q "SELECT * FROM system.nosuch"
kill -TERM $(pgrep -u clickhouse clickhouse); sleep 3
finish "$HERE/clickhouse.py" $W/clickhouse-server.log clickhouse
