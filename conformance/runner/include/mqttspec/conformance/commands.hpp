#pragma once
// The subcommands of `mqttspec` besides decode: run, list, coverage. Each returns the exit status:
// 0 nothing failed, 1 failures, 2 usage or harness errors.
#include "mqttspec/conformance/engine.hpp"
#include "mqttspec/conformance/shard.hpp"
#include "mqttspec/transport/tls.hpp"

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::conformance {

struct suite_paths {
  std::filesystem::path scenarios;   // holds v3.1.1/ and v5.0/
  std::filesystem::path statements;  // holds the catalogs and not-testable.tsv
};
// Scenarios from --scenarios when given; else, like the statements, from $MQTTSPEC_DATA_DIR, the
// installed share/mqttspec next to bin/mqttspec, ./conformance (a checkout), or (binaries of the
// build tree only) the source tree this binary was built from.
suite_paths default_paths(const std::optional<std::filesystem::path>& scenarios_dir);

struct run_request {
  std::vector<std::string> selectors;
  std::vector<std::string> excludes;
  // --shard K/N: play only shard K of N of the selection (shard.hpp); absent: all of it.
  std::optional<shard_spec> shard;
  std::optional<target> broker;  // absent: the embedded reference broker
  std::string version = "all";
  unsigned jobs = 2;
  unsigned timeout_ms = 2000;
  // Above 0: after this many seconds no new scenario starts; the rest are errors, not run.
  unsigned max_run_seconds = 0;
  unsigned eventual_timeout_ms = 30000;
  credentials cred;
  // Set (only SCRAM-SHA-256): the enhanced-authentication scenarios authenticate with cred's user
  // name and password, and the broker has the capability "enhanced-auth". With no target the
  // embedded broker always offers SCRAM-SHA-256, to a user of its own unless these are given.
  std::optional<std::string> auth_method;
  // TLS to the broker. With no target, the embedded broker listens with TLS too, on a throwaway
  // self-signed certificate that the runner trusts (unless a --cafile says otherwise).
  bool tls = false;
  transport::tls_client_options tls_options;
  // MQTT over WebSocket. With no target, the embedded broker also listens for WebSocket and the
  // run goes there; a host:port target is upgraded at /mqtt (a ws:// target sets its own path).
  bool websocket = false;
  std::optional<std::filesystem::path> profile;
  bool strict = false;
  bool quiet = false;  // no progress lines (tests)
  std::filesystem::path report_dir = "reports";
  suite_paths paths;
};

int run_command(const run_request& req, std::ostream& out, std::ostream& err);
int list_command(const suite_paths& paths, const std::vector<std::string>& selectors, const std::string& version,
                 std::ostream& out, std::ostream& err);
int coverage_command(const suite_paths& paths, bool only_gaps, std::ostream& out, std::ostream& err);

// Parses "host:port" (or "[v6]:port", or "host" with 1883), or a WebSocket URL
// "ws://host[:port][/path]" / "wss://..." (ports 80 / 443, path "/" when absent, as in RFC 6455).
std::optional<target> parse_target(const std::string& text);

}  // namespace mqttspec::conformance
