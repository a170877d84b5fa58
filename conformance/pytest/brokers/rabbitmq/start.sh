#!/usr/bin/env bash
# Runs a private RabbitMQ node with its MQTT plugin in the foreground:
#   start.sh DIR MQTT_PORT AMQP_PORT DIST_PORT EPMD_PORT
# Everything the node writes (Mnesia data, logs, the Erlang cookie, the generated config) goes under
# DIR; it listens on 127.0.0.1 only: MQTT on MQTT_PORT, AMQP on AMQP_PORT, Erlang distribution on
# DIST_PORT, and it registers with an epmd of its own on EPMD_PORT, which this script starts and
# stops, so nothing is shared with a system RabbitMQ or Erlang node. The node is named
# mqttspec-MQTT_PORT@localhost. SIGTERM or SIGINT stops the node and epmd; so does killing the
# process group. Works as root and without systemd.
set -euo pipefail

if (($# != 5)); then
  echo "usage: $0 DIR MQTT_PORT AMQP_PORT DIST_PORT EPMD_PORT" >&2
  exit 2
fi
dir=$1 mqtt_port=$2 amqp_port=$3 dist_port=$4 epmd_port=$5
here=$(cd "$(dirname "$0")" && pwd)
server=/usr/lib/rabbitmq/bin/rabbitmq-server  # the script itself, not /usr/sbin's wrapper (su rabbitmq)
[[ -x $server ]] || { echo "start.sh: $server not found: install rabbitmq-server" >&2; exit 2; }

mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
dir=$(cd "$dir" && pwd)
{ cat "$here/rabbitmq.conf"; echo "mqtt.listeners.tcp.default = 127.0.0.1:$mqtt_port"; } >"$dir/rabbitmq.conf"
cp "$here/enabled_plugins" "$dir/enabled_plugins"
: >"$dir/rabbitmq-env.conf"  # read instead of /etc/rabbitmq/rabbitmq-env.conf

# Erlang keeps its cookie in $HOME; a fresh HOME gets a fresh random one.
export HOME="$dir/home"
export RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
export RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
export RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"  # absent: none
export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
export RABBITMQ_MNESIA_BASE="$dir/mnesia"
export RABBITMQ_LOG_BASE="$dir/log"
export RABBITMQ_LOGS="$dir/log/rabbit.log"
export RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
export RABBITMQ_NODENAME="mqttspec-$mqtt_port@localhost"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$amqp_port"
export RABBITMQ_DIST_PORT="$dist_port"
export ERL_EPMD_PORT="$epmd_port" ERL_EPMD_ADDRESS=127.0.0.1
# The node must not spawn a daemonized epmd of its own (it would outlive the node): it uses ours.
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}"

pids=()
stop() {
  trap - TERM INT
  ((${#pids[@]})) && kill -TERM "${pids[@]}" 2>/dev/null
  wait
  exit 0
}
trap stop TERM INT

epmd -port "$epmd_port" -address 127.0.0.1 &
pids+=($!)
for _ in $(seq 100); do  # up to 5 s for epmd to listen
  epmd -port "$epmd_port" -names >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "start.sh: epmd did not start on port $epmd_port" >&2; exit 1; }
  sleep 0.05
done

"$server" &
pids+=($!)
# The node ends (or this script is told to stop it): take epmd down with it.
status=0
wait "${pids[1]}" || status=$?
kill -TERM "${pids[0]}" 2>/dev/null || true
wait "${pids[0]}" 2>/dev/null || true
exit "$status"
