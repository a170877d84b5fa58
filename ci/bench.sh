#!/usr/bin/env bash
# Builds the benchmarks in Release and runs them: the Google Benchmark programs of the codec and
# the broker core (extra arguments go to Google Benchmark), then `mqttspec bench --compare` of the
# reference broker (mqttspec-broker, its own process) against mosquitto, both started here on free
# loopback ports: fan-in, fan-out and pairs at QoS 0 and 1. Then the login stall: `mqttspec bench
# login-stall` against the reference broker with a password file, its PBKDF2 checks offloaded (A)
# and on the I/O thread (B, --auth-threads 0), and the latency preset without logins for reference.
# Results: reports/bench/ (codec.json, broker_core.json, broker-*.json and .md per workload,
# login-stall.json/.md, latency-no-logins.json/.md, summary.json and summary.md).
# MQTTSPEC_BENCH_SECONDS sets each broker run's length (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DMQTTSPEC_TESTS=OFF -DMQTTSPEC_BENCHMARKS=ON -DMQTTSPEC_PARTS=all >/dev/null
cmake --build build/bench -j"$(nproc)" --target mqttspec_codec_bench mqttspec_broker_core_bench mqttspec mqttspec-broker
out=reports/bench
mkdir -p "$out"
build/bench/bench/mqttspec_codec_bench --benchmark_out="$out/codec.json" --benchmark_out_format=json "$@"
build/bench/bench/mqttspec_broker_core_bench --benchmark_out="$out/broker_core.json" --benchmark_out_format=json "$@"

echo "== brokers: mqttspec bench, reference broker (A) vs mosquitto $(mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version //p') (B)"
seconds=${MQTTSPEC_BENCH_SECONDS:-3}
mqttspec=build/bench/conformance/runner/mqttspec
broker=build/bench/reference/broker/app/mqttspec-broker
source ci/lib/brokers.sh
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # room for connection-heavy workloads
start_ours ours
start_mosquitto mosq

status=0
runs=()
for workload in fan-in fan-out pairs; do
  for qos in 0 1; do
    name="broker-$workload-qos$qos"
    rc=0
    "$mqttspec" bench "$workload" --qos "$qos" --duration "$seconds" --quiet \
      --target "127.0.0.1:$ours" --label mqttspec-broker --compare "127.0.0.1:$mosq" --compare-label mosquitto \
      --json-file "$out/$name.json" --markdown-file "$out/$name.md" || rc=$?
    echo
    # 1 (violations) is judged below: only the reference broker's fail this script.
    if [[ $rc -ne 0 && $rc -ne 1 ]]; then
      echo "mqttspec bench $workload --qos $qos: exit status $rc" >&2
      status=1
    fi
    runs+=("$name")
  done
done

echo "== login stall: reference broker, password checks offloaded (A) vs on the I/O thread (B)"
echo secret | "$broker" --hash-password bench >"$work/passwords"
start_ours offloaded --password-file "$work/passwords" --allow-anonymous false
start_ours inline --password-file "$work/passwords" --allow-anonymous false --auth-threads 0
creds=(--username bench --password secret --duration "$seconds" --quiet)
rc=0
"$mqttspec" bench latency "${creds[@]}" --target "127.0.0.1:$offloaded" --label "no logins" \
  --json-file "$out/latency-no-logins.json" --markdown-file "$out/latency-no-logins.md" || rc=$?
echo
"$mqttspec" bench login-stall "${creds[@]}" --target "127.0.0.1:$offloaded" --label offloaded \
  --compare "127.0.0.1:$inline" --compare-label "on the I/O thread" \
  --json-file "$out/login-stall.json" --markdown-file "$out/login-stall.md" || rc=$?
echo
if [[ $rc -ne 0 ]]; then
  echo "mqttspec bench login-stall: exit status $rc" >&2
  status=1
fi

python3 - "$out" "${runs[@]}" <<'EOF' || status=1
import json, os, sys
out, runs = sys.argv[1], sys.argv[2:]
summary = {"codec": None, "broker_core": None, "brokers": {"a": "mqttspec-broker", "b": "mosquitto", "runs": {}}}
for key in ("codec", "broker_core"):
    path = os.path.join(out, key + ".json")
    if os.path.exists(path):
        with open(path) as f:
            summary[key] = [{"name": b["name"], "cpu_time": b.get("cpu_time"), "time_unit": b.get("time_unit"),
                             "items_per_second": b.get("items_per_second"), "allocs": b.get("allocs")}
                            for b in json.load(f).get("benchmarks", [])]
md = ["# Benchmarks", "", "## Brokers: reference broker (A) vs mosquitto (B), ratios A/B", ""]
failed = []
for name in runs:
    path = os.path.join(out, name + ".json")
    if not os.path.exists(path):
        md.append(f"- {name}: no result")
        failed.append(name)
        continue
    with open(path) as f:
        run = json.load(f)
    summary["brokers"]["runs"][name] = run
    if run["a"].get("error") or run["a"]["violations"]:
        failed.append(name + " (reference broker: " + "; ".join([run["a"].get("error", "")] + run["a"]["violations"]).strip("; ") + ")")
    with open(os.path.join(out, name + ".md")) as f:
        md += [f.read(), ""]
login = {}
for name in ("latency-no-logins", "login-stall"):
    path = os.path.join(out, name + ".json")
    if os.path.exists(path):
        with open(path) as f:
            login[name] = json.load(f)
if login:
    summary["login_stall"] = login
    md += ["## Logins during traffic: 10 pairs at 1000 msg/s, QoS 1, while 2 clients log in over and over "
           "(PBKDF2 password checks)", "",
           "| run | logins/s | latency p50 | p99 | max |", "|---|---:|---:|---:|---:|"]
    runs_shown = []
    if "latency-no-logins" in login:
        runs_shown.append(("no logins", login["latency-no-logins"]))
    if "login-stall" in login:
        both = login["login-stall"]
        runs_shown += [("checks offloaded (A)", both.get("a", both)), ("checks on the I/O thread (B)", both.get("b", {}))]
    for label, r in runs_shown:
        lat = r.get("latency_us", {})
        md.append(f"| {label} | {r.get('logins_per_s', 0):,.0f} | {lat.get('p50', 0):,.0f} us | {lat.get('p99', 0):,.0f} us | "
                  f"{lat.get('max', 0):,.0f} us |")
    md.append("")
if summary["codec"]:
    # decode/x_v311 against baseline/x_v311 (a decoder that checks nothing), x_v5 against x_v311.
    times = {b["name"]: b["cpu_time"] for b in summary["codec"]}
    md += ["## Codec (Google Benchmark, CPU time per packet)", "",
           "| benchmark | ns | allocations | vs non-validating | 5.0 vs 3.1.1 |", "|---|---:|---:|---:|---:|"]
    for b in summary["codec"]:
        name, t = b["name"], b["cpu_time"]
        base = times.get(name.replace("decode/", "baseline/")) if name.startswith("decode/") else None
        v311 = times.get(name[:-3] + "_v311") if name.endswith("_v5") else None
        allocs = "" if b["allocs"] is None else f"{b['allocs']:g}"
        md.append(f"| {name} | {t:.1f} | {allocs} | {f'{t / base:.1f}x' if base else ''} | "
                  f"{f'{t / v311:.2f}x' if v311 else ''} |")
if summary["broker_core"]:
    md += ["## Broker core (Google Benchmark)", "", "| benchmark | time | items/s |", "|---|---:|---:|"]
    for b in summary["broker_core"]:
        ips = b["items_per_second"]
        md.append(f"| {b['name']} | {b['cpu_time']:.1f} {b['time_unit']} | {ips:,.0f} |" if ips else
                  f"| {b['name']} | {b['cpu_time']:.1f} {b['time_unit']} | |")
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write("\n".join(md) + "\n")
for name in failed:
    print("FAILED:", name, file=sys.stderr)
sys.exit(1 if failed else 0)
EOF
echo "reports: $out/summary.md, $out/summary.json"
exit $status
