#include "mqttspec/conformance/coverage.hpp"
#include "mqttspec/conformance/reports.hpp"

#include <fstream>
#include <ostream>

namespace mqttspec::conformance {
namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += (c < 0x20 && c != '\n' && c != '\t') ? '?' : static_cast<char>(c);
    }
  }
  return out;
}

std::string cls(verdict v) {
  std::string s(to_string(v));
  return "v-" + s;
}

// The id of a scenario's entry among the failures, for links from the findings.
std::string anchor(const scenario& sc) { return "sc-" + esc(sc.id); }

}  // namespace

void write_html(const run_summary& s, const catalog& cat, std::ostream& out) {
  out << R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mqttspec report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;font-size:13px;vertical-align:top}
.v-pass{background:#d8f5d8}.v-fail{background:#f8c8c8}.v-non-strict{background:#fde8b0}.v-informational{background:#dde8f8}
.v-unsupported{background:#eee}.v-error{background:#f0a0f0}.gap{background:#fff3f3}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}
details{margin:0.5em 0}
li{margin:0.4em 0;padding:2px 6px}
</style></head><body>
)";
  out << "<h1>mqttspec conformance report</h1>\n<p>Target: <b>" << esc(s.target) << "</b>; started " << esc(s.started_at)
      << "; " << static_cast<long>(s.wall_ms) << " ms" << (s.strict ? "; strict mode" : "") << "</p>\n";
  // Summary.
  out << "<h2>Summary</h2>\n<table><tr>";
  const auto counts = s.counts();
  for (auto v : {verdict::pass, verdict::fail, verdict::non_strict, verdict::informational, verdict::unsupported,
                 verdict::error})
    out << "<th class=\"" << cls(v) << "\">" << to_string(v) << "</th>";
  out << "<th>total</th></tr><tr>";
  for (auto v : {verdict::pass, verdict::fail, verdict::non_strict, verdict::informational, verdict::unsupported,
                 verdict::error})
    out << "<td>" << (counts.count(v) ? counts.at(v) : 0) << "</td>";
  out << "<td>" << s.results.size() << "</td></tr></table>\n";
  for (const auto& [v, caps] : s.capabilities) {
    out << "<p>MQTT " << display_name(v) << " capabilities (" << esc(caps.source) << "):";
    for (const auto& t : caps.tags) out << " <code>" << esc(t) << "</code>";
    out << "</p>\n";
  }
  for (const auto& n : s.notes) out << "<p>Note: " << esc(n) << "</p>\n";

  // Findings first: one per defect, linking to the failures it explains.
  out << "<h2>Findings</h2>\n";
  const auto findings = group_findings(s.results);
  out << (findings.empty() ? "<p>None.</p>\n" : "<ol>\n");
  for (const auto& f : findings) {
    const auto* st = cat.find(f.statement);
    const auto n = f.results.size();
    out << "<li class=\"" << cls(f.v) << "\"><b>" << esc(f.statement) << "</b> — "
        << esc(st ? st->summary : f.observation) << " (" << n << (n == 1 ? " scenario" : " scenarios")
        << ")<br>observed: <code>" << esc(f.observation) << "</code><br>";
    for (const auto* r : f.results) out << "<a href=\"#" << anchor(*r->sc) << "\">" << esc(r->sc->id) << "</a> ";
    out << "</li>\n";
  }
  if (!findings.empty()) out << "</ol>\n";

  // Failures with their wire logs.
  out << "<h2>Failures, errors and warnings</h2>\n";
  bool any = false;
  for (const auto& r : s.results) {
    if (r.v == verdict::pass || r.v == verdict::unsupported) continue;
    any = true;
    const auto& sc = *r.sc;
    out << "<details open id=\"" << anchor(sc) << "\"><summary class=\"" << cls(r.v) << "\"><b>" << esc(sc.id)
        << "</b> [" << to_string(r.v) << "] " << esc(sc.title) << "</summary>\n<table>";
    out << "<tr><th>statements</th><td>";
    for (const auto& id : sc.statements) out << esc(id) << " ";
    out << "(" << to_string(sc.lvl) << ")</td></tr>";
    if (!r.broken.empty()) out << "<tr><th>broken</th><td>" << esc(r.broken) << "</td></tr>";
    out << "<tr><th>requirement</th><td>" << esc(sc.requirement) << "</td></tr>";
    if (!r.expected.empty()) {
      out << "<tr><th>expected</th><td>" << esc(r.expected) << "</td></tr>";
      out << "<tr><th>observed</th><td>" << esc(r.observed) << "</td></tr>";
    } else {
      out << "<tr><th>message</th><td>" << esc(r.message) << "</td></tr>";
    }
    for (const auto& f : r.findings) out << "<tr><th>finding</th><td>" << esc(f) << "</td></tr>";
    out << "<tr><th>scenario</th><td>" << esc(sc.file) << ":" << (r.step_line ? r.step_line : sc.line) << "</td></tr>";
    out << "<tr><th>rerun</th><td><code>" << esc(rerun_command(s, sc)) << "</code></td></tr></table>\n";
    out << "<pre>" << esc(wire_log_text(r)) << "</pre></details>\n";
  }
  if (!any) out << "<p>None.</p>\n";

  // Statement matrix.
  if (s.statement_matrix) out << "<h2>Statement matrix</h2>\n";
  for (auto v : {suite_version::v3_1_1, suite_version::v5}) {
    if (!s.statement_matrix) break;
    out << "<h3>MQTT " << display_name(v) << "</h3>\n<table><tr><th>statement</th><th>section</th><th>applies to</th>"
        << "<th>black box</th><th>verdict</th><th>scenarios</th><th>summary</th></tr>\n";
    for (const auto& row : coverage_rows(cat, v, s.results)) {
      const std::string c = row.overall ? cls(*row.overall) : (row.status() == "UNCOVERED" ? "gap" : "");
      out << "<tr class=\"" << c << "\"><td>" << esc(row.st->id) << "</td><td>" << esc(row.st->section) << "</td><td>"
          << esc(row.st->applies_to) << "</td><td>" << esc(row.st->black_box) << "</td><td>"
          << (row.overall ? std::string(to_string(*row.overall)) : "not run") << "</td><td>";
      for (std::size_t i = 0; i < row.scenarios.size(); ++i)
        out << esc(row.scenarios[i]->id) << " (" << to_string(row.verdicts[i]) << ")<br>";
      if (!row.not_testable.empty()) out << "<i>not testable: " << esc(row.not_testable) << "</i>";
      out << "</td><td>" << esc(row.st->summary) << "</td></tr>\n";
    }
    out << "</table>\n";
  }

  // Every scenario.
  out << "<h2>All scenarios</h2>\n<table><tr><th>id</th><th>verdict</th><th>level</th><th>statements</th><th>title</th>"
      << "<th>ms</th></tr>\n";
  for (const auto& r : s.results) {
    out << "<tr class=\"" << cls(r.v) << "\"><td>" << esc(r.sc->id) << "</td><td>" << to_string(r.v) << "</td><td>"
        << to_string(r.sc->lvl) << "</td><td>";
    for (const auto& id : r.sc->statements) out << esc(id) << " ";
    out << "</td><td>" << esc(r.sc->title) << "</td><td>" << static_cast<long>(r.duration_ms) << "</td></tr>\n";
  }
  out << "</table>\n</body></html>\n";
}

std::optional<std::string> write_reports(const run_summary& s, const catalog& cat, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  auto write = [&](const char* name, auto&& fn) -> std::optional<std::string> {
    std::ofstream f(dir / name, std::ios::binary);
    if (!f) return "cannot write " + (dir / name).string();
    fn(f);
    f.close();
    if (!f) return "error writing " + (dir / name).string();
    return std::nullopt;
  };
  if (auto e = write("junit.xml", [&](std::ostream& o) { write_junit(s, o); })) return e;
  if (auto e = write("results.json", [&](std::ostream& o) { write_json(s, cat, o); })) return e;
  if (auto e = write("statements.csv", [&](std::ostream& o) { write_statement_csv(s, cat, o); })) return e;
  if (auto e = write("statements.md", [&](std::ostream& o) { write_statement_markdown(s, cat, o); })) return e;
  if (auto e = write("report.html", [&](std::ostream& o) { write_html(s, cat, o); })) return e;
  return std::nullopt;
}

}  // namespace mqttspec::conformance
