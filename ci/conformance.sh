#!/usr/bin/env bash
# The main job: certify a broker. Sets up the machine, builds mqttspec (Release), plays every
# scenario of both versions against host:port (default: the embedded reference broker) and writes
# JUnit, JSON, CSV/markdown and HTML reports into reports/.
#   ci/conformance.sh [host:port] [extra mqttspec run options...]
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup.sh

build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMQTTSPEC_TESTS=OFF -DMQTTSPEC_BENCHMARKS=OFF \
  -DMQTTSPEC_FUZZ=off -DMQTTSPEC_PARTS=all >/dev/null
cmake --build "$build" -j"$(nproc)" --target mqttspec

args=()
if [[ $# -gt 0 && "$1" != -* ]]; then
  args+=(--target "$1")
  shift
fi
status=0
"$build/conformance/runner/mqttspec" run "${args[@]}" --version all --jobs "$(nproc)" --report-dir reports "$@" \
  || status=$?
if [[ -f reports/junit.xml ]] && command -v xmllint >/dev/null; then
  xmllint --noout --schema reports/junit.xsd reports/junit.xml
fi
exit "$status"
