#pragma once
// Statement-by-statement view: which scenarios cover each statement of the catalog, and what they
// found. Shared by `mqttspec coverage`, statements.csv/.md and the HTML matrix.
#include "mqttspec/conformance/scenario.hpp"
#include "mqttspec/conformance/verdict.hpp"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::conformance {

struct coverage_row {
  const statement* st = nullptr;
  std::vector<const scenario*> scenarios;
  std::vector<verdict> verdicts;   // parallel to scenarios when a run is known
  std::string not_testable;        // reason, when listed in not-testable.tsv
  std::optional<verdict> overall;  // worst verdict of the run, when any ran
  std::string status() const;      // "covered", "not testable", "UNCOVERED", "client-only"
};

// One row per statement of `v`, in catalog order. `results` (may be empty) supplies verdicts.
std::vector<coverage_row> coverage_rows(const catalog& cat, suite_version v, const std::vector<scenario>& scenarios,
                                        const std::vector<scenario_result>& results);
// The same, from the scenarios that ran.
std::vector<coverage_row> coverage_rows(const catalog& cat, suite_version v, const std::vector<scenario_result>& results);

// `mqttspec coverage`: per version, every statement and its status, then totals. Returns the
// number of server-relevant statements that are neither covered nor listed as not testable.
std::size_t print_coverage(const catalog& cat, const std::vector<scenario>& scenarios, bool only_gaps, std::ostream& out);

}  // namespace mqttspec::conformance
