#pragma once
// Everything a run writes: JUnit XML, results.json, the per-statement table, the HTML page and the
// console tree. All read one run_summary.
#include "mqttspec/conformance/capabilities.hpp"
#include "mqttspec/conformance/statements.hpp"
#include "mqttspec/conformance/verdict.hpp"

#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::conformance {

struct run_summary {
  std::string target;           // "127.0.0.1:1883" or "embedded reference broker"
  std::string rerun_args;       // what to append to `mqttspec run <id>` to rerun one case
  std::string started_at;       // ISO 8601 UTC
  double wall_ms = 0;
  bool strict = false;
  std::vector<scenario_result> results;  // in scenario order
  std::map<suite_version, capability_set> capabilities;
  std::vector<std::string> notes;  // capability probe warnings etc.
  // How one case is rerun: rerun_prefix + " '" + scenario id + "'" + rerun_args. The network
  // fuzzer's reports name case files: "mqttspec fuzz --replay".
  std::string rerun_prefix = "mqttspec run";
  bool statement_matrix = true;  // report.html: the per-statement table (not for fuzz campaigns)

  std::map<verdict, std::size_t> counts() const;
  bool any_failure() const;
};

std::string rerun_command(const run_summary& s, const scenario& sc);

// One broker defect: the failures (fail and non-strict; errors are the harness's, never findings)
// that name the same statement with the same normalized observation.
struct finding {
  std::string statement;    // failed_statement() of every member
  std::string observation;  // normalize_observation() of their observed text (or message)
  verdict v = verdict::fail;                    // the worst member's
  std::vector<const scenario_result*> results;  // in scenario order
};
// Fails before non-stricts, then the widest first, then in scenario order.
std::vector<finding> group_findings(const std::vector<scenario_result>& results);

// JUnit: one <testsuite> per (version, section), <testcase name=scenario id>.
void write_junit(const run_summary& s, std::ostream& out);
void write_json(const run_summary& s, const catalog& cat, std::ostream& out);
// Per statement of the catalog: scenarios and their verdicts (CSV and markdown).
void write_statement_csv(const run_summary& s, const catalog& cat, std::ostream& out);
void write_statement_markdown(const run_summary& s, const catalog& cat, std::ostream& out);
void write_html(const run_summary& s, const catalog& cat, std::ostream& out);

// Writes junit.xml, results.json, statements.csv, statements.md, report.html into `dir`.
// Error text when a file could not be written.
std::optional<std::string> write_reports(const run_summary& s, const catalog& cat, const std::filesystem::path& dir);

// Console: one progress line per finished scenario, then the tree and the summary line.
void print_progress(const scenario_result& r, std::size_t done, std::size_t total, std::ostream& out);
void print_tree(const run_summary& s, std::ostream& out);

}  // namespace mqttspec::conformance
