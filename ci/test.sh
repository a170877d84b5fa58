#!/usr/bin/env bash
# The test command: installs what is missing, builds under ASan+UBSan with warnings as errors,
# runs every unit test (ctest) and the pytest driver. Also checks that clang builds the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash ci/setup.sh

jobs=$(nproc)
echo "== build (g++, ASan+UBSan, -Werror)"
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ \
  -DMQTTSPEC_WERROR=ON -DMQTTSPEC_SANITIZE=ON -DMQTTSPEC_TESTS=ON >/dev/null
cmake --build build/test -j"$jobs"

echo "== build (clang++, -Werror, benchmarks)"
cmake -S . -B build/clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
  -DMQTTSPEC_WERROR=ON -DMQTTSPEC_TESTS=OFF -DMQTTSPEC_BENCHMARKS=ON >/dev/null
cmake --build build/clang -j"$jobs"

echo "== unit tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/test --output-on-failure -j"$jobs" --timeout 300

if [[ -d conformance/pytest ]]; then
  echo "== pytest"
  # Debian's pytest lives in the system interpreter, not in whatever python3 is first on PATH.
  MQTTSPEC_BUILD="$root/build/test" /usr/bin/python3 -m pytest -q conformance/pytest
fi
