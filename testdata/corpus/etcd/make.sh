#!/bin/bash
# etcd 3.4 single node; stderr captured. Default capnslog logger ("2026-12-01 20:00:00.123456 I | pkg: msg")
# -> corpus/etcd; the same drive with --logger=zap (JSON lines) -> corpus/etcd-zap.
. "$(dirname "$0")/../tools/common.sh"
need etcd-server etcd-client
run() { # $1 = logger flag, $2 = out name
  local W=/tmp/corpus-etcd-$2; rm -rf $W; mkdir -p $W
  local E="--name n1 --data-dir $W/data --listen-client-urls http://127.0.0.1:2399 --advertise-client-urls http://127.0.0.1:2399 --listen-peer-urls http://127.0.0.1:2398 --initial-advertise-peer-urls http://127.0.0.1:2398 --initial-cluster n1=http://127.0.0.1:2398 --auto-compaction-retention=1 --snapshot-count=50 $1"
  etcd $E > $W/etcd.log 2>&1 & local P=$!
  waitport 2399; sleep 2
  local C="etcdctl --endpoints=http://127.0.0.1:2399 --dial-timeout=2s --command-timeout=3s"
  for i in $(seq 1 80); do $C put /app/k$((i%20)) v$i >/dev/null; done
  $C get --prefix /app >/dev/null; $C del /app/k1 >/dev/null
  $C compact 10 >/dev/null 2>&1; $C compact 5 >/dev/null 2>&1
  $C defrag >/dev/null 2>&1; $C snapshot save $W/snap.db >/dev/null 2>&1
  $C user add root:rootpw >/dev/null 2>&1; $C auth enable >/dev/null 2>&1
  $C put /x y >/dev/null 2>&1; $C --user root:wrong put /x y >/dev/null 2>&1; $C --user root:rootpw put /x y >/dev/null 2>&1
  $C --user root:rootpw auth disable >/dev/null 2>&1
  $C lease grant 1 >/dev/null 2>&1; sleep 3
  $C put "" v >/dev/null 2>&1; $C get /nokey --rev=99999 >/dev/null 2>&1
  curl -s -o /dev/null http://127.0.0.1:2399/v2/keys/foo; curl -s -o /dev/null -XPOST -d 'garbage' http://127.0.0.1:2399/v3/kv/put
  kill -TERM $P; wait $P
  # restart on existing data (replays WAL), then a second instance on busy ports
  etcd $E >> $W/etcd.log 2>&1 & P=$!; waitport 2399; sleep 2
  timeout 10 etcd --name n2 --data-dir $W/data2 --listen-client-urls http://127.0.0.1:2399 --advertise-client-urls http://127.0.0.1:2399 --listen-peer-urls http://127.0.0.1:2397 --initial-advertise-peer-urls http://127.0.0.1:2397 --initial-cluster n2=http://127.0.0.1:2397 $1 >> $W/etcd.log 2>&1
  kill -INT $P; wait $P
  python3 "$TOOLS/servtruth.py" "$HERE/etcd.py" $W/etcd.log "$HERE/../$2" $2
}
run "" etcd
run "--logger=zap" etcd-zap
