#include "mqttspec/conformance/capabilities.hpp"

#include "mqttspec/conformance/variables.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

namespace mqttspec::conformance {

capability_set from_connack(const codec::properties& p) {
  capability_set c;
  c.source = "CONNACK properties";
  const unsigned max_qos = p.maximum_qos.value_or(2);
  if (max_qos >= 1) c.tags.insert("qos1");
  if (max_qos >= 2) c.tags.insert("qos2");
  if (p.retain_available.value_or(1)) c.tags.insert("retain");
  if (p.wildcard_subscription_available.value_or(1)) c.tags.insert("wildcard");
  if (p.subscription_identifier_available.value_or(1)) c.tags.insert("subscription-identifiers");
  if (p.shared_subscription_available.value_or(1)) c.tags.insert("shared-subscriptions");
  if (p.topic_alias_maximum.value_or(0) > 0) c.tags.insert("topic-alias");
  if (p.maximum_packet_size) c.tags.insert("maximum-packet-size");  // a limit on what clients send
  if (p.server_keep_alive) c.tags.insert("server-keep-alive");      // the broker overrides our Keep Alive
  c.values["maximum-qos"] = std::to_string(max_qos);
  c.values["receive-maximum"] = std::to_string(p.receive_maximum.value_or(65535));
  c.values["topic-alias-maximum"] = std::to_string(p.topic_alias_maximum.value_or(0));
  // No property: no limit beyond the protocol's own, so "maximum-packet-size>=N" holds.
  c.values["maximum-packet-size"] = std::to_string(p.maximum_packet_size.value_or(268435460));
  if (p.server_keep_alive) c.values["server-keep-alive"] = std::to_string(*p.server_keep_alive);
  return c;
}

capability_set default_v311() {
  capability_set c;
  c.source = "3.1.1 defaults";
  c.tags = {"qos1", "qos2", "retain", "wildcard"};
  c.values["maximum-qos"] = "2";
  return c;
}

std::optional<std::string> load_profile(const std::filesystem::path& file, profile& out) {
  std::ifstream in(file);
  if (!in) return "cannot read profile " + file.string();
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "profile " + file.string() + ": not a JSON object";
  out = profile{};
  out.name = j.value("name", file.filename().string());
  if (auto caps = j.find("capabilities"); caps != j.end()) {
    if (!caps->is_object()) return "profile: \"capabilities\" must be an object of tag: true/false";
    for (auto& [k, v] : caps->items()) {
      if (!v.is_boolean()) return "profile: capability " + k + " must be true or false";
      out.capabilities[k] = v.get<bool>();
    }
  }
  if (auto ex = j.find("exclude"); ex != j.end()) {
    if (!ex->is_array()) return "profile: \"exclude\" must be an array";
    for (auto& e : *ex) {
      if (!e.is_object() || !e.contains("scenario") || !e["scenario"].is_string())
        return "profile: each exclusion needs \"scenario\" (a selector) and \"reason\"";
      out.exclusions.push_back({e["scenario"].get<std::string>(), e.value("reason", std::string("(no reason given)"))});
    }
  }
  return std::nullopt;
}

void apply(const profile& p, capability_set& caps) {
  for (const auto& [tag, on] : p.capabilities) {
    if (on) caps.tags.insert(tag);
    else caps.tags.erase(tag);
  }
  if (!p.capabilities.empty()) caps.source += " + profile " + p.name;
}

namespace {

// "receive-maximum<=2": a comparison of a capability value (the scenario needs a broker with a
// small limit, say). Returns why it is not met (empty when it is); nullopt when `t` compares nothing.
std::optional<std::string> unmet_comparison(std::string_view t, const capability_set& caps) {
  const auto at = t.find_first_of("<>=");
  if (at == std::string_view::npos) return std::nullopt;
  const auto name = t.substr(0, at);
  const auto op = t.substr(at, t.size() > at + 1 && t[at + 1] == '=' ? 2 : 1);
  const auto want = parse_number(t.substr(at + op.size()), 0xFFFFFFFFul);
  const auto it = caps.values.find(name);
  const auto have = it == caps.values.end() ? std::nullopt : parse_number(it->second, 0xFFFFFFFFul);
  if (!want) return std::string(t) + " (not a number)";
  if (!have) return std::string(t) + " (" + std::string(name) + " unknown)";
  const bool met = op == "<"    ? *have < *want
                   : op == "<=" ? *have <= *want
                   : op == ">"  ? *have > *want
                   : op == ">=" ? *have >= *want
                   : op == "="  && *have == *want;
  return met ? std::string() : std::string(t) + " (it is " + it->second + ")";
}

}  // namespace

std::vector<std::string> missing_capabilities(const scenario& s, const capability_set& caps) {
  std::vector<std::string> out;
  for (const auto& t : s.requires_caps) {
    if (auto why = unmet_comparison(t, caps)) {
      if (!why->empty()) out.push_back(*why);
      continue;
    }
    // "!tag": the scenario is about a broker without it (e.g. how it refuses what it lacks).
    const bool negated = t.starts_with('!');
    const std::string_view tag = negated ? std::string_view(t).substr(1) : std::string_view(t);
    if (caps.tags.contains(tag) == negated) out.push_back(negated ? t + " (it has " + std::string(tag) + ")" : t);
  }
  return out;
}

}  // namespace mqttspec::conformance
