#include "mqttspec/conformance/reports.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
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
  return s.rerun_prefix + " '" + sc.id + "'" + (s.rerun_args.empty() ? "" : " " + s.rerun_args);
}

std::vector<finding> group_findings(const std::vector<scenario_result>& results) {
  std::vector<finding> out;
  std::map<std::pair<std::string, std::string>, std::size_t> index;  // (statement, observation) -> out[i]
  for (const auto& r : results) {
    if (r.v != verdict::fail && r.v != verdict::non_strict) continue;
    // A failure made only of undecodable bytes has no observed text; its message is the finding.
    const auto& observed = r.observed.empty() ? r.message : r.observed;
    auto key = std::make_pair(failed_statement(r), normalize_observation(observed));
    auto [it, fresh] = index.try_emplace(key, out.size());
    if (fresh) out.push_back(finding{key.first, key.second, r.v, {}});
    auto& f = out[it->second];
    if (r.v == verdict::fail) f.v = verdict::fail;
    f.results.push_back(&r);
  }
  std::stable_sort(out.begin(), out.end(), [](const finding& a, const finding& b) {
    if (a.v != b.v) return a.v == verdict::fail;
    return a.results.size() > b.results.size();
  });
  return out;
}

namespace {

// At most `max` bytes, not cutting a UTF-8 sequence.
std::string shorten(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n) + "...";
}

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
      if (!r.broken.empty()) out << "\n        broken: " << r.broken;
      out << "\n        requirement: " << sc.requirement << "\n";
      if (!r.expected.empty()) out << "        expected: " << r.expected << "\n        observed: " << r.observed << "\n";
      else out << "        " << r.message << "\n";
      for (const auto& f : r.findings) out << "        finding: " << f << "\n";
      out << "        rerun: " << rerun_command(s, sc) << "\n";
    } else if (r.v == verdict::unsupported) {
      out << "        " << r.message << "\n";
    }
  }
  // One line per defect, so a vendor sees eight failures of one cause as one thing to fix.
  const auto findings = group_findings(s.results);
  if (!findings.empty()) out << "\nFindings\n";
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const auto& f = findings[i];
    const auto n = f.results.size();
    out << "  " << i + 1 << ". " << f.statement << " [" << to_string(f.v) << ", " << n
        << (n == 1 ? " scenario" : " scenarios") << "] " << shorten(f.observation, 100)
        << "  rerun: " << rerun_command(s, *f.results.front()->sc) << "\n";
  }
  const auto c = s.counts();
  auto n = [&](verdict v) { return c.count(v) ? c.at(v) : 0; };
  out << "\n" << s.results.size() << " scenarios, " << n(verdict::pass) << " passed, " << n(verdict::fail)
      << " failed, " << n(verdict::non_strict) << " non-strict, " << n(verdict::informational) << " informational, "
      << n(verdict::unsupported) << " unsupported, " << n(verdict::error) << " errors in "
      << static_cast<long>(s.wall_ms) << " ms against " << s.target << "\n";
}

}  // namespace mqttspec::conformance
