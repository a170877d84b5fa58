#include "mqttspec/conformance/stored_results.hpp"

#include <cstdlib>
#include <fstream>
#include <unordered_map>

namespace mqttspec::conformance {
namespace {

using json = nlohmann::ordered_json;

std::string text_of(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double number_of(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::vector<std::string> strings_of(const json& j, const char* key) {
  std::vector<std::string> out;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& x : *it)
    if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

// rerun_command() wrote prefix + " '" + id + "'" + (args.empty() ? "" : " " + args).
void take_rerun(const std::string& rerun, const std::string& id, run_summary& s) {
  const auto quoted = " '" + id + "'";
  const auto at = rerun.find(quoted);
  if (at == std::string::npos) return;
  s.rerun_prefix = rerun.substr(0, at);
  auto rest = rerun.substr(at + quoted.size());
  if (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
  s.rerun_args = rest;
}

}  // namespace

std::optional<verdict> parse_verdict(std::string_view text) noexcept {
  for (auto v : {verdict::pass, verdict::fail, verdict::non_strict, verdict::informational, verdict::unsupported,
                 verdict::error})
    if (to_string(v) == text) return v;
  return std::nullopt;
}

std::optional<level> parse_level(std::string_view text) noexcept {
  for (auto l : {level::must, level::should, level::may})
    if (to_string(l) == text) return l;
  return std::nullopt;
}

int verdict_severity(verdict v) noexcept {
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

std::optional<std::string> read_results(const std::filesystem::path& file, const std::vector<scenario>* suite,
                                        stored_run& out) {
  out.file = file;
  std::ifstream in(file, std::ios::binary);
  if (!in) return "cannot read " + file.string();
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return file.string() + ": not JSON";
  if (text_of(j, "tool") != "mqttspec" || !j.contains("results") || !j["results"].is_array())
    return file.string() + ": not an mqttspec results.json (no \"tool\": \"mqttspec\" with \"results\")";

  std::unordered_map<std::string, const scenario*> known;
  if (suite)
    for (const auto& sc : *suite) known.emplace(sc.id, &sc);

  auto& s = out.summary;
  s.target = text_of(j, "target");
  s.started_at = text_of(j, "started_at");
  s.wall_ms = number_of(j, "wall_ms");
  s.strict = j.value("strict", false);
  s.notes = strings_of(j, "notes");
  if (const auto caps = j.find("capabilities"); caps != j.end() && caps->is_object()) {
    for (const auto& [name, c] : caps->items()) {
      const auto v = parse_suite_version(name);
      if (!v || !c.is_object()) return file.string() + ": capabilities of an unknown version " + name;
      capability_set set;
      set.source = text_of(c, "source");
      for (const auto& t : strings_of(c, "tags")) set.tags.insert(t);
      if (const auto vals = c.find("values"); vals != c.end() && vals->is_object())
        for (const auto& [k, val] : vals->items()) set.values[k] = val.is_string() ? val.get<std::string>() : val.dump();
      s.capabilities[*v] = std::move(set);
    }
  }

  bool rerun_taken = false;
  for (const auto& x : j["results"]) {
    if (!x.is_object()) return file.string() + ": a result that is not an object";
    const auto id = text_of(x, "id");
    const auto version = parse_suite_version(text_of(x, "version"));
    const auto v = parse_verdict(text_of(x, "verdict"));
    const auto lvl = parse_level(text_of(x, "level"));
    if (id.empty() || !version || !v || !lvl)
      return file.string() + ": result " + (id.empty() ? "without an id" : id) + " lacks a valid version, verdict or level";
    scenario sc;
    sc.id = id;
    sc.version = *version;
    sc.section = text_of(x, "section");
    sc.title = text_of(x, "title");
    sc.requirement = text_of(x, "requirement");
    sc.statements = strings_of(x, "statements");
    sc.lvl = *lvl;
    scenario_result r;
    r.v = *v;
    r.duration_ms = number_of(x, "duration_ms");
    r.message = text_of(x, "message");
    r.broken = text_of(x, "broken");
    r.expected = text_of(x, "expected");
    r.observed = text_of(x, "observed");
    r.findings = strings_of(x, "findings");
    if (const auto step = text_of(x, "step"); !step.empty()) {
      const auto colon = step.rfind(':');
      if (colon != std::string::npos) {
        sc.file = step.substr(0, colon);
        r.step_line = std::atoi(step.c_str() + colon + 1);
      }
    }
    if (const auto it = known.find(id); it != known.end()) {
      if (sc.file.empty()) sc.file = it->second->file;
      sc.line = it->second->line;
      sc.requires_caps = it->second->requires_caps;
    }
    if (!rerun_taken) {
      if (const auto rerun = text_of(x, "rerun"); !rerun.empty()) {
        take_rerun(rerun, id, s);
        rerun_taken = true;
      }
    }
    if (const auto log = x.find("wire_log"); log != x.end() && log->is_array()) {
      for (const auto& e : *log) {
        wire_entry we;
        we.t_ms = number_of(e, "t_ms");
        we.client = text_of(e, "client");
        we.direction = text_of(e, "dir");
        if (const auto p = e.find("packet"); p != e.end()) we.packet = *p;
        we.hex = text_of(e, "hex");
        we.note = text_of(e, "note");
        r.log.push_back(std::move(we));
      }
    }
    out.scenarios.push_back(std::move(sc));
    r.sc = &out.scenarios.back();
    s.results.push_back(std::move(r));
  }
  return std::nullopt;
}

}  // namespace mqttspec::conformance
