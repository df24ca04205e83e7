#!/bin/bash
# Apache ZooKeeper 3.8 (Debian) standalone, log4j ROLLINGFILE (pattern "%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n"),
# root logger INFO; driven with zkCli.sh (create/get/set/delete, bad paths), four-letter words via nc, garbage, SIGTERM.
. "$(dirname "$0")/../tools/common.sh"
need zookeeper netcat-openbsd
W=/tmp/corpus-zk; rm -rf $W; mkdir -p $W/conf $W/data
cp /etc/zookeeper/conf/log4j.properties $W/conf/
printf 'tickTime=2000\ndataDir=%s/data\nclientPort=2199\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=stat,ruok,mntr,srvr\nmaxClientCnxns=5\n' $W > $W/conf/zoo.cfg
CP="$W/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"
start() { java -cp "$CP" -Dzookeeper.log.dir=$W -Dzookeeper.root.logger=INFO,ROLLINGFILE org.apache.zookeeper.server.quorum.QuorumPeerMain $W/conf/zoo.cfg >/dev/null 2>&1 & ZP=$!; waitport 2199; sleep 1; }
start
ZK="/usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:2199"
export ZOO_LOG_DIR=$W/cli ZOO_LOG4J_PROP=WARN,CONSOLE
timeout 60 $ZK >/dev/null 2>&1 <<CMDS
create /app data1
create /app/cfg v1
create /app dup
get /app/cfg
set /app/cfg v2
set /app/cfg v3 99
create -e /app/eph x
create -s /app/seq- x
get /nosuch
delete /app
ls /app
delete /app/cfg
quit
CMDS
for w in ruok stat mntr srvr conf dump kill; do echo $w | nc -q1 127.0.0.1 2199 >/dev/null; done
printf 'GET / HTTP/1.0\r\n\r\n' | nc -q1 127.0.0.1 2199 >/dev/null
printf '\x00\x00\x00\x2c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' | nc -q1 127.0.0.1 2199 >/dev/null
for i in 1 2 3 4 5 6 7; do (echo ruok; sleep 3) | nc -q0 127.0.0.1 2199 >/dev/null & done; sleep 1
printf '\x00\x00\x00\x2c' | nc -q1 127.0.0.1 2199 >/dev/null; sleep 4
kill -TERM $ZP; wait $ZP
start
timeout 30 $ZK ls / >/dev/null 2>&1
kill -TERM $ZP; wait $ZP
finish "$HERE/zookeeper.py" $W/zookeeper.log zookeeper
