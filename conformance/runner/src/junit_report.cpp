#include "mqttspec/conformance/reports.hpp"

#include <pugixml.hpp>

#include <cstdio>
#include <map>
#include <ostream>

namespace mqttspec::conformance {
namespace {

std::string seconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms / 1000.0);
  return buf;
}

void property(pugi::xml_node props, const char* name, const std::string& value) {
  auto p = props.append_child("property");
  p.append_attribute("name") = name;
  p.append_attribute("value") = value.c_str();
}

// XML 1.0 cannot carry most control characters, even escaped; wire logs may hold any byte.
std::string xml_safe(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += (c < 0x20 && c != '\n' && c != '\t' && c != '\r') ? '?' : static_cast<char>(c);
  return out;
}

}  // namespace

void write_junit(const run_summary& s, std::ostream& out) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto root = doc.append_child("testsuites");
  root.append_attribute("name") = ("mqttspec against " + s.target).c_str();

  // Suites in first-seen order, so the file follows the scenario order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const scenario_result*>> suites;
  for (const auto& r : s.results) {
    const auto key = std::string(qualifier(r.sc->version)) + ":" + r.sc->section;
    if (!suites.count(key)) order.push_back(key);
    suites[key].push_back(&r);
  }
  // Each failing testcase names its finding, so CI shows which failures share one defect.
  const auto findings = group_findings(s.results);
  std::map<const scenario_result*, std::string> finding_of;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const auto& f = findings[i];
    const auto n = f.results.size();
    const auto text = "finding " + std::to_string(i + 1) + " of " + std::to_string(findings.size()) + ": " +
                      f.statement + ": " + f.observation + " (" + std::to_string(n) +
                      (n == 1 ? " scenario)" : " scenarios)");
    for (const auto* r : f.results) finding_of[r] = text;
  }
  std::size_t total = 0, failures = 0, errors = 0, skipped = 0;
  double time = 0;
  for (const auto& key : order) {
    auto suite = root.append_child("testsuite");
    std::size_t t = 0, f = 0, e = 0, sk = 0;
    double ms = 0;
    suite.append_attribute("name") = ("MQTT " + key).c_str();
    for (const auto* r : suites[key]) {
      const auto& sc = *r->sc;
      ++t;
      ms += r->duration_ms;
      auto tc = suite.append_child("testcase");
      tc.append_attribute("name") = sc.id.c_str();
      tc.append_attribute("classname") = ("mqttspec." + key).c_str();
      tc.append_attribute("time") = seconds(r->duration_ms).c_str();
      auto props = tc.append_child("properties");
      property(props, "verdict", std::string(to_string(r->v)));
      property(props, "level", std::string(to_string(sc.lvl)));
      for (const auto& id : sc.statements) property(props, "statement", id);
      property(props, "title", sc.title);
      if (!r->broken.empty()) property(props, "broken", r->broken);
      const auto group = finding_of.find(r);
      if (group != finding_of.end()) property(props, "finding", xml_safe(group->second));
      const std::string detail = "requirement: " + sc.requirement + "\nexpected: " + r->expected + "\nobserved: " +
                                 r->observed + "\nrerun: " + rerun_command(s, sc);
      if (is_failure(r->v, s.strict) && r->v != verdict::error) {
        ++f;
        auto fl = tc.append_child("failure");
        fl.append_attribute("message") = xml_safe(failed_statement(*r) + ": " + r->message).c_str();
        fl.append_attribute("type") = std::string(to_string(r->v)).c_str();
        std::string text = (group != finding_of.end() ? group->second + "\n" : "") + detail;
        for (const auto& fd : r->findings) text += "\nfinding: " + fd;
        fl.text().set(xml_safe(text).c_str());
      } else if (r->v == verdict::error) {
        ++e;
        auto er = tc.append_child("error");
        er.append_attribute("message") = xml_safe(r->message).c_str();
        er.append_attribute("type") = "harness";
        er.text().set(xml_safe(detail).c_str());
      } else if (r->v == verdict::unsupported) {
        ++sk;
        tc.append_child("skipped").append_attribute("message") = xml_safe(r->message).c_str();
      }
      if (!r->log.empty()) tc.append_child("system-out").text().set(xml_safe(wire_log_text(*r)).c_str());
    }
    suite.append_attribute("tests") = t;
    suite.append_attribute("failures") = f;
    suite.append_attribute("errors") = e;
    suite.append_attribute("skipped") = sk;
    suite.append_attribute("time") = seconds(ms).c_str();
    suite.append_attribute("timestamp") = s.started_at.c_str();
    total += t;
    failures += f;
    errors += e;
    skipped += sk;
    time += ms;
  }
  root.append_attribute("tests") = total;
  root.append_attribute("failures") = failures;
  root.append_attribute("errors") = errors;
  root.append_attribute("skipped") = skipped;
  root.append_attribute("time") = seconds(s.wall_ms).c_str();
  (void)time;
  doc.save(out, "  ");
}

}  // namespace mqttspec::conformance
