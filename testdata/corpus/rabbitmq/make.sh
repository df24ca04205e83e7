#!/bin/bash
# RabbitMQ 3.10 (Erlang) node log file (RABBITMQ_LOGS), management plugin on 127.0.0.1:15699 driven with curl
# (good/bad credentials, queue declare/publish), rabbitmqctl user/vhost ops, raw garbage on the AMQP port, stop.
. "$(dirname "$0")/../tools/common.sh"
need rabbitmq-server curl netcat-openbsd
W=/tmp/corpus-rabbit; rm -rf $W; mkdir -p $W; chown rabbitmq $W
cat > $W/rabbitmq.conf <<CONF
listeners.tcp.default = 127.0.0.1:5699
management.tcp.port = 15699
management.tcp.ip = 127.0.0.1
log.file.level = debug
log.console = false
loopback_users.guest = true
CONF
echo "[rabbitmq_management]." > $W/enabled_plugins
cat > $W/env <<ENV
export RABBITMQ_NODENAME=corpus@localhost
export RABBITMQ_CONFIG_FILE=$W/rabbitmq.conf
export RABBITMQ_ENABLED_PLUGINS_FILE=$W/enabled_plugins
export RABBITMQ_MNESIA_BASE=$W/mnesia
export RABBITMQ_LOG_BASE=$W
export RABBITMQ_LOGS=$W/rabbit.log
export RABBITMQ_PID_FILE=$W/pid
export RABBITMQ_DIST_PORT=25699
export ERL_EPMD_PORT=4399
export HOME=/var/lib/rabbitmq
ENV
chown rabbitmq $W/*
RQ="su -s /bin/bash rabbitmq -c"
$RQ ". $W/env; rabbitmq-server >/dev/null 2>&1 &"
$RQ ". $W/env; timeout 120 rabbitmqctl wait --timeout 100 $W/pid" >/dev/null 2>&1
sleep 2
timeout 120 $RQ ". $W/env; rabbitmqctl add_user app apppw; rabbitmqctl set_user_tags app administrator; rabbitmqctl add_vhost shop; rabbitmqctl set_permissions -p shop app '.*' '.*' '.*'; rabbitmqctl delete_user nosuch; rabbitmqctl authenticate_user app wrong" >/dev/null 2>&1
M=http://127.0.0.1:15699/api
curl -s -o /dev/null -u app:apppw $M/overview
curl -s -o /dev/null -u app:wrong $M/overview
curl -s -o /dev/null -u guest:guest $M/overview
curl -s -o /dev/null -u app:apppw -XPUT -H 'content-type: application/json' -d '{"durable":true}' $M/queues/shop/orders
curl -s -o /dev/null -u app:apppw -XPOST -H 'content-type: application/json' -d '{"properties":{},"routing_key":"orders","payload":"hello","payload_encoding":"string"}' $M/exchanges/shop/amq.default/publish
curl -s -o /dev/null -u app:apppw -XPUT -H 'content-type: application/json' -d '{"durable":false}' $M/queues/shop/orders
curl -s -o /dev/null -u app:apppw -XPUT -H 'content-type: application/json' -d 'not json' $M/queues/shop/bad
curl -s -o /dev/null -u app:apppw $M/queues/nosuchvhost/x
printf 'GET / HTTP/1.0\r\n\r\n' | nc -q2 127.0.0.1 5699 >/dev/null
printf 'AMQP\x00\x00\x09\x01' | nc -q2 127.0.0.1 5699 >/dev/null
printf 'AMQP\x00\x00\x00\x00' | nc -q2 127.0.0.1 5699 >/dev/null
timeout 120 $RQ ". $W/env; rabbitmqctl delete_vhost shop; rabbitmqctl stop_app; rabbitmqctl start_app; rabbitmqctl stop $W/pid" >/dev/null 2>&1
sleep 2
finish "$HERE/rabbitmq.py" $W/rabbit.log rabbitmq
