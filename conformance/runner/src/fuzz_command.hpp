#pragma once
// `mqttspec fuzz`: the network fuzzer (fuzz/net) against any broker, or the embedded one.
#include <CLI/CLI.hpp>

#include <functional>

namespace mqttspec::conformance {

// Adds the subcommand to `app`; the returned function runs it once parsed (exit status).
std::function<int()> add_fuzz_command(CLI::App& app, CLI::App*& sub);

}  // namespace mqttspec::conformance
