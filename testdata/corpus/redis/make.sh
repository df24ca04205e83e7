#!/bin/bash
# redis-server log file (loglevel verbose, debug for a while), driven with redis-cli and raw nc.
. "$(dirname "$0")/../tools/common.sh"
need redis-server redis-tools netcat-openbsd
W=/tmp/corpus-redis; rm -rf $W; mkdir -p $W
LOG=$W/redis.log
cat > $W/redis.conf <<CONF
bind 127.0.0.1
port 6399
dir $W
logfile $LOG
loglevel verbose
requirepass s3cret
save 5 10
maxclients 20
enable-debug-command yes
maxmemory 2mb
maxmemory-policy noeviction
CONF
redis-server $W/redis.conf --daemonize yes --pidfile $W/pid
waitport 6399
r() { redis-cli -p 6399 -a s3cret --no-auth-warning "$@" >/dev/null 2>&1 || true; }
redis-cli -p 6399 -a wrong --no-auth-warning ping >/dev/null 2>&1
for i in $(seq 1 50); do r set key:$i value$i; done
r config set loglevel debug
for i in $(seq 1 20); do r get key:$i; done
r bgsave; sleep 2
r debug populate 20000 big 64
sleep 7
r bgrewriteaof; sleep 2
r config set loglevel verbose
# protocol errors
printf 'GARBAGE\r\n*1\r\n$x\r\n' | nc -q1 127.0.0.1 6399 >/dev/null 2>&1
printf '*3\r\n$3\r\nSET\r\n$1\r\n' | nc -q1 127.0.0.1 6399 >/dev/null 2>&1
printf 'POST / HTTP/1.1\r\nHost: x\r\n\r\n' | nc -q1 127.0.0.1 6399 >/dev/null 2>&1
printf '*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n*1\r\n$99999999999\r\n' | nc -q1 127.0.0.1 6399 >/dev/null 2>&1
# too many clients
for i in $(seq 1 25); do (sleep 3 | timeout 5 nc -q0 127.0.0.1 6399 >/dev/null 2>&1 &) ; done; sleep 6
r config set maxmemory 1mb
r set overflow "$(head -c 1000 /dev/zero | tr '\0' x)"
r config set maxmemory 0
r config set save "1 1"
r config rewrite
r debug sleep 0
r flushall
redis-cli -p 6399 -a s3cret --no-auth-warning shutdown; sleep 2
# start with broken config, then normal, then SIGTERM
echo "bogus-directive yes" >> $W/redis.conf
redis-server $W/redis.conf >/dev/null 2>&1
sed -i '$d' $W/redis.conf
cat $W/redis.conf | grep -q logfile || true
# error for broken config goes to stderr; normal restart
redis-server $W/redis.conf --daemonize yes --pidfile $W/pid; waitport 6399
r set a b; sleep 2
kill -TERM $(cat $W/pid); sleep 2
finish redis $LOG redis
