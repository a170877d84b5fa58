#include "mqttspec/conformance/reports.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace mqttspec::conformance {

std::map<verdict, std::size_t> run_summary::counts() const {
  std::map<verdict, std::size_t> c;
  for (const auto& r : results) ++c[r.v];
  return c;
}

bool run_summary::any_failure() const {
  return std::any_of(results.begin(), results.end(), [&](const auto& r) { return is_failure(r.v, strict); });
}

std::string rerun_command(const run_summary& s, const scenario& sc) {
  return "mqttspec run '" + sc.id + "'" + (s.rerun_args.empty() ? "" : " " + s.rerun_args);
}

namespace {

const char* mark(verdict v) {
  switch (v) {
    case verdict::pass: return "✔";
    case verdict::fail: return "×";
    case verdict::non_strict: return "!";
    case verdict::informational: return "i";
    case verdict::unsupported: return "-";
    case verdict::error: return "E";
  }
  return "?";
}

}  // namespace

void print_progress(const scenario_result& r, std::size_t done, std::size_t total, std::ostream& out) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%3zu/%3zu] %-13s ", done, total, std::string(to_string(r.v)).c_str());
  out << buf << r.sc->id << " (" << static_cast<long>(r.duration_ms) << " ms)\n";
}

void print_tree(const run_summary& s, std::ostream& out) {
  std::string last_version, last_section;
  for (const auto& r : s.results) {
    const auto& sc = *r.sc;
    const std::string ver(display_name(sc.version));
    if (ver != last_version) {
      out << "\nMQTT " << ver << "\n";
      last_version = ver;
      last_section.clear();
    }
    if (sc.section != last_section) {
      out << "  " << sc.section << "\n";
      last_section = sc.section;
    }
    out << "    " << mark(r.v) << " " << sc.id << ": " << sc.title;
    if (r.v != verdict::pass) out << "  [" << to_string(r.v) << "]";
    out << "\n";
    if (r.v == verdict::fail || r.v == verdict::non_strict || r.v == verdict::informational || r.v == verdict::error) {
      out << "        statements: ";
      for (const auto& id : sc.statements) out << id << " ";
      out << "\n        requirement: " << sc.requirement << "\n";
      if (!r.expected.empty()) out << "        expected: " << r.expected << "\n        observed: " << r.observed << "\n";
      else out << "        " << r.message << "\n";
      for (const auto& f : r.findings) out << "        finding: " << f << "\n";
      out << "        rerun: " << rerun_command(s, sc) << "\n";
    } else if (r.v == verdict::unsupported) {
      out << "        " << r.message << "\n";
    }
  }
  const auto c = s.counts();
  auto n = [&](verdict v) { return c.count(v) ? c.at(v) : 0; };
  out << "\n" << s.results.size() << " scenarios, " << n(verdict::pass) << " passed, " << n(verdict::fail)
      << " failed, " << n(verdict::non_strict) << " non-strict, " << n(verdict::informational) << " informational, "
      << n(verdict::unsupported) << " unsupported, " << n(verdict::error) << " errors in "
      << static_cast<long>(s.wall_ms) << " ms against " << s.target << "\n";
}

}  // namespace mqttspec::conformance
