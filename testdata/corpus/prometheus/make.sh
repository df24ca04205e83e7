#!/bin/bash
# Prometheus 2.42 and Alertmanager 0.25 (logfmt on stderr, --log.level=debug for Alertmanager), scraping itself and a dead
# target, an always-firing alert routed to Alertmanager whose webhook is dead; bad-config reloads; SIGTERM.
# Produces corpus/prometheus and corpus/alertmanager.
. "$(dirname "$0")/../tools/common.sh"
need prometheus prometheus-alertmanager curl
W=/tmp/corpus-prom; rm -rf $W; mkdir -p $W
cat > $W/am.yml <<CONF
route: { receiver: hook, group_wait: 1s, group_interval: 2s, repeat_interval: 5s }
receivers:
- name: hook
  webhook_configs: [ { url: "http://127.0.0.1:9/hook", send_resolved: true } ]
CONF
cat > $W/rules.yml <<CONF
groups:
- name: corpus
  interval: 2s
  rules:
  - alert: AlwaysFiring
    expr: vector(1)
    labels: { severity: page }
  - alert: TargetDown
    expr: up == 0
  - record: job:up:sum
    expr: sum by (job) (up)
CONF
cat > $W/prom.yml <<CONF
global: { scrape_interval: 2s, evaluation_interval: 2s }
rule_files: [ "$W/rules.yml" ]
alerting: { alertmanagers: [ { static_configs: [ { targets: [ "127.0.0.1:9393" ] } ] } ] }
scrape_configs:
- job_name: self
  static_configs: [ { targets: [ "127.0.0.1:9390" ] } ]
- job_name: dead
  static_configs: [ { targets: [ "127.0.0.1:9" ] } ]
- job_name: notmetrics
  metrics_path: /graph
  static_configs: [ { targets: [ "127.0.0.1:9390" ] } ]
CONF
prometheus --config.file=$W/prom.yml --storage.tsdb.path=$W/data --web.listen-address=127.0.0.1:9390 --web.enable-lifecycle --web.enable-admin-api --log.level=debug > $W/prometheus.log 2>&1 &
PP=$!
waitport 9390; sleep 6   # alertmanager is not up yet -> notifier errors
prometheus-alertmanager --config.file=$W/am.yml --storage.path=$W/am --web.listen-address=127.0.0.1:9393 --cluster.listen-address= --log.level=debug > $W/alertmanager.log 2>&1 &
AP=$!
waitport 9393; sleep 30
curl -s -o /dev/null "http://127.0.0.1:9390/api/v1/query?query=up"
curl -s -o /dev/null "http://127.0.0.1:9390/api/v1/query?query=sum(("
curl -s -o /dev/null -XPOST "http://127.0.0.1:9390/api/v1/admin/tsdb/snapshot"
curl -s -o /dev/null -H 'Content-Type: application/json' -XPOST -d '[{"labels":{"alertname":"Manual","severity":"low"}}]' http://127.0.0.1:9393/api/v2/alerts
curl -s -o /dev/null -H 'Content-Type: application/json' -XPOST -d 'not json' http://127.0.0.1:9393/api/v2/alerts
curl -s -o /dev/null -H 'Content-Type: application/json' -XPOST -d '{"matchers":[{"name":"alertname","value":"Manual","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"corpus","comment":"test"}' http://127.0.0.1:9393/api/v2/silences
# broken configs on reload, then good again
cp $W/rules.yml $W/rules.good; echo "    expr: sum((" >> $W/rules.yml
curl -s -o /dev/null -XPOST http://127.0.0.1:9390/-/reload; sleep 1
cp $W/rules.good $W/rules.yml; curl -s -o /dev/null -XPOST http://127.0.0.1:9390/-/reload; sleep 1
cp $W/am.yml $W/am.good; echo "bogus: [" >> $W/am.yml
curl -s -o /dev/null -XPOST http://127.0.0.1:9393/-/reload; sleep 1
cp $W/am.good $W/am.yml; kill -HUP $AP; sleep 4
kill -TERM $AP; wait $AP; sleep 3   # alertmanager gone again -> notifier errors
kill -TERM $PP; wait $PP
# second prometheus on a used port / bad flag value
prometheus --config.file=$W/nosuch.yml --storage.tsdb.path=$W/data2 --web.listen-address=127.0.0.1:9390 >> $W/prometheus.log 2>&1 || true
python3 "$TOOLS/servtruth.py" "$HERE/logfmt.py" $W/prometheus.log "$HERE" prometheus
python3 "$TOOLS/servtruth.py" "$HERE/logfmt.py" $W/alertmanager.log "$HERE/../alertmanager" alertmanager
