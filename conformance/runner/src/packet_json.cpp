#include "mqttspec/conformance/packet_json.hpp"

namespace mqttspec::conformance {
namespace {

using json = nlohmann::ordered_json;

// Binary data: its hex always, and its text too when it is valid UTF-8.
json binary(codec::bytes_view b) {
  json j = {{"size", b.size()}, {"hex", codec::to_hex(b)}};
  if (!codec::check_utf8(b)) j["utf8"] = std::string(b);
  return j;
}

std::string snake(std::string_view spec_name) {
  std::string s;
  for (char c : spec_name) s += c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

json reason(codec::reason_code c, codec::packet_type in) {
  return {{"value", static_cast<unsigned>(c)}, {"name", std::string(codec::to_string(c, in))}};
}

}  // namespace

nlohmann::ordered_json to_json(const codec::properties& p) {
  json j = json::object();
  codec::for_each_property(p, [&](const codec::property_value& v) {
    const auto* info = codec::find_property(static_cast<std::uint8_t>(v.id));
    const auto key = snake(info->name);
    switch (info->type) {
      case codec::property_type::utf8_string: j[key] = std::string(v.text); break;
      case codec::property_type::binary_data: j[key] = binary(v.text); break;
      case codec::property_type::utf8_string_pair:
        j["user_properties"].push_back({std::string(v.text), std::string(v.pair_value)});
        break;
      case codec::property_type::variable_byte_integer: j["subscription_identifiers"].push_back(v.number); break;
      default: j[key] = v.number;
    }
  });
  return j;
}

nlohmann::ordered_json to_json(const codec::packet& p) {
  using namespace codec;
  const auto type = type_of(p);
  json j = {{"type", std::string(to_string(type))}};
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, connect>) {
          j["protocol_version"] = std::string(to_string(x.version));
          j["clean_start"] = x.clean_start;
          j["keep_alive"] = x.keep_alive;
          j["client_id"] = std::string(x.client_id);
          if (x.will) {
            j["will"] = {{"qos", static_cast<unsigned>(x.will->qos_level)},
                         {"retain", x.will->retain},
                         {"topic", std::string(x.will->topic)},
                         {"payload", binary(x.will->payload)},
                         {"properties", to_json(x.will->props)}};
          }
          if (x.user_name) j["user_name"] = std::string(*x.user_name);
          if (x.password) j["password"] = binary(*x.password);
        } else if constexpr (std::is_same_v<T, connack>) {
          j["session_present"] = x.session_present;
          j["reason_code"] = reason(x.code, type);
        } else if constexpr (std::is_same_v<T, publish>) {
          j["dup"] = x.dup;
          j["qos"] = static_cast<unsigned>(x.qos_level);
          j["retain"] = x.retain;
          j["topic"] = std::string(x.topic);
          if (x.qos_level != qos::at_most_once) j["packet_id"] = x.packet_id;
          j["payload"] = binary(x.payload);
        } else if constexpr (std::is_same_v<T, subscribe>) {
          j["packet_id"] = x.packet_id;
          for (const auto& s : x.subscriptions) {
            j["subscriptions"].push_back({{"filter", std::string(s.filter)},
                                          {"qos", static_cast<unsigned>(s.options.max_qos)},
                                          {"no_local", s.options.no_local},
                                          {"retain_as_published", s.options.retain_as_published},
                                          {"retain_handling", static_cast<unsigned>(s.options.handling)}});
          }
        } else if constexpr (std::is_same_v<T, unsubscribe>) {
          j["packet_id"] = x.packet_id;
          for (auto f : x.filters) j["filters"].push_back(std::string(f));
        } else if constexpr (std::is_same_v<T, suback> || std::is_same_v<T, unsuback>) {
          j["packet_id"] = x.packet_id;
          j["reason_codes"] = json::array();
          for (auto c : x.codes) j["reason_codes"].push_back(reason(c, type));
        } else if constexpr (requires { x.packet_id; }) {
          j["packet_id"] = x.packet_id;
          j["reason_code"] = reason(x.code, type);
        } else if constexpr (requires { x.code; }) {
          j["reason_code"] = reason(x.code, type);
        }
        if constexpr (requires { x.props; }) {
          if (!x.props.empty()) j["properties"] = to_json(x.props);
        }
      },
      p);
  return j;
}

nlohmann::ordered_json to_json(const codec::decode_error& e) {
  json j = {{"error", codec::make_error_code(e.code).message()},
            {"offset", e.offset},
            {"reason_code", reason(e.reason(), codec::packet_type::disconnect)}};
  if (!e.statement.empty()) j["statement"] = e.statement;
  if (!e.detail.empty()) j["detail"] = std::string(e.detail);
  return j;
}

}  // namespace mqttspec::conformance
