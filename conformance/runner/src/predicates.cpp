#include "mqttspec/conformance/predicates.hpp"

#include "mqttspec/conformance/packet_builder.hpp"
#include "mqttspec/conformance/variables.hpp"

#include <algorithm>
#include <map>
#include <sstream>

namespace mqttspec::conformance {
namespace {

using namespace codec;

std::string hex_byte(unsigned v) {
  std::ostringstream os;
  os << "0x" << std::hex << (v < 16 ? "0" : "") << v;
  return os.str();
}

// "0x01|0x02" -> {1, 2}; an empty optional on a bad number.
std::optional<std::vector<unsigned>> alternatives(std::string_view text, unsigned long max = 255) {
  std::vector<unsigned> out;
  for (const auto& t : split_list(text)) {
    auto n = parse_number(t, max);
    if (!n) return std::nullopt;
    out.push_back(static_cast<unsigned>(*n));
  }
  return out;
}

bool contains(const std::vector<unsigned>& v, unsigned x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::string join(const std::vector<unsigned>& v, std::string_view sep) {
  std::string s;
  for (auto x : v) {
    if (!s.empty()) s += sep;
    s += hex_byte(x);
  }
  return s;
}

// "0x00 0x01|0x80": entries split by spaces/commas, alternatives inside an entry by '|'.
std::vector<std::string> entries(std::string_view text) { return split_list(text, " ,"); }

std::optional<std::string> check_bool(std::string_view name, bool actual, const attributes& a) {
  auto it = a.find(name);
  if (it == a.end()) return std::nullopt;
  auto want = parse_bool(it->second);
  if (want && *want != actual)
    return std::string(name) + "=" + (actual ? "1" : "0") + ", expected " + (*want ? "1" : "0");
  return std::nullopt;
}

std::optional<std::string> check_number(std::string_view name, unsigned actual, const attributes& a) {
  auto it = a.find(name);
  if (it == a.end()) return std::nullopt;
  auto want = alternatives(it->second, 0xFFFFFFFFul);
  if (!want) return std::string(name) + ": bad expected value \"" + it->second + "\"";
  if (!contains(*want, actual)) return std::string(name) + "=" + std::to_string(actual) + ", expected " + it->second;
  return std::nullopt;
}

// id-not="${a} ${b}": the value differs from every listed one (say, identifiers captured earlier).
std::optional<std::string> check_number_not(std::string_view name, unsigned actual, const attributes& a) {
  auto it = a.find(name);
  if (it == a.end()) return std::nullopt;
  auto avoid = alternatives(it->second, 0xFFFFFFFFul);
  if (!avoid) return std::string(name) + ": bad value \"" + it->second + "\"";
  if (contains(*avoid, actual))
    return std::string(name) + ": got " + std::to_string(actual) + ", expected none of " + it->second;
  return std::nullopt;
}

// A payload for a message: short ones verbatim, long ones by size and start.
std::string describe_payload(std::string_view p) {
  if (p.size() <= 64) return "\"" + std::string(p) + "\"";
  return std::to_string(p.size()) + " bytes \"" + std::string(p.substr(0, 32)) + "...\"";
}

std::optional<std::string> check_payload(std::string_view actual, const attributes& a) {
  if (!a.count("payload") && !a.count("payload-hex")) return std::nullopt;
  auto want = payload_of(a);
  if (!want) return "bad expected payload: " + want.error().message;
  if (*want == actual) return std::nullopt;
  if (a.count("payload-hex")) return "payload " + to_hex(actual) + ", expected " + a.at("payload-hex");
  return "payload " + describe_payload(actual) + ", expected " + describe_payload(*want);
}

// granted_qos (SUBACK): an entry of success codes only (QoS 0..2) names the most the broker may
// grant; any lower QoS passes too, since the Server may grant a lower maximum QoS than asked (§3.8.4).
std::optional<std::string> check_codes(const std::vector<reason_code>& codes, const attributes& a, bool granted_qos) {
  auto it = a.find("codes");
  if (it == a.end()) return std::nullopt;
  const auto want = entries(it->second);
  std::vector<unsigned> got;
  for (auto c : codes) got.push_back(static_cast<unsigned>(c));
  bool ok = want.size() == got.size();
  for (std::size_t i = 0; ok && i < want.size(); ++i) {
    auto alt = alternatives(want[i]);
    ok = alt && contains(*alt, got[i]);
    if (!ok && alt && granted_qos && got[i] <= 2 && std::all_of(alt->begin(), alt->end(), [](unsigned q) { return q <= 2; }))
      ok = got[i] <= *std::max_element(alt->begin(), alt->end());
  }
  if (ok) return std::nullopt;
  return "codes [" + join(got, " ") + "], expected [" + it->second + "]";
}

bool same_value(const std::string& got, const std::string& want) {
  auto a = parse_number(got, 0xFFFFFFFFul), b = parse_number(want, 0xFFFFFFFFul);
  return a && b ? *a == *b : got == want;
}

// User Properties keep their order end to end (v5:MQTT-3.3.2-18, v5:MQTT-3.1.3-10), so the value
// checks of user_property match the received ones in sequence (others may come between). Other
// properties match anywhere: e.g. Subscription Identifiers come in any order (v5:MQTT-3.3.4-4).
bool ordered(std::string_view name) { return name == "user_property"; }

std::optional<std::string> check_properties(const packet& p, const std::vector<attributes>& checks) {
  const auto* pr = properties_of(p);
  std::map<std::string, std::vector<std::string>> values;
  if (pr)
    for (auto& [name, value] : property_values(*pr)) values[name].push_back(value);
  std::map<std::string, std::size_t> next;  // ordered names: where the next value check starts
  for (const auto& c : checks) {
    const std::string name = c.at("name");
    const auto& got = values[name];
    if (auto want = c.find("present"); want != c.end()) {
      const bool want_present = parse_bool(want->second).value_or(true);
      if (want_present == got.empty())
        return "property " + name + (got.empty() ? " absent" : " present (" + got.front() + ")") + ", expected " +
               (want_present ? "present" : "absent");
    }
    if (auto want = c.find("value"); want != c.end()) {
      if (got.empty()) return "property " + name + " absent, expected " + want->second;
      const std::size_t from = ordered(name) ? next[name] : 0;
      auto hit = std::find_if(got.begin() + static_cast<std::ptrdiff_t>(std::min(from, got.size())), got.end(),
                              [&](const std::string& g) { return same_value(g, want->second); });
      if (hit != got.end()) {
        next[name] = static_cast<std::size_t>(hit - got.begin()) + 1;
        continue;
      }
      std::string all;
      for (const auto& g : got) all += (all.empty() ? "" : ", ") + g;
      return "property " + name + " [" + all + "], expected " + want->second +
             (from > 0 ? " after the values matched before (order matters)" : "");
    }
  }
  return std::nullopt;
}

}  // namespace

const properties* properties_of(const packet& p) {
  return std::visit(
      [](const auto& x) -> const properties* {
        if constexpr (requires { x.props; }) return &x.props;
        else return nullptr;
      },
      p);
}

std::multimap<std::string, std::string> property_values(const properties& p) {
  std::multimap<std::string, std::string> out;
  for_each_property(p, [&](const property_value& v) {
    const auto* info = find_property(static_cast<std::uint8_t>(v.id));
    std::string value;
    switch (info->type) {
      case property_type::utf8_string: value = std::string(v.text); break;
      case property_type::binary_data: value = std::string(v.text); break;
      case property_type::utf8_string_pair: value = std::string(v.text) + "=" + std::string(v.pair_value); break;
      default: value = std::to_string(v.number);
    }
    out.emplace(property_name(v.id), std::move(value));
  });
  return out;
}

std::optional<unsigned> wire_reason(const packet& p, protocol_version v) {
  return std::visit(
      [&](const auto& x) -> std::optional<unsigned> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, connack>) {
          if (!is_v5(v)) {
            auto rc = to_v311_connack(x.code);
            return rc ? std::optional<unsigned>(*rc) : std::nullopt;
          }
          return static_cast<unsigned>(x.code);
        } else if constexpr (requires { x.code; }) {
          return static_cast<unsigned>(x.code);
        } else {
          return std::nullopt;
        }
      },
      p);
}

std::optional<std::string> match(const packet& p, const attributes& a, const std::vector<attributes>& props,
                                 protocol_version v) {
  const std::string actual_type(to_string(type_of(p)));
  std::string want_type = a.count("type") ? a.at("type") : std::string{};
  for (auto& ch : want_type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (!want_type.empty() && want_type != actual_type) return "got " + actual_type + ", expected " + want_type;

  if (a.count("reason")) {
    auto r = wire_reason(p, v);
    auto want = alternatives(a.at("reason"));
    if (!want) return "bad expected reason \"" + a.at("reason") + "\"";
    if (!r || !contains(*want, *r))
      return "reason " + (r ? hex_byte(*r) : std::string("none")) + ", expected " + join(*want, "|");
  }
  std::optional<std::string> problem;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, publish>) {
          if (!problem) problem = check_number("qos", static_cast<unsigned>(x.qos_level), a);
          if (!problem) problem = check_bool("retain", x.retain, a);
          if (!problem) problem = check_bool("dup", x.dup, a);
          if (!problem && a.count("topic") && a.at("topic") != x.topic)
            problem = "topic \"" + std::string(x.topic) + "\", expected \"" + a.at("topic") + "\"";
          if (!problem) problem = check_payload(x.payload, a);
        }
        if constexpr (std::is_same_v<T, connack>) {
          if (!problem) problem = check_bool("session-present", x.session_present, a);
        }
        if constexpr (requires { x.packet_id; }) {
          if (!problem && a.count("id")) problem = check_number("id", x.packet_id, a);
          if (!problem) problem = check_number_not("id-not", x.packet_id, a);
        }
        if constexpr (requires { x.codes; }) {
          if (!problem) problem = check_codes(x.codes, a, std::is_same_v<std::decay_t<decltype(x)>, codec::suback>);
        }
      },
      p);
  if (problem) return problem;
  return check_properties(p, props);
}

std::optional<std::string> check_size(const owned_packet& p, const attributes& a) {
  auto it = a.find("max-size");
  if (it == a.end()) return std::nullopt;
  auto limit = parse_number(it->second, max_packet_size);
  if (!limit) return "max-size: bad value \"" + it->second + "\"";
  if (!p.storage) return std::string("max-size: the packet's bytes are unknown");
  if (p.storage->size() > *limit)
    return "the packet is " + std::to_string(p.storage->size()) + " bytes, expected at most " + it->second;
  return std::nullopt;
}

std::optional<std::string> match(const owned_packet& p, const attributes& a, const std::vector<attributes>& props,
                                 protocol_version v) {
  if (auto why = match(p.value, a, props, v)) return why;
  return check_size(p, a);
}

std::string describe_expectation(const attributes& a, const std::vector<attributes>& props) {
  std::string s;
  for (const auto& [k, val] : a) {
    if (k == "client" || k == "timeout-ms" || k == "capture-id" || k == "scram-password") continue;
    if (k == "type") {
      std::string t = val;
      for (auto& ch : t) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      s = t + s;
      continue;
    }
    s += " " + k + "=" + val;
  }
  for (const auto& p : props) {
    s += " property " + (p.count("name") ? p.at("name") : "?");
    if (p.count("present")) s += parse_bool(p.at("present")).value_or(true) ? " present" : " absent";
    if (p.count("value")) s += "=" + p.at("value");
  }
  return s;
}

}  // namespace mqttspec::conformance
