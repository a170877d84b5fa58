// The Server's packets by fields, and the predicates of the packets only a Client sends.
#include "mqttspec/conformance/predicates.hpp"
#include "mqttspec/conformance/variables.hpp"
#include "serve_engine.hpp"

namespace mqttspec::conformance {
namespace {

using namespace codec;

std::string_view get(const attributes& a, std::string_view key) {
  auto it = a.find(key);
  return it == a.end() ? std::string_view{} : std::string_view(it->second);
}

std::optional<std::vector<reason_code>> codes_of(const attributes& a) {
  std::vector<reason_code> out;
  for (const auto& c : split_list(get(a, "codes"), " ,")) {
    auto n = parse_number(c, 255);
    if (!n) return std::nullopt;
    out.push_back(static_cast<reason_code>(*n));
  }
  return out;
}

build_result encoded(const packet& p, protocol_version v) {
  auto r = encode(p, v);
  if (!r) return build_error{"cannot encode: " + r.error().message()};
  return std::move(r).value();
}

std::optional<std::string> apply(properties& pr, const std::vector<attributes>& props) {
  for (const auto& p : props)
    if (auto e = set_property(pr, get(p, "name"), get(p, "value"))) return e;
  return std::nullopt;
}

// Appended piece by piece: `"literal" + std::string&&` draws a false -Wrestrict from GCC 12.
template <class... T>
std::string cat(const T&... parts) {
  std::string s;
  (s.append(std::string_view(parts)), ...);
  return s;
}

std::string in_quotes(std::string_view s) { return cat("\"", s, "\""); }

std::optional<std::string> check_text(std::string_view name, std::optional<std::string_view> actual, const attributes& a) {
  auto it = a.find(name);
  if (it == a.end()) return std::nullopt;
  if (!actual) return cat(name, " absent, expected ", in_quotes(it->second));
  if (*actual != it->second) return cat(name, " ", in_quotes(*actual), ", expected ", in_quotes(it->second));
  return std::nullopt;
}

std::optional<std::string> check_flag(std::string_view name, bool actual, const attributes& a) {
  auto it = a.find(name);
  if (it == a.end()) return std::nullopt;
  const auto want = parse_bool(it->second);
  if (want && *want != actual) return cat(name, "=", actual ? "1" : "0", ", expected ", it->second);
  return std::nullopt;
}

std::optional<std::string> check_value(std::string_view name, unsigned long actual, const attributes& a) {
  auto it = a.find(name);
  if (it == a.end()) return std::nullopt;
  for (const auto& alt : split_list(it->second, "|"))
    if (parse_number(alt, 0xFFFFFFFFul) == actual) return std::nullopt;
  return cat(name, "=", std::to_string(actual), ", expected ", it->second);
}

std::optional<std::string> check_connect(const connect& c, const attributes& a) {
  if (auto p = check_flag("clean", c.clean_start, a)) return p;
  if (auto p = check_value("keep-alive", c.keep_alive, a)) return p;
  if (auto p = check_text("client-id", c.client_id, a)) return p;
  if (auto p = check_text("username", c.user_name, a)) return p;
  std::optional<std::string_view> password;
  if (c.password) password = std::string_view(*c.password);
  if (auto p = check_text("password", password, a)) return p;
  if (parse_bool(get(a, "no-credentials")).value_or(false) && (c.user_name || c.password))
    return std::string("a User Name or Password, expected none");
  if (parse_bool(get(a, "no-will")).value_or(false) && c.will)
    return cat("a Will Message (topic ", in_quotes(c.will->topic), "), expected none");
  const bool wants_will = a.count("will-topic") || a.count("will-payload") || a.count("will-qos") || a.count("will-retain");
  if (wants_will && !c.will) return std::string("no Will Message, expected one");
  if (c.will) {
    if (auto p = check_text("will-topic", c.will->topic, a)) return p;
    if (auto p = check_text("will-payload", std::string_view(c.will->payload), a)) return p;
    if (auto p = check_value("will-qos", static_cast<unsigned>(c.will->qos_level), a)) return p;
    if (auto p = check_flag("will-retain", c.will->retain, a)) return p;
  }
  if (a.count("session-expiry")) {
    const auto got = c.props.session_expiry_interval.value_or(0);
    if (auto p = check_value("session-expiry", got, a)) return p;
  }
  return std::nullopt;
}

std::optional<std::string> check_subscriptions(const std::vector<subscription>& subs, const attributes& a,
                                               const std::vector<attributes>& topics) {
  if (a.count("filter")) {
    if (subs.empty()) return std::string("no Topic Filter");
    if (subs.front().filter != a.at("filter"))
      return cat("filter ", in_quotes(subs.front().filter), ", expected ", in_quotes(a.at("filter")));
  }
  if (a.count("qos") && !subs.empty())
    if (auto p = check_value("qos", static_cast<unsigned>(subs.front().options.max_qos), a)) return p;
  if (topics.empty()) return std::nullopt;
  if (topics.size() != subs.size())
    return cat(std::to_string(subs.size()), " Topic Filters, expected ", std::to_string(topics.size()));
  for (std::size_t i = 0; i < subs.size(); ++i) {
    const auto& t = topics[i];
    const auto& s = subs[i];
    const auto at = cat(" (filter ", std::to_string(i + 1), ")");
    if (t.count("filter") && s.filter != t.at("filter"))
      return cat("filter ", in_quotes(s.filter), ", expected ", in_quotes(t.at("filter")), at);
    if (auto p = check_value("qos", static_cast<unsigned>(s.options.max_qos), t)) return *p + at;
    if (auto p = check_flag("no-local", s.options.no_local, t)) return *p + at;
    if (auto p = check_flag("rap", s.options.retain_as_published, t)) return *p + at;
    if (auto p = check_value("rh", static_cast<unsigned>(s.options.handling), t)) return *p + at;
  }
  return std::nullopt;
}

std::optional<std::string> check_filters(const std::vector<std::string_view>& filters, const attributes& a,
                                         const std::vector<attributes>& topics) {
  if (a.count("filter") && (filters.empty() || filters.front() != a.at("filter")))
    return cat("filter ", filters.empty() ? std::string("none") : in_quotes(filters.front()), ", expected ",
               in_quotes(a.at("filter")));
  if (topics.empty()) return std::nullopt;
  if (topics.size() != filters.size())
    return cat(std::to_string(filters.size()), " Topic Filters, expected ", std::to_string(topics.size()));
  for (std::size_t i = 0; i < filters.size(); ++i)
    if (topics[i].count("filter") && filters[i] != topics[i].at("filter"))
      return cat("filter ", in_quotes(filters[i]), ", expected ", in_quotes(topics[i].at("filter")));
  return std::nullopt;
}

}  // namespace

build_result build_server_send(const attributes& a, const std::vector<attributes>& topics,
                               const std::vector<attributes>& props, protocol_version v) {
  const auto type = get(a, "type");
  if (type != "connack" && type != "suback" && type != "unsuback") return build_send(a, topics, props, v);
  const auto id = parse_number(get(a, "id"), 65535);
  if (type == "connack") {
    connack c;
    c.session_present = parse_bool(get(a, "session-present")).value_or(false);
    const auto rc = parse_number(a.count("reason") ? get(a, "reason") : "0", 255);
    if (!rc) return build_error{"reason: not a number"};
    if (is_v5(v)) {
      c.code = static_cast<reason_code>(*rc);
    } else {
      auto mapped = from_v311_connack(static_cast<std::uint8_t>(*rc));
      if (!mapped) return build_error{cat("reason ", std::to_string(*rc), " is no 3.1.1 CONNACK return code")};
      c.code = *mapped;
    }
    if (auto e = apply(c.props, props)) return build_error{*e};
    return encoded(c, v);
  }
  auto codes = codes_of(a);
  if (!codes) return build_error{"codes: not a list of numbers"};
  if (type == "suback") {
    suback s;
    s.packet_id = static_cast<std::uint16_t>(id.value_or(0));
    s.codes = *codes;
    if (auto e = apply(s.props, props)) return build_error{*e};
    return encoded(s, v);
  }
  unsuback u;
  u.packet_id = static_cast<std::uint16_t>(id.value_or(0));
  if (is_v5(v)) u.codes = *codes;
  if (auto e = apply(u.props, props)) return build_error{*e};
  return encoded(u, v);
}

std::optional<std::string> match_client_packet(const owned_packet& p, const attributes& a,
                                               const std::vector<attributes>& topics,
                                               const std::vector<attributes>& props, protocol_version v) {
  if (auto why = match(p, a, props, v)) return why;
  if (const auto* c = std::get_if<connect>(&p.value)) return check_connect(*c, a);
  if (const auto* s = std::get_if<subscribe>(&p.value)) return check_subscriptions(s->subscriptions, a, topics);
  if (const auto* u = std::get_if<unsubscribe>(&p.value)) return check_filters(u->filters, a, topics);
  return std::nullopt;
}

std::optional<std::string> match_app_event(const app_event& e, const attributes& a) {
  const auto want = get(a, "event");
  if (e.kind != want) return cat("event ", e.kind, ", expected ", want);
  const auto field = [&](std::string_view name) -> std::optional<std::string> {
    auto it = e.fields.find(name);
    if (it == e.fields.end()) return std::nullopt;
    return it->second;
  };
  if (a.count("topic")) {
    const auto got = field("topic");
    if (!got) return cat("no topic, expected ", in_quotes(a.at("topic")));
    if (percent_decode(*got) != percent_decode(a.at("topic")))
      return cat("topic ", in_quotes(*got), ", expected ", in_quotes(a.at("topic")));
  }
  if (a.count("payload") || a.count("payload-hex")) {
    const auto got = field("payload").value_or("");
    const auto bytes = from_hex(got);
    if (!bytes) return cat("payload ", in_quotes(got), " is not hex");
    const std::string expected = a.count("payload-hex") ? from_hex(a.at("payload-hex")).value_or("?") : a.at("payload");
    if (*bytes != expected)
      return cat("payload ", bytes->size() <= 64 ? in_quotes(*bytes) : cat(std::to_string(bytes->size()), " bytes"),
                 ", expected ", expected.size() <= 64 ? in_quotes(expected) : cat(std::to_string(expected.size()), " bytes"));
  }
  for (const char* name : {"qos", "retain", "reason", "session-present"}) {
    if (!a.count(name)) continue;
    const auto got = field(name);
    if (!got) return cat("no ", name, ", expected ", a.at(name));
    const auto n = parse_number(*got, 0xFFFFFFFFul);
    bool ok = false;
    for (const auto& alt : split_list(a.at(name), "|")) ok = ok || (n && parse_number(alt, 0xFFFFFFFFul) == n);
    if (!ok) return cat(name, "=", *got, ", expected ", a.at(name));
  }
  return std::nullopt;
}

}  // namespace mqttspec::conformance
