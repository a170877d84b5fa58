#include "mqttspec/conformance/coverage.hpp"
#include "mqttspec/conformance/reports.hpp"

#include <algorithm>
#include <map>
#include <ostream>

namespace mqttspec::conformance {
namespace {

// Severity order for "worst verdict of a statement".
int severity(verdict v) {
  switch (v) {
    case verdict::error: return 5;
    case verdict::fail: return 4;
    case verdict::non_strict: return 3;
    case verdict::informational: return 2;
    case verdict::pass: return 1;
    case verdict::unsupported: return 0;
  }
  return 0;
}

std::string csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string md(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

std::string coverage_row::status() const {
  if (!scenarios.empty()) return "covered";
  if (!not_testable.empty()) return "not testable";
  if (!catalog::server_relevant(*st)) return "client-only";
  return "UNCOVERED";
}

std::vector<coverage_row> coverage_rows(const catalog& cat, suite_version v, const std::vector<scenario>& scenarios,
                                        const std::vector<scenario_result>& results) {
  std::map<const scenario*, verdict> ran;
  for (const auto& r : results) ran[r.sc] = r.v;
  std::vector<coverage_row> rows;
  for (const auto& st : cat.all(v)) {
    coverage_row row;
    row.st = &st;
    if (const auto* u = cat.not_testable(st.id)) row.not_testable = u->reason;
    for (const auto& sc : scenarios) {
      if (std::find(sc.statements.begin(), sc.statements.end(), st.id) == sc.statements.end()) continue;
      row.scenarios.push_back(&sc);
      if (auto it = ran.find(&sc); it != ran.end()) {
        row.verdicts.push_back(it->second);
        if (!row.overall || severity(it->second) > severity(*row.overall)) row.overall = it->second;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<coverage_row> coverage_rows(const catalog& cat, suite_version v, const std::vector<scenario_result>& results) {
  std::vector<coverage_row> rows;
  for (const auto& st : cat.all(v)) {
    coverage_row row;
    row.st = &st;
    if (const auto* u = cat.not_testable(st.id)) row.not_testable = u->reason;
    for (const auto& r : results) {
      const auto& ids = r.sc->statements;
      if (std::find(ids.begin(), ids.end(), st.id) == ids.end()) continue;
      row.scenarios.push_back(r.sc);
      row.verdicts.push_back(r.v);
      if (!row.overall || severity(r.v) > severity(*row.overall)) row.overall = r.v;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void write_statement_csv(const run_summary& s, const catalog& cat, std::ostream& out) {
  out << "statement,section,applies_to,black_box,status,verdict,scenarios,not_testable_reason\n";
  for (auto v : {suite_version::v3_1_1, suite_version::v5}) {
    for (const auto& row : coverage_rows(cat, v, s.results)) {
      std::string list;
      for (std::size_t i = 0; i < row.scenarios.size(); ++i)
        list += (i ? " " : "") + row.scenarios[i]->id + "=" + std::string(to_string(row.verdicts[i]));
      out << row.st->id << "," << row.st->section << "," << row.st->applies_to << "," << row.st->black_box << ","
          << (row.scenarios.empty() ? row.status() : "ran") << ","
          << (row.overall ? std::string(to_string(*row.overall)) : "") << "," << csv(list) << ","
          << csv(row.not_testable) << "\n";
    }
  }
}

void write_statement_markdown(const run_summary& s, const catalog& cat, std::ostream& out) {
  out << "# Statement verdicts against " << s.target << "\n\n";
  for (auto v : {suite_version::v3_1_1, suite_version::v5}) {
    out << "## MQTT " << display_name(v) << "\n\n| statement | section | black box | verdict | scenarios |\n"
        << "| --- | --- | --- | --- | --- |\n";
    for (const auto& row : coverage_rows(cat, v, s.results)) {
      std::string list;
      for (std::size_t i = 0; i < row.scenarios.size(); ++i)
        list += (i ? ", " : "") + row.scenarios[i]->id + " (" + std::string(to_string(row.verdicts[i])) + ")";
      if (list.empty()) list = row.not_testable.empty() ? "" : "not testable: " + row.not_testable;
      out << "| " << row.st->id << " | " << row.st->section << " | " << row.st->black_box << " | "
          << (row.overall ? std::string(to_string(*row.overall)) : "not run") << " | " << md(list) << " |\n";
    }
    out << "\n";
  }
}

std::size_t print_coverage(const catalog& cat, const std::vector<scenario>& scenarios, bool only_gaps, std::ostream& out) {
  std::size_t gaps_total = 0;
  for (auto v : {suite_version::v3_1_1, suite_version::v5}) {
    const auto rows = coverage_rows(cat, v, scenarios, {});
    std::size_t covered = 0, untestable = 0, client = 0, gaps = 0, relevant = 0, yes_covered = 0, yes_total = 0;
    out << "MQTT " << display_name(v) << "\n";
    for (const auto& row : rows) {
      const auto status = row.status();
      if (catalog::server_relevant(*row.st)) ++relevant;
      if (row.st->black_box == "yes") ++yes_total;
      if (status == "covered") {
        ++covered;
        if (row.st->black_box == "yes") ++yes_covered;
      } else if (status == "not testable") {
        ++untestable;
      } else if (status == "client-only") {
        ++client;
      } else {
        ++gaps;
      }
      if (only_gaps && status != "UNCOVERED") continue;
      out << "  " << row.st->id << "  [" << row.st->applies_to << ", black box " << row.st->black_box << "]  " << status;
      if (!row.scenarios.empty()) {
        out << ":";
        for (const auto* sc : row.scenarios) out << " " << sc->id;
      } else if (!row.not_testable.empty()) {
        out << ": " << row.not_testable;
      } else if (status == "UNCOVERED") {
        out << ": " << row.st->summary;
      }
      out << "\n";
    }
    out << "  -- " << rows.size() << " statements, " << relevant << " server-relevant: " << covered << " covered ("
        << yes_covered << " of " << yes_total << " black-box=yes), " << untestable << " not testable by network, "
        << client << " client-only, " << gaps << " uncovered\n\n";
    gaps_total += gaps;
  }
  return gaps_total;
}

}  // namespace mqttspec::conformance
