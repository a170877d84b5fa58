#pragma once
// Findings: what one distinct problem is (kind, statement, rule, normalized observation), how
// often it showed, the case that showed it with its whole session, how reliably it replayed,
// and its minimized form. Saved as JSON case files that `mqttspec fuzz --replay` reads, and
// reported through the conformance runner's JUnit, JSON and HTML writers.
#include "player.hpp"
#include "script.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::netfuzz {

struct finding {
  std::string kind;         // conformance, crash, hang, liveness
  std::string statement;    // version-qualified; empty for crash, hang and liveness
  std::string rule;         // which check (judge.hpp), or the kind
  std::string rule_text;
  std::string observation;  // as first observed
  std::string key;          // normalized observation: with kind and statement, the identity
  std::string hex;
  codec::protocol_version version = codec::protocol_version::v5;
  std::uint64_t case_number = 0;
  std::uint64_t count = 1;  // occurrences in the campaign
  script original;          // the case as played (every step up to the one that showed it)
  std::vector<script> before;  // played first on the same broker (crashes no single case reproduces)
  std::vector<trace_entry> trace;
  std::optional<script> minimized;
  std::vector<trace_entry> minimized_trace;
  unsigned replays = 0, reproduced = 0;          // of the original
  unsigned min_replays = 0, min_reproduced = 0;  // of the minimized case
  std::string broker_output;  // crash, hang: the end of the broker's output
  std::string note;
  std::filesystem::path file, minimized_file;

  bool stable() const { return replays > 0 && reproduced == replays; }
  // The case a user should replay: the minimized one when it reproduces as reliably.
  const std::filesystem::path& best_file() const {
    return minimized && min_reproduced == min_replays && min_replays > 0 ? minimized_file : file;
  }
};

// The identity of a finding: its observation with the script's token and the values that differ
// between runs replaced (normalize_observation of the conformance reports).
std::string finding_key(const std::string& kind, const std::string& statement, const std::string& observation,
                        const std::string& token);

// Writes <dir>/<kind>-<NNNN>.case (and .min.case when minimized); sets f.file / f.minimized_file.
void save_finding(const std::filesystem::path& dir, std::size_t index, finding& f);

// A saved case: the finding's identity and the script(s) to replay. Also reads the line-based
// files of earlier versions ("version 5", "send <hex>" lines: one connection).
struct saved_case {
  std::string kind, statement, rule, observation;
  codec::protocol_version version = codec::protocol_version::v5;
  script s;
  std::vector<script> before;
};
std::optional<saved_case> load_case(const std::filesystem::path& file, std::string& error);

// Campaign figures shown in the reports.
struct campaign_summary {
  std::string target;
  std::string rerun_args;
  std::string started_at;
  double seconds = 0;
  std::uint64_t cases = 0, steps = 0, connections = 0, restarts = 0, latency_notes = 0;
  std::vector<std::string> notes;
};

// junit.xml, results.json and report.html (the conformance runner's writers: findings grouped
// like its failures, each case with its wire log) and netfuzz.json (the campaign: figures and
// every distinct finding with its count and replay results). Error text when a file failed.
std::optional<std::string> write_reports(const std::filesystem::path& dir, const campaign_summary& c,
                                         const std::vector<finding>& findings,
                                         const std::filesystem::path& statements_dir);

}  // namespace mqttspec::netfuzz
