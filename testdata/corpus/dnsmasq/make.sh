#!/bin/bash
# dnsmasq 2.90 --log-facility=FILE --log-queries=extra, local hosts + dead upstream, SIGHUP reload, SIGUSR1 stats.
. "$(dirname "$0")/../tools/common.sh"
need dnsmasq-base bind9-dnsutils netcat-openbsd
W=/tmp/corpus-dnsmasq; rm -rf $W; mkdir -p $W
printf '192.0.2.10 www.corpus.test www\n192.0.2.25 mail.corpus.test\n' > $W/hosts
LOG=$W/dnsmasq.log
dnsmasq -k --conf-file=/dev/null --port=5397 --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
  --addn-hosts=$W/hosts --server=127.0.0.1#9 --server=/local.test/127.0.0.1#8 --address=/blocked.test/0.0.0.0 \
  --log-queries=extra --log-facility=$LOG --log-async=0 --cache-size=50 --pid-file=$W/pid --user=root \
  --mx-host=corpus.test,mail.corpus.test,10 --txt-record=txt.corpus.test,"hello corpus" --dns-forward-max=10 &
DP=$!
waitport 5397 2>/dev/null || sleep 2
d() { dig @127.0.0.1 -p 5397 +tries=1 +time=2 "$@" >/dev/null 2>&1 || true; }
for n in www.corpus.test mail.corpus.test www corpus.test txt.corpus.test x.blocked.test example.org host.local.test; do d $n; done
d corpus.test MX; d txt.corpus.test TXT; d -x 192.0.2.10; d www.corpus.test AAAA; d www.corpus.test +tcp
for i in $(seq 1 12); do d www.corpus.test; d n$i.example.com; done
printf 'bad packet' | nc -u -q1 127.0.0.1 5397 >/dev/null
echo "192.0.2.99 new.corpus.test" >> $W/hosts
kill -HUP $DP; sleep 1; d new.corpus.test
kill -USR1 $DP; sleep 1
kill -TERM $DP; wait $DP
# start with a bad option value, then a short run with an unreadable hosts file
dnsmasq -k --conf-file=/dev/null --port=5397 --cache-size=lots --log-facility=$LOG 2>/dev/null || true
timeout 3 dnsmasq -k --conf-file=/dev/null --no-resolv --port=5397 --listen-address=127.0.0.1 --bind-interfaces --no-hosts --addn-hosts=$W/nonexistent --log-facility=$LOG 2>/dev/null || true
finish none $LOG dnsmasq
