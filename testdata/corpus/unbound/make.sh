#!/bin/bash
# Unbound 1.17 logfile (verbosity 2 then 4 via unbound-control, log-queries/replies), no upstream internet:
# local-data zone answers, forwards to a dead server (SERVFAIL), bad control commands, reload, stop.
. "$(dirname "$0")/../tools/common.sh"
need unbound bind9-dnsutils netcat-openbsd
W=/tmp/corpus-unbound; rm -rf $W; mkdir -p $W; chown unbound $W
unbound-control-setup -d $W >/dev/null 2>&1
chown unbound $W/*
cat > $W/unbound.conf <<CONF
server:
  interface: 127.0.0.1
  port: 5398
  do-ip6: no
  username: "unbound"
  directory: "$W"
  chroot: ""
  pidfile: "$W/unbound.pid"
  logfile: "$W/unbound.log"
  use-syslog: no
  log-time-ascii: yes
  verbosity: 2
  log-queries: yes
  log-replies: yes
  log-servfail: yes
  log-local-actions: yes
  access-control: 127.0.0.0/8 allow
  access-control: 127.0.0.2/32 refuse
  local-zone: "corpus.test." static
  local-data: "www.corpus.test. IN A 192.0.2.10"
  local-data: "corpus.test. IN MX 10 mail.corpus.test."
  local-zone: "ads.test." always_nxdomain
  auto-trust-anchor-file: ""
  module-config: "iterator"
remote-control:
  control-enable: yes
  control-interface: 127.0.0.1
  control-port: 9954
  server-key-file: "$W/unbound_server.key"
  server-cert-file: "$W/unbound_server.pem"
  control-key-file: "$W/unbound_control.key"
  control-cert-file: "$W/unbound_control.pem"
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@9
CONF
unbound -d -c $W/unbound.conf >/dev/null 2>&1 &
UP=$!
waitport 5398; sleep 1
C="unbound-control -c $W/unbound.conf"
d() { dig @127.0.0.1 -p 5398 +tries=1 +time=3 "$@" >/dev/null 2>&1 || true; }
d www.corpus.test; d corpus.test MX; d nosuch.corpus.test; d tracker.ads.test; d example.org; d -b 127.0.0.2 www.corpus.test
d www.corpus.test +tcp; d . NS
printf 'garbage!' | nc -u -q1 127.0.0.1 5398 >/dev/null
$C verbosity 4 >/dev/null; d www.corpus.test; d example.net; $C verbosity 2 >/dev/null
$C local_data "new.corpus.test. IN A 192.0.2.99" >/dev/null; d new.corpus.test
$C no_such_command >/dev/null 2>&1
$C flush_zone corpus.test >/dev/null; $C stats_noreset >/dev/null
$C reload >/dev/null; sleep 1; d www.corpus.test
$C stop >/dev/null; wait $UP
# start once more with a config error inside the file it must read
sed -i 's/^  verbosity: 2/  verbosity: 2\n  num-threads: many/' $W/unbound.conf
unbound -d -c $W/unbound.conf >>$W/unbound.log 2>&1 || true
finish "$HERE/unbound.py" $W/unbound.log unbound
