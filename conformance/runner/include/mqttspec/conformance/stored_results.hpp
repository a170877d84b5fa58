#pragma once
// A run read back from its results.json, for `mqttspec merge` and `mqttspec compare`.
//
// results.json holds every field the report writers read, except two that are rebuilt: each
// scenario's file and line (filled from the loaded suite when the id is still in it; else the file
// of the failing step, when there was one) and the findings, which are regrouped from the results.
// Fields the writers do not read (a scenario's steps, `requires`) are not stored and stay empty.
#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/reports.hpp"

#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::conformance {

struct stored_run {
  std::filesystem::path file;
  // What the results point to (a deque: addresses stay put as it grows).
  std::deque<scenario> scenarios;
  run_summary summary;

  stored_run() = default;
  stored_run(const stored_run&) = delete;
  stored_run& operator=(const stored_run&) = delete;
};

// Reads `file`; `suite` (may be null) supplies scenario files and lines by id. Error text on an
// unreadable or malformed file.
std::optional<std::string> read_results(const std::filesystem::path& file, const std::vector<scenario>* suite,
                                        stored_run& out);

// The inverses of to_string(verdict) and to_string(level).
std::optional<verdict> parse_verdict(std::string_view text) noexcept;
std::optional<level> parse_level(std::string_view text) noexcept;

// The worst of two verdicts for a statement (error > fail > non-strict > informational > pass >
// unsupported), as in the statement tables.
int verdict_severity(verdict v) noexcept;

struct merge_request {
  std::vector<std::filesystem::path> inputs;  // results.json of each shard
  std::filesystem::path report_dir = "reports";
  suite_paths paths;
};
// `mqttspec merge`: the shards' results as one run, every report written again. Exit status as
// for run: 0 nothing failed, 1 failures, 2 errors (a verdict, or inputs that cannot be merged).
int merge_command(const merge_request& req, std::ostream& out, std::ostream& err);

struct compare_request {
  std::vector<std::filesystem::path> inputs;  // results.json of each broker
  std::vector<std::string> names;             // column names; empty: each input's directory name
  std::filesystem::path out_dir = "compare";
  std::optional<suite_paths> paths;           // statement summaries and scenario order, when loadable
};
// `mqttspec compare`: compare.html (self-contained) and compare.md in out_dir. 0 when written, 2
// otherwise.
int compare_command(const compare_request& req, std::ostream& out, std::ostream& err);

}  // namespace mqttspec::conformance
