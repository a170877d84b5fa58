#!/usr/bin/env bash
# Builds the benchmarks in Release and runs them; extra arguments go to Google Benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DMQTTSPEC_TESTS=OFF -DMQTTSPEC_BENCHMARKS=ON -DMQTTSPEC_PARTS=all >/dev/null
cmake --build build/bench -j"$(nproc)" --target mqttspec_codec_bench
build/bench/bench/mqttspec_codec_bench "$@"
