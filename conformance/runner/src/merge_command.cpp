// `mqttspec merge A/results.json B/results.json ... --report-dir DIR`: the results.json of the
// shards of one run (`mqttspec run --shard K/N`) joined into one set of reports, as if one run had
// played them all: results in suite order, findings regrouped across shards, every report written
// by the same writers as `run`.
#include "mqttspec/conformance/stored_results.hpp"
#include "suite_loading.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <unordered_map>

namespace mqttspec::conformance {
namespace {

std::string describe(const capability_set& c) {
  std::string s;
  for (const auto& t : c.tags) s += (s.empty() ? "" : " ") + t;
  for (const auto& [k, v] : c.values) s += (s.empty() ? "" : " ") + k + "=" + v;
  return s;
}

}  // namespace

int merge_command(const merge_request& req, std::ostream& out, std::ostream& err) {
  if (req.inputs.empty()) {
    err << "mqttspec: merge needs at least one results.json\n";
    return 2;
  }
  catalog cat;
  load_result loaded;
  if (!load_suite(req.paths, cat, loaded, err)) return 2;

  std::vector<std::unique_ptr<stored_run>> runs;
  for (const auto& f : req.inputs) {
    auto run = std::make_unique<stored_run>();
    if (auto e = read_results(f, &loaded.scenarios, *run)) {
      err << "mqttspec: " << *e << "\n";
      return 2;
    }
    runs.push_back(std::move(run));
  }

  run_summary merged;
  const auto& first = runs.front()->summary;
  merged.strict = first.strict;
  merged.rerun_prefix = first.rerun_prefix;
  merged.rerun_args = first.rerun_args;
  merged.started_at = first.started_at;
  std::vector<std::string> targets;
  std::map<std::string, const stored_run*> owner;  // scenario id -> the input that has it
  for (const auto& run : runs) {
    const auto& s = run->summary;
    if (s.strict != merged.strict) {
      err << "mqttspec: " << run->file.string() << " was run " << (s.strict ? "with" : "without")
          << " --strict and " << runs.front()->file.string() << " not: verdicts would not mean the same\n";
      return 2;
    }
    if (std::find(targets.begin(), targets.end(), s.target) == targets.end()) targets.push_back(s.target);
    // Shards run side by side: the merged run took as long as the longest and began with the first.
    merged.wall_ms = std::max(merged.wall_ms, s.wall_ms);
    if (!s.started_at.empty() && (merged.started_at.empty() || s.started_at < merged.started_at))
      merged.started_at = s.started_at;
    if (merged.rerun_args.empty() && !s.rerun_args.empty()) {
      merged.rerun_prefix = s.rerun_prefix;
      merged.rerun_args = s.rerun_args;
    }
    for (const auto& n : s.notes)
      if (std::find(merged.notes.begin(), merged.notes.end(), n) == merged.notes.end()) merged.notes.push_back(n);
    for (const auto& [v, caps] : s.capabilities) {
      auto [it, fresh] = merged.capabilities.try_emplace(v, caps);
      if (!fresh && (it->second.tags != caps.tags || it->second.values != caps.values))
        merged.notes.push_back(run->file.string() + ": MQTT " + std::string(display_name(v)) +
                               " capabilities differ from the first shard's (" + describe(caps) + " vs " +
                               describe(it->second) + ")");
    }
    for (const auto& r : s.results) {
      auto [it, fresh] = owner.try_emplace(r.sc->id, run.get());
      if (!fresh) {
        err << "mqttspec: scenario " << r.sc->id << " is in both " << it->second->file.string() << " and "
            << run->file.string() << " (each scenario must be in one shard only)\n";
        return 2;
      }
      merged.results.push_back(r);  // points into run->scenarios, which outlives `merged`
    }
  }
  for (std::size_t i = 0; i < targets.size(); ++i) merged.target += (i ? "; " : "") + targets[i];
  if (targets.size() > 1) merged.notes.push_back("the shards ran against different targets: " + merged.target);

  // Suite order, as one run would have written them; ids the suite no longer has go last.
  std::unordered_map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < loaded.scenarios.size(); ++i) position.emplace(loaded.scenarios[i].id, i);
  auto pos = [&](const scenario_result& r) {
    const auto it = position.find(r.sc->id);
    return it == position.end() ? loaded.scenarios.size() : it->second;
  };
  std::stable_sort(merged.results.begin(), merged.results.end(),
                   [&](const scenario_result& a, const scenario_result& b) { return pos(a) < pos(b); });
  std::size_t unknown = 0;
  for (const auto& r : merged.results) unknown += position.count(r.sc->id) ? 0 : 1;
  if (unknown)
    err << "mqttspec: " << unknown << " results name scenarios this suite does not have (kept, after the others)\n";

  if (auto e = write_reports(merged, cat, req.report_dir)) {
    err << "mqttspec: " << *e << "\n";
    return 2;
  }
  const auto c = merged.counts();
  auto n = [&](verdict v) { return c.count(v) ? c.at(v) : 0; };
  out << "merged " << runs.size() << (runs.size() == 1 ? " run: " : " runs: ") << merged.results.size()
      << " scenarios, " << n(verdict::pass) << " passed, " << n(verdict::fail) << " failed, "
      << n(verdict::non_strict) << " non-strict, " << n(verdict::informational) << " informational, "
      << n(verdict::unsupported) << " unsupported, " << n(verdict::error) << " errors\n"
      << "reports: " << (req.report_dir / "report.html").string() << ", junit.xml, results.json, statements.csv\n";
  if (n(verdict::error)) return 2;
  return merged.any_failure() ? 1 : 0;
}

}  // namespace mqttspec::conformance
