#!/usr/bin/env bash
# Long network-fuzzing campaigns: mosquitto (apt) and the reference broker, each started, watched
# and restarted by `mqttspec fuzz --broker-cmd`, then every distinct finding replayed 3 times by
# hand on fresh broker processes (`mqttspec fuzz --replay`).
#   ci/netfuzz.sh [--time SECONDS] [--brokers "mosquitto reference"] [--workers N] [--seed N]
#   --time     seconds per broker (default 600)
# Builds build/netfuzz (Release) unless MQTTSPEC_BUILD names a build directory to use. Reports in
# reports/netfuzz/<broker>/ (case files, junit.xml, results.json, report.html, netfuzz.json); the
# figures (cases/s, distinct findings with their statements, replay rates) are printed at the end
# and kept in reports/netfuzz/summary.md. Exit status 0 unless a campaign could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=600
brokers="mosquitto reference"
workers=2
seed=1
while (($#)); do
  case "$1" in
    --time) seconds=$2; shift 2 ;;
    --brokers) brokers=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: ci/netfuzz.sh [--time SECONDS] [--brokers LIST] [--workers N] [--seed N]" >&2; exit 2 ;;
  esac
done

if [[ -z "${MQTTSPEC_BUILD:-}" ]]; then
  bash ci/setup.sh
  echo "== build (build/netfuzz: Release)"
  cmake -S . -B build/netfuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DMQTTSPEC_TESTS=OFF -DMQTTSPEC_FUZZ=off \
    -DMQTTSPEC_PARTS=all >/dev/null
  cmake --build build/netfuzz -j"${MQTTSPEC_JOBS:-2}" --target mqttspec mqttspec-broker
  build=$root/build/netfuzz
else
  build=$(cd "$MQTTSPEC_BUILD" && pwd)
fi
mqttspec=$build/conformance/runner/mqttspec
broker=$build/reference/broker/app/mqttspec-broker
out=reports/netfuzz
mkdir -p "$out"

command_of() {
  case "$1" in
    mosquitto) echo "$(command -v mosquitto || echo /usr/sbin/mosquitto) -p {port}" ;;
    reference) echo "$broker --port {port}" ;;
    *) echo "unknown broker $1" >&2; exit 2 ;;
  esac
}

for b in $brokers; do
  cmd=$(command_of "$b")
  dir=$out/$b
  rm -rf "$dir"
  echo "== $b: $seconds s (${cmd})"
  status=0
  "$mqttspec" fuzz --broker-cmd "$cmd" --time "$seconds" --workers "$workers" --seed "$seed" --max-findings 500 \
    --report-dir "$dir" || status=$?
  if ((status == 2)); then
    echo "netfuzz: the campaign against $b could not run" >&2
    exit 2
  fi
  # Every distinct finding, replayed 3 times on fresh processes: the case the campaign would have
  # a user replay (the minimized one when it replayed as reliably).
  python3 - "$dir/netfuzz.json" <<'EOF' > "$dir/replay-list.txt"
import json, sys
for f in json.load(open(sys.argv[1]))["findings"]:
    best = f.get("minimized_file") if f.get("minimized_replays") and f.get("minimized_reproduced") == f.get("minimized_replays") else f["file"]
    print(best)
EOF
  : > "$dir/replays.tsv"
  while read -r case; do
    [[ -n "$case" ]] || continue
    rstatus=0
    result=$("$mqttspec" fuzz --replay "$case" --repeat 3 --broker-cmd "$cmd" --report-dir "$dir/replay" 2>&1 | tail -1) \
      || rstatus=$?
    printf '%s\t%s\t%s\n' "$case" "$rstatus" "$result" >> "$dir/replays.tsv"
  done < "$dir/replay-list.txt"
done

python3 - $brokers <<'EOF' | tee "$out/summary.md"
import json, re, sys
print("| broker | cases | cases/s | steps/s | distinct findings | judged in the campaign: replayed every time | replayed 3 of 3 by hand | restarts |")
print("|---|---|---|---|---|---|---|---|")
details = []
for b in sys.argv[1:]:
    d = f"reports/netfuzz/{b}"
    j = json.load(open(f"{d}/netfuzz.json"))
    fs = j["findings"]
    stable = sum(1 for f in fs if f["replays"] and f["reproduced"] == f["replays"])
    rows = [l.rstrip("\n").split("\t") for l in open(f"{d}/replays.tsv") if l.strip()]
    by_hand = sum(1 for r in rows if "reproduced 3 of 3" in r[2])
    sec = max(j["seconds"], 1e-9)
    print(f"| {b} | {j['cases']} | {j['cases'] / sec:.0f} | {j['steps'] / sec:.0f} | {len(fs)} | {stable}/{len(fs)} | {by_hand}/{len(rows)} | {j['restarts']} |")
    for f, r in zip(fs, rows):
        m = re.search(r"reproduced (\d+) of (\d+)", r[2])
        details.append(f"| {b} | {f['kind']} | {f['statement'] or '-'} | {f['count']} | {f['reproduced']}/{f['replays']} | "
                       f"{m.group(1) + '/' + m.group(2) if m else '?'} | {f['observation'][:110]} |")
print()
print("| broker | kind | statement | count | campaign replays | replays by hand | observation |")
print("|---|---|---|---|---|---|---|")
print("\n".join(details))
EOF
