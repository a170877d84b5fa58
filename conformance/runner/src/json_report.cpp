#include "mqttspec/conformance/reports.hpp"

#include <ostream>

namespace mqttspec::conformance {

void write_json(const run_summary& s, const catalog& cat, std::ostream& out) {
  nlohmann::ordered_json j;
  j["tool"] = "mqttspec";
  j["target"] = s.target;
  j["started_at"] = s.started_at;
  j["wall_ms"] = s.wall_ms;
  j["strict"] = s.strict;
  auto& counts = j["counts"];
  counts = nlohmann::ordered_json::object();
  for (auto v : {verdict::pass, verdict::fail, verdict::non_strict, verdict::informational, verdict::unsupported,
                 verdict::error}) {
    const auto c = s.counts();
    counts[std::string(to_string(v))] = c.count(v) ? c.at(v) : 0;
  }
  for (const auto& [v, caps] : s.capabilities) {
    auto& c = j["capabilities"][std::string(display_name(v))];
    c["source"] = caps.source;
    c["tags"] = nlohmann::ordered_json(std::vector<std::string>(caps.tags.begin(), caps.tags.end()));
    for (const auto& [k, val] : caps.values) c["values"][k] = val;
  }
  j["notes"] = s.notes;
  // One entry per defect; "scenarios" name the results below that it made fail.
  j["findings"] = nlohmann::ordered_json::array();
  for (const auto& f : group_findings(s.results)) {
    const auto& first = *f.results.front();
    nlohmann::ordered_json x;
    x["statement"] = f.statement;
    const auto* st = cat.find(f.statement);
    x["summary"] = st ? st->summary : "";
    x["observation"] = f.observation;
    x["expected"] = first.expected;
    x["level"] = to_string(first.sc->lvl);
    x["verdict"] = to_string(f.v);
    x["scenarios"] = nlohmann::ordered_json::array();
    for (const auto* r : f.results) x["scenarios"].push_back(r->sc->id);
    j["findings"].push_back(std::move(x));
  }
  j["results"] = nlohmann::ordered_json::array();
  for (const auto& r : s.results) {
    const auto& sc = *r.sc;
    nlohmann::ordered_json x;
    x["id"] = sc.id;
    x["version"] = display_name(sc.version);
    x["section"] = sc.section;
    x["title"] = sc.title;
    x["requirement"] = sc.requirement;
    x["statements"] = sc.statements;
    x["level"] = to_string(sc.lvl);
    x["verdict"] = to_string(r.v);
    x["duration_ms"] = r.duration_ms;
    if (!r.message.empty()) x["message"] = r.message;
    if (!r.broken.empty()) x["broken"] = r.broken;
    if (!r.expected.empty()) x["expected"] = r.expected;
    if (!r.observed.empty()) x["observed"] = r.observed;
    if (!r.findings.empty()) x["findings"] = r.findings;
    if (r.step_line) x["step"] = sc.file + ":" + std::to_string(r.step_line);
    if (r.v != verdict::pass && r.v != verdict::unsupported) x["rerun"] = rerun_command(s, sc);
    auto& log = x["wire_log"];
    log = nlohmann::ordered_json::array();
    for (const auto& e : r.log) {
      nlohmann::ordered_json le{{"t_ms", e.t_ms}, {"client", e.client}, {"dir", e.direction}};
      if (!e.packet.is_null()) le["packet"] = e.packet;
      if (!e.hex.empty()) le["hex"] = e.hex;
      if (!e.note.empty()) le["note"] = e.note;
      log.push_back(std::move(le));
    }
    j["results"].push_back(std::move(x));
  }
  // Wire logs may carry bytes that are not UTF-8; replace rather than throw.
  out << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

}  // namespace mqttspec::conformance
