#!/usr/bin/env bash
# Installs, with apt-get, whatever the build and the tests need and this machine lacks.
# Idempotent: when everything is present it changes nothing and touches no network.
set -euo pipefail

packages=(
  build-essential g++ clang lld llvm libclang-rt-14-dev cmake ninja-build pkg-config
  libasio-dev libssl-dev libpugixml-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libsqlite3-dev
  python3 python3-pytest python3-paho-mqtt python3-yaml python3-pip
  chromium
  mosquitto mosquitto-clients libxml2-utils
  libmosquitto-dev libpaho-mqtt-dev
  rabbitmq-server
)
# Node.js and npm run aedes, the third-party broker of runner/test_aedes.py. A Node.js that already
# brings both commands (e.g. NodeSource's nodejs, which conflicts with Debian's npm) is kept.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# aedes at the version package-lock.json pins, installed by `npm ci` only when node_modules does not
# hold exactly that lockfile's install (npm ci rewrites node_modules, dropping the stamp).
aedes_dir="$(cd "$(dirname "$0")/.." && pwd)/conformance/pytest/brokers/aedes"
if [[ -f "$aedes_dir/package-lock.json" ]] && ! cmp -s "$aedes_dir/package-lock.json" "$aedes_dir/node_modules/.mqttspec-installed-lock"; then
  echo "setup: installing aedes (npm ci in $aedes_dir)"
  (cd "$aedes_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$aedes_dir/package-lock.json" "$aedes_dir/node_modules/.mqttspec-installed-lock"
fi

# MQTT.js at the version conformance/clients/mqttjs/package-lock.json pins (a client library that
# conformance/pytest/clients certifies), installed like aedes.
mqttjs_dir="$(cd "$(dirname "$0")/.." && pwd)/conformance/clients/mqttjs"
if [[ -f "$mqttjs_dir/package-lock.json" ]] && ! cmp -s "$mqttjs_dir/package-lock.json" "$mqttjs_dir/node_modules/.mqttspec-installed-lock"; then
  echo "setup: installing MQTT.js (npm ci in $mqttjs_dir)"
  (cd "$mqttjs_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$mqttjs_dir/package-lock.json" "$mqttjs_dir/node_modules/.mqttspec-installed-lock"
fi

# Debian starts mosquitto as a system service on install; the tests start their own
# instances on free ports, so the system one is only in the way of port 1883.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  systemctl stop mosquitto || true
fi
# rabbitmq-server (runner/test_rabbitmq.py's third-party broker) is also started on install: by systemd, or by
# its init script where systemd does not run. The tests start a private node of their own, so a running
# system node is stopped (and, under systemd, disabled).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet rabbitmq-server 2>/dev/null; then
  systemctl stop rabbitmq-server || true
  systemctl disable --quiet rabbitmq-server 2>/dev/null || true
elif [[ -s /run/rabbitmq/pid ]] && kill -0 "$(cat /run/rabbitmq/pid)" 2>/dev/null; then
  /etc/init.d/rabbitmq-server stop >/dev/null 2>&1 || true
fi
exit 0
