# Sourced by the benchmark scripts (ci/bench.sh, ci/bench-neutral.sh): brokers on free loopback
# ports in a scratch directory, all stopped when the script exits. Set $broker (the path of
# mqttspec-broker) before sourcing.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}
# start_ours VAR [option...]: mqttspec-broker with these options on a free port, once it listens.
# The port goes to VAR and the process id to started_pid (no command substitution: a broker
# started in a subshell would not be in pids, and so never stopped).
start_ours() {
  local var=$1 port
  shift
  port=$(free_port)
  "$broker" --port "$port" --bind 127.0.0.1 --log-level warning "$@" >>"$work/ours.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  wait_port "$port"
  printf -v "$var" '%s' "$port"
}
# start_mosquitto VAR: mosquitto, anonymous clients allowed, likewise.
start_mosquitto() {
  local port
  port=$(free_port)
  printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$work/mosquitto-$port.conf"
  mosquitto -c "$work/mosquitto-$port.conf" >>"$work/mosquitto.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  wait_port "$port"
  printf -v "$1" '%s' "$port"
}
