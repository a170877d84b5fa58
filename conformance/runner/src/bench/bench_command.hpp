#pragma once
// `mqttspec bench`: a load generator and latency meter for any MQTT broker (docs/bench.md).
#include <CLI/CLI.hpp>

#include <functional>

namespace mqttspec::bench {

// Adds the subcommand to `app`; the returned function runs it once parsed (exit status).
std::function<int()> add_bench_command(CLI::App& app, CLI::App*& sub);

}  // namespace mqttspec::bench
