#!/bin/bash
# PgBouncer 1.18 logfile (verbose=0) in front of a throw-away PostgreSQL; driven with psql: good/bad passwords, unknown db,
# pool exhaustion, admin console (SHOW/RELOAD/PAUSE/RESUME/bad command), backend restart, SIGINT shutdown.
. "$(dirname "$0")/../tools/common.sh"
need postgresql postgresql-client pgbouncer
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=/tmp/corpus-pgb; rm -rf $W; mkdir -p $W; chown postgres $W
su postgres -c "$BIN/initdb -D $W/data -A scram-sha-256 --pwfile=<(echo pgpw) -U postgres" >/dev/null
printf "listen_addresses='127.0.0.1'\nport=5498\nunix_socket_directories='$W'\n" >> $W/data/postgresql.conf
su postgres -c "$BIN/pg_ctl -D $W/data -l $W/pg.log -w start" >/dev/null
PGPASSWORD=pgpw psql -h 127.0.0.1 -p 5498 -U postgres -Xq -c "CREATE ROLE app LOGIN PASSWORD 'apppw'" -c "CREATE DATABASE shop OWNER app" >/dev/null
cat > $W/pgbouncer.ini <<CONF
[databases]
shop = host=127.0.0.1 port=5498 dbname=shop
ghost = host=127.0.0.1 port=5498 dbname=ghost
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6498
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $W/userlist.txt
logfile = $W/pgbouncer.log
pidfile = $W/pgbouncer.pid
admin_users = admin
pool_mode = transaction
default_pool_size = 2
max_client_conn = 6
reserve_pool_size = 0
verbose = 0
stats_period = 5
CONF
printf '"app" "apppw"\n"admin" "adminpw"\n' > $W/userlist.txt
chown postgres $W/*
su postgres -c "pgbouncer -d $W/pgbouncer.ini"
waitport 6498
q() { PGPASSWORD=${PW:-apppw} psql -h 127.0.0.1 -p 6498 -U ${U:-app} ${DB:-shop} -Xqc "$1" >/dev/null 2>&1 || true; }
q "SELECT 1"; q "CREATE TABLE t(x int)"; q "INSERT INTO t VALUES (1)"; q "SELEC 1"
PW=wrong q "SELECT 1"; U=nobody PW=x q "SELECT 1"; DB=nosuchdb q "SELECT 1"; DB=ghost q "SELECT 1"
for i in $(seq 1 8); do (timeout 20 psql "host=127.0.0.1 port=6498 user=app dbname=shop password=apppw connect_timeout=5" -Xqc "SELECT pg_sleep(2)" >/dev/null 2>&1 &) ; done; sleep 12
sleep 6
A() { PGPASSWORD=adminpw psql -h 127.0.0.1 -p 6498 -U admin pgbouncer -Xqc "$1" >/dev/null 2>&1 || true; }
A "SHOW POOLS"; A "SHOW NOSUCHTHING"; A "PAUSE shop"; A "RESUME shop"; A "KILL shop"; A "RESUME shop"; A "RELOAD"
printf 'GET / HTTP/1.0\r\n\r\n' | nc -q1 127.0.0.1 6498 >/dev/null
su postgres -c "$BIN/pg_ctl -D $W/data -w stop -m fast" >/dev/null
q "SELECT 1"
su postgres -c "$BIN/pg_ctl -D $W/data -l $W/pg.log -w start" >/dev/null
sleep 2; q "SELECT 1"
kill -HUP $(cat $W/pgbouncer.pid); sleep 1
kill -INT $(cat $W/pgbouncer.pid); sleep 2
su postgres -c "$BIN/pg_ctl -D $W/data -w stop -m fast" >/dev/null
finish "$HERE/pgbouncer.py" $W/pgbouncer.log pgbouncer
