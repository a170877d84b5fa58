#!/usr/bin/env bash
# The test command: installs what is missing, builds under ASan+UBSan with warnings as errors,
# runs every unit test and corpus replay (ctest), a libFuzzer smoke run of every target (a clang
# -Werror build of the targets and the libraries they link), and the pytest drivers. Long runs
# have their own scripts: ci/fuzz.sh --time N, ci/bench.sh, ci/package.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash ci/setup.sh

jobs=$(nproc)
echo "== build (g++, ASan+UBSan, -Werror; fuzz targets as corpus replays, benchmarks compiled)"
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ \
  -DMQTTSPEC_WERROR=ON -DMQTTSPEC_SANITIZE=ON -DMQTTSPEC_TESTS=ON -DMQTTSPEC_BENCHMARKS=ON -DMQTTSPEC_PARTS=all >/dev/null
cmake --build build/test -j"$jobs"

echo "== unit tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/test --output-on-failure -j"$jobs" --timeout 300

echo "== fuzz smoke (clang++, -Werror, libFuzzer + ASan+UBSan, 8 s per target)"
MQTTSPEC_JOBS=$jobs \
MQTTSPEC_FUZZ_PARTS="reference/codec;reference/session;reference/broker/core;reference/transport;reference/broker/net;reference/broker/app;conformance/runner;fuzz" \
  bash ci/fuzz.sh --time 8

if [[ -d conformance/pytest ]]; then
  echo "== pytest"
  # Debian's pytest lives in the system interpreter, not in whatever python3 is first on PATH.
  MQTTSPEC_BUILD="$root/build/test" /usr/bin/python3 -m pytest -q conformance/pytest
fi
