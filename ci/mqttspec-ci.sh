#!/usr/bin/env bash
# What the CI recipes run (action.yml, ci/gitlab/mqttspec.gitlab-ci.yml), usable in any CI:
#   ci/mqttspec-ci.sh [run]                    certify MQTTSPEC_TARGET (settings below)
#   ci/mqttspec-ci.sh merge A.json B.json ...  join shards' results.json into MQTTSPEC_REPORT_DIR
#   ci/mqttspec-ci.sh compare A.json B.json ... [--names a,b] [--out DIR]
# Settings (environment):
#   MQTTSPEC_TARGET          host:port, ws://host:port/path or wss://...; empty: the embedded reference broker
#   MQTTSPEC_VERSION         3.1.1, 5.0 or all (default all)
#   MQTTSPEC_SHARD           K/N: only shard K of N (a CI matrix; join with `merge`)
#   MQTTSPEC_ARGS            more `mqttspec run` arguments (selectors, --profile, --tls ...), split on spaces
#   MQTTSPEC_REPORT_DIR      where reports go (default reports)
#   MQTTSPEC_BROKER_COMMAND  a shell command that starts the broker under test; it runs in the
#                            background (log: REPORT_DIR/broker.log) and is stopped afterwards
#   MQTTSPEC_WAIT_SECONDS    how long to wait for the target to accept TCP connections (default 60)
#   MQTTSPEC_BIN             a built mqttspec to use; default: build it (MQTTSPEC_BUILD_DIR, default
#                            build/mqttspec-ci in this checkout), installing the build packages with
#                            apt-get when missing (MQTTSPEC_INSTALL_DEPS=0 skips that)
#   MQTTSPEC_JOBS            scenarios in parallel, and build jobs (default: the number of CPUs)
# Writes REPORT_DIR/summary.md (counts and failures, markdown: a CI job summary), appended to
# $GITHUB_STEP_SUMMARY when that is set. Exit status: mqttspec's (0 nothing failed, 1 failures,
# 2 errors or a harness problem).
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/.." && pwd)
command=run
if [[ $# -gt 0 && ( $1 == run || $1 == merge || $1 == compare ) ]]; then
  command=$1
  shift
fi
report_dir=${MQTTSPEC_REPORT_DIR:-reports}
jobs=${MQTTSPEC_JOBS:-$(nproc 2>/dev/null || echo 2)}

log() { echo "mqttspec-ci: $*" >&2; }

install_build_packages() {
  [[ ${MQTTSPEC_INSTALL_DEPS:-1} == 0 ]] && return 0
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    log "no apt-get here: install a C++20 compiler, CMake, Ninja, Asio, OpenSSL, pugixml, CLI11, nlohmann-json yourself"
    return 0
  fi
  local packages=(g++ cmake ninja-build pkg-config libasio-dev libssl-dev libpugixml-dev libcli11-dev
                  nlohmann-json3-dev libsqlite3-dev python3 libxml2-utils) missing=() p
  for p in "${packages[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

mqttspec_bin() {
  if [[ -n ${MQTTSPEC_BIN:-} ]]; then
    echo "$MQTTSPEC_BIN"
    return
  fi
  install_build_packages
  local build=${MQTTSPEC_BUILD_DIR:-$source_dir/build/mqttspec-ci}
  log "building mqttspec in $build"
  cmake -S "$source_dir" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMQTTSPEC_TESTS=OFF \
    -DMQTTSPEC_BENCHMARKS=OFF -DMQTTSPEC_FUZZ=off >&2
  cmake --build "$build" -j"$jobs" --target mqttspec mqttspec-broker >&2
  echo "$build/conformance/runner/mqttspec"
}

# host and port of a target (host:port, [v6]:port, ws[s]://host[:port][/path]).
host_port() {
  local t=$1 default=1883
  case $t in
    ws://*) t=${t#ws://}; default=80 ;;
    wss://*) t=${t#wss://}; default=443 ;;
  esac
  t=${t%%/*}
  if [[ $t == \[*\]* ]]; then
    local host=${t%%]*} rest=${t#*]}
    host=${host#[}
    rest=${rest#:}
    echo "$host ${rest:-$default}"
  elif [[ $t == *:* ]]; then
    echo "${t%:*} ${t##*:}"
  else
    echo "$t $default"
  fi
}

wait_for_target() {
  local host port deadline
  read -r host port < <(host_port "$1")
  deadline=$((SECONDS + ${MQTTSPEC_WAIT_SECONDS:-60}))
  until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$host:$port accepts no connection after ${MQTTSPEC_WAIT_SECONDS:-60} s"
      return 1
    fi
    sleep 0.5
  done
}

# Counts and failures of a results.json as markdown.
summarize() {
  local results=$1/results.json
  [[ -f $results ]] && command -v python3 >/dev/null 2>&1 || return 0
  python3 - "$results" >"$1/summary.md" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
counts = run["counts"]
print(f"### mqttspec: {run['target']}\n")
print("| " + " | ".join(counts) + " | total |")
print("|" + "---:|" * (len(counts) + 1))
print("| " + " | ".join(str(n) for n in counts.values()) + f" | {len(run['results'])} |\n")
bad = [r for r in run["results"] if r["verdict"] in ("fail", "error", "non-strict")]
for r in bad[:200]:
    what = r.get("broken") or (r["statements"][0] if r["statements"] else "")
    print(f"- **{r['verdict']}** `{r['id']}` {what}: {r.get('message', '')}".replace("\n", " "))
if len(bad) > 200:
    print(f"- ... and {len(bad) - 200} more (results.json)")
for n in run.get("notes", []):
    print(f"\n> {n}")
PY
  if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then cat "$1/summary.md" >>"$GITHUB_STEP_SUMMARY"; fi
}

check_junit() {
  local xsd=$source_dir/reports/junit.xsd
  if [[ -f $1/junit.xml && -f $xsd ]] && command -v xmllint >/dev/null 2>&1; then
    xmllint --noout --schema "$xsd" "$1/junit.xml"
  fi
}

broker_pid=""
stop_broker() {
  if [[ -n $broker_pid ]] && kill -0 "$broker_pid" 2>/dev/null; then
    kill -TERM -- "-$broker_pid" 2>/dev/null || kill -TERM "$broker_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$broker_pid" 2>/dev/null || true
  fi
}

case $command in
  run)
    bin=$(mqttspec_bin) || exit 2  # a failed build is a harness problem, not a finding
    mkdir -p "$report_dir"
    target=${MQTTSPEC_TARGET:-}
    if [[ -n ${MQTTSPEC_BROKER_COMMAND:-} ]]; then
      trap stop_broker EXIT
      log "starting the broker: $MQTTSPEC_BROKER_COMMAND"
      set -m  # its own process group, so that stopping it stops its children too
      bash -c "$MQTTSPEC_BROKER_COMMAND" >"$report_dir/broker.log" 2>&1 &
      broker_pid=$!
      set +m
    fi
    args=(run --version "${MQTTSPEC_VERSION:-all}" --jobs "$jobs" --report-dir "$report_dir" -q)
    if [[ -n $target ]]; then
      wait_for_target "$target" || exit 2
      args+=(--target "$target")
    fi
    [[ -z ${MQTTSPEC_SHARD:-} ]] || args+=(--shard "$MQTTSPEC_SHARD")
    # Split on spaces, without expanding globs such as 'v5.retain.*'.
    read -r -a extra <<<"${MQTTSPEC_ARGS:-}"
    args+=("${extra[@]}")
    log "$bin ${args[*]}"
    status=0
    "$bin" "${args[@]}" || status=$?
    check_junit "$report_dir"
    summarize "$report_dir"
    exit "$status"
    ;;
  merge)
    (($#)) || { log "merge wants results.json files"; exit 2; }
    bin=$(mqttspec_bin) || exit 2  # a failed build is a harness problem, not a finding
    status=0
    "$bin" merge "$@" --report-dir "$report_dir" || status=$?
    check_junit "$report_dir"
    summarize "$report_dir"
    exit "$status"
    ;;
  compare)
    bin=$(mqttspec_bin) || exit 2  # a failed build is a harness problem, not a finding
    exec "$bin" compare "$@"
    ;;
esac
