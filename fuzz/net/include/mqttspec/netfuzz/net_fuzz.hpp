#pragma once
// Network fuzzing of any MQTT broker over TCP, TLS or WebSocket. Each case is a script: a
// stateful walk of the protocol over one to three client connections (QoS 1/2 both ways, session
// resumption, wills, retained messages, shared subscriptions, topic aliases, flow control, an
// unsupported authentication method), some of whose packets are then mutated. Oracles:
//  - conformance: everything the broker sends is judged against the rules of the version it
//    could know (see judge.hpp); a finding names the version-qualified statement;
//  - liveness: a step the broker leaves unanswered triggers probes with backoff (a fresh client's
//    CONNECT + PINGREQ, retried over `liveness_window`); an answer after a retry is a latency
//    note, silence through every retry is a finding (and ends the run unless the fuzzer owns the
//    broker process);
//  - process (with `broker_cmd`): the fuzzer starts the broker on a free port, captures its
//    output, and detects exits, signals and sanitizer reports (crash) and a live process that
//    stopped answering (hang); it saves the cases that led there, finds the one that reproduces
//    it on a fresh process, restarts the broker and goes on.
// Findings are deduplicated by (kind, statement, normalized observation) with a count; each
// distinct one is replayed on fresh broker state, minimized (delta debugging over steps, then
// over frames and bytes) while it still reproduces, and saved as a case file with its whole
// session (every step of every connection since the first CONNECT), next to JUnit, JSON and HTML
// reports written by the conformance runner's report code.
#include "mqttspec/codec/types.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace asio::ssl {
class context;
}

namespace mqttspec::netfuzz {

// Where the broker listens and how to talk to it.
struct net_target {
  std::string host = "127.0.0.1";
  std::string port = "1883";
  std::optional<std::string> ws_path;       // set: MQTT over WebSocket, upgraded at this path
  std::shared_ptr<asio::ssl::context> tls;  // set: TLS (a client context)
  bool tls_verify = true;                   // the certificate must name `host`
  std::string display() const;              // host:port, ws://host:port/path, ... (+ " over TLS")
};

struct net_fuzz_options {
  net_target target;
  // Set: the fuzzer runs the broker itself. "{port}" in it is replaced by a free port, which the
  // target then uses; the command runs under /bin/sh. Its output goes to <report_dir>/broker/.
  std::string broker_cmd;
  std::chrono::milliseconds duration{10'000};  // 0: no time limit (then max_cases must be set)
  std::uint64_t max_cases = 0;                  // 0: no case limit
  std::uint64_t seed = 1;                       // same seed, same scripts
  std::vector<codec::protocol_version> versions{codec::protocol_version::v3_1_1, codec::protocol_version::v5};
  std::chrono::milliseconds reply_timeout{1000};     // a step's answer (the PINGRESP behind it)
  std::chrono::milliseconds liveness_window{5000};   // probes with backoff over this long
  std::filesystem::path report_dir = "reports/fuzz/net";
  std::size_t max_findings = 50;  // distinct findings; the run stops at this many
  double mutation_rate = 0.75;    // share of scripts with mutated steps
  bool minimize = true;
  std::chrono::milliseconds minimize_budget{20'000};  // per finding
  unsigned replays = 3;   // each distinct finding is replayed this many times to judge it
  unsigned workers = 2;   // scripts played in parallel
  // Shown in the reports after "mqttspec fuzz --replay FILE" (target options, --broker-cmd ...).
  std::string rerun_args;
  // The statement catalogs (conformance/statements); empty: reports carry no rule texts.
  std::filesystem::path statements_dir;
  bool quiet = false;  // no progress lines
};

struct net_fuzz_stats {
  std::uint64_t cases = 0;        // scripts played
  std::uint64_t steps = 0;        // script steps played
  std::uint64_t connections = 0;
  std::uint64_t findings = 0;     // distinct
  std::uint64_t occurrences = 0;  // all, duplicates included
  std::uint64_t reproduced = 0;   // distinct findings that replayed every time
  std::uint64_t restarts = 0;     // broker processes restarted after a crash or hang
  std::uint64_t latency_notes = 0;
  double seconds = 0;
};

// Runs the fuzzer; progress and findings go to `log`. Returns 0 when no finding, 1 when there
// were findings, 2 when the broker could not be reached (or started) at all.
int run_net_fuzz(const net_fuzz_options& options, std::ostream& log, net_fuzz_stats* stats = nullptr);

// Replays one saved case `repeat` times against the target of `options` (with broker_cmd, on a
// fresh broker process each time; else under a fresh token, so no state of earlier plays is
// reused). Returns 1 when the finding reproduced every time, 3 when only sometimes, 0 when
// never, 2 on a bad file or a broker that cannot be reached.
int replay_net_case(const std::filesystem::path& file, const net_fuzz_options& options, std::ostream& log,
                    unsigned repeat = 1);

}  // namespace mqttspec::netfuzz
