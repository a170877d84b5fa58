#pragma once
// Network fuzzing of any MQTT broker over TCP: valid sessions (connect, subscribe, publish, ...)
// are mutated packet by packet with the codec-aware mutator and sent over connections the broker
// keeps open, many cases per connection. Two oracles:
//  - liveness: after every case the broker still answers PINGREQ (on the same connection, or on a
//    fresh one that CONNECTs) within the timeout; otherwise a crash or hang is reported;
//  - conformance: every byte the broker sends decodes as a valid server packet of the session's
//    version, CONNACK first; a violation is reported with the statement the codec names.
// Findings go to report_dir as minimal replayable case files plus a JUnit file.
#include "mqttspec/codec/types.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace mqttspec::netfuzz {

struct net_fuzz_options {
  std::string host = "127.0.0.1";
  std::string port = "1883";
  std::chrono::milliseconds duration{10'000};  // 0: no time limit (then max_cases must be set)
  std::uint64_t max_cases = 0;                  // 0: no case limit
  std::uint64_t seed = 1;                       // same seed, same cases
  std::vector<codec::protocol_version> versions{codec::protocol_version::v3_1_1, codec::protocol_version::v5};
  std::chrono::milliseconds reply_timeout{200};      // a case's PINGRESP
  std::chrono::milliseconds liveness_timeout{2000};  // a fresh client's CONNACK and PINGRESP
  std::filesystem::path report_dir = "reports/fuzz/net";
  std::size_t max_findings = 20;  // stop after this many
  bool minimize = true;           // shrink conformance findings by replaying them
  unsigned workers = 8;           // connections fuzzed in parallel (cases stay reproducible per seed)
};

struct net_fuzz_stats {
  std::uint64_t cases = 0;
  std::uint64_t connections = 0;
  std::uint64_t findings = 0;
  double seconds = 0;
};

// Runs the fuzzer; progress and findings go to `log`. Returns 0 when no finding, 1 when there
// were findings, 2 when the broker could not be reached at all.
int run_net_fuzz(const net_fuzz_options& options, std::ostream& log, net_fuzz_stats* stats = nullptr);

// Replays one saved case (a file written by run_net_fuzz) against the target of `options`.
// Returns 1 when the finding reproduces, 0 when it does not, 2 on a bad file or unreachable broker.
int replay_net_case(const std::filesystem::path& file, const net_fuzz_options& options, std::ostream& log);

}  // namespace mqttspec::netfuzz
