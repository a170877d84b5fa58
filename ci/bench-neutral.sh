#!/usr/bin/env bash
# Cross-checks `mqttspec bench` with a generator we did not write: mosquitto_pub and mosquitto_sub
# (libmosquitto, Debian's mosquitto-clients) drive mqttspec-broker and mosquitto, each started here
# on a free loopback port, through the same workloads one after the other: pairs, fan-in and
# fan-out at QoS 0 and 1. Each publisher sends N numbered lines (`mosquitto_pub -l`); each
# subscriber stops after the messages it should get (`mosquitto_sub -C`, or its -W timeout when a
# broker dropped some: QoS 0 may be dropped), printing each arrival's time. Reported per broker: delivered messages per second,
# broker CPU microseconds per delivery (from /proc), and how many of the expected arrived; then the
# ratios. Results: reports/bench/neutral.md and neutral.json.
#   MQTTSPEC_NEUTRAL_MESSAGES  messages per publisher (default 50000)
#   MQTTSPEC_NEUTRAL_CLIENTS   publishers (fan-in, pairs) or subscribers (fan-out) (default 4)
#   MQTTSPEC_BUILD             an existing build to take mqttspec-broker from (default: build/bench, built here)
#   MQTTSPEC_NEUTRAL_OUT       where the reports go (default reports/bench)
# The clients are slower than `mqttspec bench`'s generator (one process and one line per message),
# so a broker that is faster than the clients shows up as a ratio near 1: a lower bound, not a
# measurement of the broker's limit.
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${MQTTSPEC_NEUTRAL_MESSAGES:-50000}
clients=${MQTTSPEC_NEUTRAL_CLIENTS:-4}
build=${MQTTSPEC_BUILD:-build/bench}
if [[ ! -x "$build/reference/broker/app/mqttspec-broker" ]]; then
  bash ci/setup.sh
  cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DMQTTSPEC_TESTS=OFF -DMQTTSPEC_BENCHMARKS=ON \
    -DMQTTSPEC_PARTS=all >/dev/null
  cmake --build build/bench -j"$(nproc)" --target mqttspec-broker
  build=build/bench
fi
command -v mosquitto_pub >/dev/null || { echo "mosquitto_pub not found (apt-get install mosquitto-clients)" >&2; exit 2; }
out=${MQTTSPEC_NEUTRAL_OUT:-reports/bench}
mkdir -p "$out"
broker="$build/reference/broker/app/mqttspec-broker"
source ci/lib/brokers.sh
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_ours ours
ours_pid=$started_pid
start_mosquitto mosq
mosq_pid=$started_pid
seq 1 "$messages" >"$work/lines"
timeout_s=$((10 + messages / 1000))

# run WORKLOAD QOS PORT PID -> prints "delivered expected seconds cpu_ticks"
# Every workload delivers clients * messages: pairs on a topic each, fan-in from every publisher
# to one subscriber, fan-out from one publisher to every subscriber.
run() {
  local workload=$1 qos=$2 port=$3 pid=$4 clients_pids=() i
  local tag="$workload-$qos-$port"
  sub() {  # sub N TOPIC COUNT: subscriber N, stopping after COUNT messages
    mosquitto_sub -p "$port" -i "ns-$tag-s$1" -t "neutral/$tag/$2" -q "$qos" -C "$3" -W "$timeout_s" -F %U \
      >"$work/$tag.s$1" 2>/dev/null &
    clients_pids+=($!)
  }
  pub() {  # pub N TOPIC: publisher N, sending every line
    mosquitto_pub -p "$port" -i "ns-$tag-p$1" -t "neutral/$tag/$2" -q "$qos" -l <"$work/lines" &
    clients_pids+=($!)
  }
  case $workload in
    pairs) for ((i = 0; i < clients; i++)); do sub "$i" "$i" "$messages"; done ;;
    fan-in) sub 0 in $((clients * messages)) ;;
    fan-out) for ((i = 0; i < clients; i++)); do sub "$i" out "$messages"; done ;;
  esac
  sleep 0.5  # the subscriptions are in place before anything is published
  local cpu0 t0 t1 cpu1
  cpu0=$(cpu_ticks "$pid")
  t0=$(date +%s.%N)
  case $workload in
    pairs) for ((i = 0; i < clients; i++)); do pub "$i" "$i"; done ;;
    fan-in) for ((i = 0; i < clients; i++)); do pub "$i" in; done ;;
    fan-out) pub 0 out ;;
  esac
  wait "${clients_pids[@]}" 2>/dev/null || true
  t1=$(date +%s.%N)
  cpu1=$(cpu_ticks "$pid")
  # Seconds until the last arrival (each line is its arrival time), not until a -W timeout.
  local delivered last
  delivered=$(cat "$work/$tag".s* | wc -l)
  last=$(cat "$work/$tag".s* | sort -n | tail -1)
  echo "$delivered $((clients * messages)) $(awk -v a="${last:-$t1}" -v b="$t0" 'BEGIN { printf "%.6f", a - b }') $((cpu1 - cpu0))"
}

results="$work/results"
: >"$results"
for workload in pairs fan-in fan-out; do
  for qos in 0 1; do
    a=$(run "$workload" "$qos" "$ours" "$ours_pid")
    b=$(run "$workload" "$qos" "$mosq" "$mosq_pid")
    echo "$workload $qos $a $b" | tee -a "$results"
  done
done

python3 - "$results" "$out" "$messages" "$clients" "$(getconf CLK_TCK)" <<'EOF'
import json, os, sys
path, out, messages, clients, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows, md = [], ["# Cross-check with mosquitto_pub/mosquitto_sub (libmosquitto clients)", "",
                f"{clients} clients, {messages} messages per publisher. A = mqttspec-broker, B = mosquitto.", "",
                "| workload | QoS | delivered/s A | delivered/s B | ratio A/B | CPU µs/delivery A | B | ratio | arrived A | arrived B |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
for line in open(path):
    w, q, da, ea, sa, ca, db, eb, sb, cb = line.split()
    a = {"delivered": int(da), "expected": int(ea), "seconds": float(sa), "cpu_s": int(ca) / hz}
    b = {"delivered": int(db), "expected": int(eb), "seconds": float(sb), "cpu_s": int(cb) / hz}
    for r in (a, b):
        r["per_second"] = r["delivered"] / r["seconds"] if r["seconds"] > 0 else 0
        r["cpu_us_per_delivery"] = 1e6 * r["cpu_s"] / r["delivered"] if r["delivered"] else None
    rows.append({"workload": w, "qos": int(q), "a": a, "b": b})
    ratio = a["per_second"] / b["per_second"] if b["per_second"] else float("nan")
    ca_, cb_ = a["cpu_us_per_delivery"], b["cpu_us_per_delivery"]
    cpu_ratio = f"{ca_ / cb_:.2f}x" if ca_ and cb_ else "–"
    fmt = lambda v: f"{v:.1f}" if v is not None else "–"
    md.append(f"| {w} | {q} | {a['per_second']:,.0f} | {b['per_second']:,.0f} | {ratio:.2f}x | {fmt(ca_)} | {fmt(cb_)} | "
              f"{cpu_ratio} | {a['delivered']}/{a['expected']} | {b['delivered']}/{b['expected']} |")
json.dump({"clients": clients, "messages": messages, "a": "mqttspec-broker", "b": "mosquitto", "runs": rows},
          open(os.path.join(out, "neutral.json"), "w"), indent=2)
open(os.path.join(out, "neutral.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
EOF
echo "reports: $out/neutral.md, $out/neutral.json"
