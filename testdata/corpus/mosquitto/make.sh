#!/bin/bash
# Mosquitto 2.0 broker log (log_type all, default epoch timestamps), driven with mosquitto_pub/sub and bad clients.
. "$(dirname "$0")/../tools/common.sh"
need mosquitto mosquitto-clients netcat-openbsd
W=/tmp/corpus-mosquitto; rm -rf $W; mkdir -p $W; chown mosquitto $W
mosquitto_passwd -c -b $W/passwd alice wonderland
chown mosquitto $W/passwd; chmod 600 $W/passwd
printf 'user alice\ntopic readwrite sensors/#\ntopic read $SYS/#\n' > $W/acl
cat > $W/mosquitto.conf <<CONF
user mosquitto
pid_file $W/pid
persistence true
persistence_location $W/
log_dest file $W/mosquitto.log
log_type all
connection_messages true
listener 1899 127.0.0.1
allow_anonymous false
password_file $W/passwd
acl_file $W/acl
max_keepalive 60
message_size_limit 1000
CONF
mosquitto -c $W/mosquitto.conf -d
waitport 1899
P="-h 127.0.0.1 -p 1899"
mosquitto_sub $P -u alice -P wonderland -t 'sensors/#' -C 12 -W 20 -i sub1 >/dev/null 2>&1 &
sleep 1
for i in $(seq 1 10); do mosquitto_pub $P -u alice -P wonderland -t sensors/t$i -m "v=$i" -q $((i%3)) -i pub$i; done
mosquitto_pub $P -u alice -P wrong -t sensors/x -m x 2>/dev/null
mosquitto_pub $P -u mallory -P x -t sensors/x -m x 2>/dev/null
mosquitto_pub $P -t sensors/x -m anon 2>/dev/null
mosquitto_pub $P -u alice -P wonderland -t forbidden/topic -m x
mosquitto_pub $P -u alice -P wonderland -t sensors/big -m "$(head -c 2000 /dev/zero | tr '\0' z)"
mosquitto_pub $P -u alice -P wonderland -t sensors/retained -m keep -r
mosquitto_sub $P -u alice -P wonderland -t 'sensors/retained' -C 1 -W 3 >/dev/null 2>&1
mosquitto_sub $P -u alice -P wonderland -t '$SYS/broker/uptime' -C 1 -W 3 >/dev/null 2>&1
mosquitto_sub $P -u alice -P wonderland -t 'sensors/#' -k 5 -i dup -W 3 >/dev/null 2>&1 &
sleep 0.5; mosquitto_sub $P -u alice -P wonderland -t 'sensors/#' -i dup -W 2 >/dev/null 2>&1
printf 'GET / HTTP/1.0\r\n\r\n' | nc -q1 127.0.0.1 1899 >/dev/null
printf '\x10\x0c\x00\x04MQTT\x09\x02\x00\x3c\x00\x00' | nc -q1 127.0.0.1 1899 >/dev/null
mosquitto_pub $P -u alice -P wonderland -t sensors/will -m x -V mqttv5 -D publish message-expiry-interval 10
wait
kill -HUP $(cat $W/pid); sleep 1
mosquitto_pub $P -u alice -P wonderland -t sensors/after -m reload
kill -TERM $(cat $W/pid); sleep 2
# start again and stop
mosquitto -c $W/mosquitto.conf -d; waitport 1899
mosquitto_pub $P -u alice -P wonderland -t sensors/final -m bye
kill -TERM $(cat $W/pid); sleep 2
finish none $W/mosquitto.log mosquitto
