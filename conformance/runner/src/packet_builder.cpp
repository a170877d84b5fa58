#include "mqttspec/conformance/packet_builder.hpp"

#include "mqttspec/codec/detail/property_assign.hpp"
#include "mqttspec/conformance/variables.hpp"

#include <cctype>

namespace mqttspec::conformance {
namespace {

using namespace codec;

std::string_view get(const attributes& a, std::string_view key, std::string_view fallback = {}) {
  auto it = a.find(key);
  return it == a.end() ? fallback : std::string_view(it->second);
}

template <class T>
std::optional<T> number(const attributes& a, std::string_view key, unsigned long max, std::string& err) {
  auto it = a.find(key);
  if (it == a.end()) return std::nullopt;
  auto n = parse_number(it->second, max);
  if (!n) err = std::string(key) + "=\"" + it->second + "\" is not a number in range";
  return n ? std::optional<T>(static_cast<T>(*n)) : std::nullopt;
}

bool flag(const attributes& a, std::string_view key, bool fallback) {
  auto it = a.find(key);
  if (it == a.end()) return fallback;
  return parse_bool(it->second).value_or(fallback);
}

// Properties owned alongside the packet: the attribute maps stay alive in the caller.
std::optional<std::string> apply_properties(properties& p, const std::vector<attributes>& props) {
  for (const auto& pa : props) {
    if (auto e = set_property(p, get(pa, "name"), get(pa, "value"))) return e;
  }
  return std::nullopt;
}

// CONNECT properties; a name "will.NAME" is the Will Property NAME (e.g. will.user_property).
std::optional<std::string> apply_connect_properties(connect& c, const std::vector<attributes>& props) {
  static constexpr std::string_view will_prefix = "will.";
  for (const auto& pa : props) {
    auto name = get(pa, "name");
    properties* target = &c.props;
    if (name.starts_with(will_prefix)) {
      if (!c.will) return "property " + std::string(name) + " without a will-topic";
      target = &c.will->props;
      name.remove_prefix(will_prefix.size());
    }
    if (auto e = set_property(*target, name, get(pa, "value"))) return e;
  }
  return std::nullopt;
}

build_result encoded(const packet& p, protocol_version v) {
  auto r = encode(p, v);
  if (!r) return build_error{"cannot encode: " + r.error().message()};
  return std::move(r).value();
}

}  // namespace

build_result payload_of(const attributes& a) {
  if (auto h = a.find("payload-hex"); h != a.end()) {
    auto b = from_hex(h->second);
    if (!b) return build_error{"payload-hex is not hex"};
    return std::move(*b);
  }
  std::string err;
  const auto times = number<std::size_t>(a, "payload-repeat", max_remaining_length, err).value_or(1);
  const auto text = get(a, "payload");
  if (!err.empty()) return build_error{err};
  if (times * text.size() > max_remaining_length) return build_error{"payload-repeat: payload larger than any packet"};
  bytes out;
  out.reserve(times * text.size());
  for (std::size_t i = 0; i < times; ++i) out += text;
  return out;
}

std::string property_name(property_id id) {
  const auto* info = find_property(static_cast<std::uint8_t>(id));
  std::string s;
  for (char c : info->name) s += c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<std::string> set_property(properties& p, std::string_view name, std::string_view value) {
  for (const auto& info : property_table()) {
    if (property_name(info.id) != name) continue;
    property_value v{info.id, 0, {}, {}};
    switch (info.type) {
      case property_type::utf8_string:
      case property_type::binary_data: v.text = value; break;
      case property_type::utf8_string_pair: {
        const auto eq = value.find('=');
        if (eq == std::string_view::npos) return "user_property wants key=value";
        v.text = value.substr(0, eq);
        v.pair_value = value.substr(eq + 1);
        break;
      }
      default: {
        auto n = parse_number(value, 0xFFFFFFFFul);
        if (!n) return "property " + std::string(name) + ": not a number: " + std::string(value);
        v.number = static_cast<std::uint32_t>(*n);
      }
    }
    if (const auto e = detail::assign_property(p, v, true); e != codec::errc{})
      return "property " + std::string(name) + ": " + make_error_code(e).message();
    return std::nullopt;
  }
  return "unknown property " + std::string(name);
}

build_result build_send(const attributes& a, const std::vector<attributes>& topics,
                        const std::vector<attributes>& props, protocol_version v) {
  std::string err;
  if (auto h = a.find("hex"); h != a.end()) {
    auto b = from_hex(h->second);
    if (!b) return build_error{"hex attribute is not hex"};
    return std::move(*b);
  }
  if (a.count("first-byte")) {
    raw_frame f;
    f.first_byte = *number<std::uint8_t>(a, "first-byte", 255, err);
    auto body = from_hex(get(a, "body-hex"));
    if (!body) return build_error{"body-hex is not hex"};
    f.body = std::move(*body);
    f.remaining_length = number<std::uint32_t>(a, "length", 268435455, err);
    if (!err.empty()) return build_error{err};
    return build(f);
  }

  const auto type = get(a, "type");
  properties pr;
  if (auto e = apply_properties(pr, props)) return build_error{*e};
  const auto id = number<std::uint16_t>(a, "id", 65535, err).value_or(0);
  const auto reason = static_cast<reason_code>(number<std::uint8_t>(a, "reason", 255, err).value_or(0));
  if (!err.empty()) return build_error{err};

  if (type == "publish") {
    publish p;
    std::optional<bytes> topic_bytes;
    if (a.count("topic-hex")) {
      topic_bytes = from_hex(get(a, "topic-hex"));
      if (!topic_bytes) return build_error{"topic-hex is not hex"};
      p.topic = *topic_bytes;
    } else {
      p.topic = get(a, "topic");
    }
    p.qos_level = static_cast<qos>(number<std::uint8_t>(a, "qos", 2, err).value_or(0));
    p.retain = flag(a, "retain", false);
    p.dup = flag(a, "dup", false);
    p.packet_id = id;
    p.props = pr;
    auto payload = payload_of(a);
    if (!payload) return payload.error();
    p.payload = *payload;
    return encoded(p, v);
  }
  if (type == "subscribe" || type == "unsubscribe") {
    // One filter as attributes, or several <topic> children.
    std::vector<attributes> list = topics;
    if (a.count("filter")) {
      attributes one{{"filter", std::string(get(a, "filter"))}};
      if (a.count("qos")) one["qos"] = std::string(get(a, "qos"));
      list.insert(list.begin(), one);
    }
    if (type == "subscribe") {
      subscribe s;
      s.packet_id = id;
      s.props = pr;
      for (const auto& t : list) {
        subscription sub;
        sub.filter = get(t, "filter");
        sub.options.max_qos = static_cast<qos>(number<std::uint8_t>(t, "qos", 2, err).value_or(0));
        sub.options.no_local = flag(t, "no-local", false);
        sub.options.retain_as_published = flag(t, "rap", false);
        sub.options.handling = static_cast<retain_handling>(number<std::uint8_t>(t, "rh", 2, err).value_or(0));
        s.subscriptions.push_back(sub);
      }
      if (!err.empty()) return build_error{err};
      return encoded(s, v);
    }
    unsubscribe u;
    u.packet_id = id;
    u.props = pr;
    for (const auto& t : list) u.filters.push_back(get(t, "filter"));
    return encoded(u, v);
  }
  if (type == "puback") return encoded(puback{id, reason, pr}, v);
  if (type == "pubrec") return encoded(pubrec{id, reason, pr}, v);
  if (type == "pubrel") return encoded(pubrel{id, reason, pr}, v);
  if (type == "pubcomp") return encoded(pubcomp{id, reason, pr}, v);
  if (type == "pingreq") return encoded(pingreq{}, v);
  if (type == "pingresp") return encoded(pingresp{}, v);
  if (type == "disconnect") return encoded(disconnect{reason, pr}, v);
  if (type == "auth") return encoded(auth{reason, pr}, v);
  if (type == "connect") return build_connect(a, props, v, "", {});
  return build_error{"cannot send a packet of type " + std::string(type) + " by fields"};
}

build_result build_connect(const attributes& a, const std::vector<attributes>& props, protocol_version v,
                           const std::string& client_id, const credentials& cred) {
  std::string err;
  connect c;
  c.version = v;
  c.clean_start = flag(a, "clean", true);
  c.keep_alive = number<std::uint16_t>(a, "keep-alive", 65535, err).value_or(default_keep_alive);
  c.client_id = a.count("client-id") ? get(a, "client-id") : std::string_view(client_id);
  std::optional<bytes> will_payload;
  if (a.count("will-topic")) {
    will_message w;
    w.topic = get(a, "will-topic");
    w.qos_level = static_cast<qos>(number<std::uint8_t>(a, "will-qos", 2, err).value_or(0));
    w.retain = flag(a, "will-retain", false);
    will_payload = bytes(get(a, "will-payload"));
    w.payload = *will_payload;
    c.will = w;
  }
  if (auto e = apply_connect_properties(c, props)) return build_error{*e};
  if (auto se = number<std::uint32_t>(a, "session-expiry", 0xFFFFFFFF, err)) c.props.session_expiry_interval = *se;
  if (!err.empty()) return build_error{err};
  const bool anonymous = flag(a, "no-credentials", false);
  if (a.count("username")) c.user_name = get(a, "username");
  else if (cred.username && !anonymous) c.user_name = *cred.username;
  if (a.count("password")) c.password = get(a, "password");
  else if (cred.password && !anonymous) c.password = *cred.password;
  return encoded(c, v);
}

}  // namespace mqttspec::conformance
