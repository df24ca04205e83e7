#!/bin/bash
# PostgreSQL server log (stderr, default log_line_prefix '%m [%p] ') driven with psql.
. "$(dirname "$0")/../tools/common.sh"
need postgresql postgresql-client
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=/tmp/corpus-pg; rm -rf $W; mkdir -p $W; chown postgres $W
LOG=$W/server.log
su postgres -c "$BIN/initdb -D $W/data -A scram-sha-256 --pwfile=<(echo secretpw) -U postgres" >/dev/null
cat >> $W/data/postgresql.conf <<CONF
listen_addresses = '127.0.0.1'
port = 5499
unix_socket_directories = '$W'
log_connections = on
log_disconnections = on
log_checkpoints = on
log_lock_waits = on
log_min_duration_statement = 200
log_temp_files = 0
log_autovacuum_min_duration = 0
deadlock_timeout = 300ms
CONF
PG="su postgres -c"
$PG "$BIN/pg_ctl -D $W/data -l $LOG -w start" >/dev/null
export PGPASSWORD=secretpw
q() { PGPASSWORD=${PW:-secretpw} psql -h 127.0.0.1 -p 5499 -U ${U:-postgres} ${DB:-postgres} -X -q -c "$1" >/dev/null 2>&1 || true; }
q "CREATE DATABASE shop"
DB=shop q "CREATE TABLE items(id serial primary key, name text unique not null, price numeric check (price > 0))"
DB=shop q "INSERT INTO items(name,price) SELECT 'item'||g, g FROM generate_series(1,5000) g"
DB=shop q "INSERT INTO items(name,price) VALUES ('item1', 3)"
DB=shop q "INSERT INTO items(name,price) VALUES ('neg', -1)"
DB=shop q "SELEC * FROM items"
DB=shop q "SELECT * FROM nosuchtable"
DB=shop q "SELECT 1/0"
DB=shop q "SELECT pg_sleep(0.3)"
DB=shop q "SET work_mem='64kB'; SELECT name FROM items ORDER BY md5(name) LIMIT 3"
PGOPTIONS='-c log_min_messages=debug2' DB=shop q "VACUUM ANALYZE items"
PGOPTIONS='-c log_min_messages=debug1' DB=shop q "CREATE INDEX ON items(price)"
DB=shop q "DO \$\$BEGIN RAISE WARNING 'custom warning from plpgsql'; RAISE NOTICE 'notice %', 42; END\$\$"
DB=shop q "DO \$\$BEGIN RAISE EXCEPTION 'custom failure' USING HINT = 'check the input', DETAIL = 'value was 7'; END\$\$"
DB=shop q "CREATE ROLE app LOGIN PASSWORD 'apppw'"
U=app PW=wrong DB=shop q "SELECT 1"
U=app PW=apppw DB=shop q "DROP TABLE items"
U=nobody PW=x q "SELECT 1"
DB=nosuchdb q "SELECT 1"
DB=shop q "CHECKPOINT"
# lock wait + deadlock
DB=shop q "CREATE TABLE acc(id int primary key, v int); INSERT INTO acc VALUES (1,0),(2,0)"
( DB=shop q "BEGIN; UPDATE acc SET v=v+1 WHERE id=1; SELECT pg_sleep(1); UPDATE acc SET v=v+1 WHERE id=2; COMMIT" ) &
sleep 0.3
DB=shop q "BEGIN; UPDATE acc SET v=v+1 WHERE id=2; SELECT pg_sleep(0.2); UPDATE acc SET v=v+1 WHERE id=1; COMMIT"
wait
# malformed protocol traffic
printf 'GET / HTTP/1.0\r\n\r\n' | nc -q1 127.0.0.1 5499 >/dev/null 2>&1 || true
printf '\x00\x00\x00\x08\x04\xd2\x16\x2f' | nc -q1 127.0.0.1 5499 >/dev/null 2>&1 || true
# reload with a bad and then good setting
echo "work_mem = 'lots'" >> $W/data/postgresql.conf
$PG "$BIN/pg_ctl -D $W/data reload" >/dev/null; sleep 1
sed -i '$d' $W/data/postgresql.conf
echo "log_min_duration_statement = 100" >> $W/data/postgresql.conf
$PG "$BIN/pg_ctl -D $W/data reload" >/dev/null; sleep 1
$PG "$BIN/pg_ctl -D $W/data -l $LOG -w restart -m fast" >/dev/null
DB=shop q "SELECT count(*) FROM acc"
$PG "$BIN/pg_ctl -D $W/data -w stop -m immediate" >/dev/null
$PG "$BIN/pg_ctl -D $W/data -l $LOG -w start" >/dev/null
DB=shop q "SELECT 1"
$PG "$BIN/pg_ctl -D $W/data -w stop -m smart" >/dev/null
finish postgresql $LOG postgresql
