#include "mqttspec/codec/property.hpp"

#include "mqttspec/codec/detail/property_assign.hpp"

#include <algorithm>
#include <array>

namespace mqttspec::codec {
namespace {

using id = property_id;
using ty = property_type;
using pt = packet_type;

constexpr std::uint32_t places(std::initializer_list<pt> ts, bool will = false) {
  std::uint32_t m = will ? static_cast<std::uint32_t>(will_properties) : 0;
  for (auto t : ts) m |= static_cast<std::uint32_t>(place_of(t));
  return m;
}

constexpr auto all_packets = {pt::connect, pt::connack, pt::publish, pt::puback, pt::pubrec, pt::pubrel, pt::pubcomp,
                              pt::subscribe, pt::suback, pt::unsubscribe, pt::unsuback, pt::disconnect, pt::auth};
constexpr auto acks_with_reason = {pt::connack, pt::puback, pt::pubrec, pt::pubrel, pt::pubcomp,
                                   pt::suback, pt::unsuback, pt::disconnect, pt::auth};

// §2.2.2.2, one row per property.
constexpr std::array<property_info, 27> table{{
    {id::payload_format_indicator, "Payload Format Indicator", ty::byte, places({pt::publish}, true), false},
    {id::message_expiry_interval, "Message Expiry Interval", ty::four_byte_integer, places({pt::publish}, true), false},
    {id::content_type, "Content Type", ty::utf8_string, places({pt::publish}, true), false},
    {id::response_topic, "Response Topic", ty::utf8_string, places({pt::publish}, true), false},
    {id::correlation_data, "Correlation Data", ty::binary_data, places({pt::publish}, true), false},
    {id::subscription_identifier, "Subscription Identifier", ty::variable_byte_integer, places({pt::publish, pt::subscribe}), true},
    {id::session_expiry_interval, "Session Expiry Interval", ty::four_byte_integer, places({pt::connect, pt::connack, pt::disconnect}), false},
    {id::assigned_client_identifier, "Assigned Client Identifier", ty::utf8_string, places({pt::connack}), false},
    {id::server_keep_alive, "Server Keep Alive", ty::two_byte_integer, places({pt::connack}), false},
    {id::authentication_method, "Authentication Method", ty::utf8_string, places({pt::connect, pt::connack, pt::auth}), false},
    {id::authentication_data, "Authentication Data", ty::binary_data, places({pt::connect, pt::connack, pt::auth}), false},
    {id::request_problem_information, "Request Problem Information", ty::byte, places({pt::connect}), false},
    {id::will_delay_interval, "Will Delay Interval", ty::four_byte_integer, places({}, true), false},
    {id::request_response_information, "Request Response Information", ty::byte, places({pt::connect}), false},
    {id::response_information, "Response Information", ty::utf8_string, places({pt::connack}), false},
    {id::server_reference, "Server Reference", ty::utf8_string, places({pt::connack, pt::disconnect}), false},
    {id::reason_string, "Reason String", ty::utf8_string, places(acks_with_reason), false},
    {id::receive_maximum, "Receive Maximum", ty::two_byte_integer, places({pt::connect, pt::connack}), false},
    {id::topic_alias_maximum, "Topic Alias Maximum", ty::two_byte_integer, places({pt::connect, pt::connack}), false},
    {id::topic_alias, "Topic Alias", ty::two_byte_integer, places({pt::publish}), false},
    {id::maximum_qos, "Maximum QoS", ty::byte, places({pt::connack}), false},
    {id::retain_available, "Retain Available", ty::byte, places({pt::connack}), false},
    {id::user_property, "User Property", ty::utf8_string_pair, places(all_packets, true), true},
    {id::maximum_packet_size, "Maximum Packet Size", ty::four_byte_integer, places({pt::connect, pt::connack}), false},
    {id::wildcard_subscription_available, "Wildcard Subscription Available", ty::byte, places({pt::connack}), false},
    {id::subscription_identifier_available, "Subscription Identifier Available", ty::byte, places({pt::connack}), false},
    {id::shared_subscription_available, "Shared Subscription Available", ty::byte, places({pt::connack}), false},
}};

// Identifier -> row, for O(1) lookup while decoding.
constexpr auto by_id = [] {
  std::array<std::int8_t, 256> m{};
  m.fill(-1);
  for (std::size_t i = 0; i < table.size(); ++i) m[static_cast<std::uint8_t>(table[i].id)] = static_cast<std::int8_t>(i);
  return m;
}();

template <class T>
errc set_once(std::optional<T>& field, T value) {
  if (field) return errc::duplicate_property;
  field = value;
  return errc{};
}

// Fields whose only legal values are 0 and 1.
errc set_flag(std::optional<std::uint8_t>& field, std::uint32_t v) {
  if (v > 1) return errc::invalid_property_value;
  return set_once(field, static_cast<std::uint8_t>(v));
}

errc set_nonzero16(std::optional<std::uint16_t>& field, std::uint32_t v) {
  if (v == 0) return errc::invalid_property_value;
  return set_once(field, static_cast<std::uint16_t>(v));
}

}  // namespace

std::span<const property_info> property_table() noexcept { return table; }

const property_info* find_property(std::uint8_t i) noexcept {
  const auto row = by_id[i];
  return row < 0 ? nullptr : &table[static_cast<std::size_t>(row)];
}

bool allowed_in(const property_info& p, property_place place) noexcept {
  return (p.places & static_cast<std::uint32_t>(place)) != 0;
}

bool properties::empty() const noexcept {
  bool any = false;
  for_each_property(*this, [&](const property_value&) { any = true; });
  return !any;
}

namespace detail {

errc assign_property(properties& p, const property_value& v, bool in_publish) {
  const auto n = v.number;
  switch (v.id) {
    case id::payload_format_indicator: return set_flag(p.payload_format_indicator, n);
    case id::message_expiry_interval: return set_once(p.message_expiry_interval, n);
    case id::content_type: return set_once(p.content_type, v.text);
    case id::response_topic: return set_once(p.response_topic, v.text);
    case id::correlation_data: return set_once(p.correlation_data, v.text);
    case id::subscription_identifier:
      if (n == 0) return errc::invalid_property_value;  // range 1..268,435,455 (§3.8.2.1.2)
      if (!in_publish && !p.subscription_identifiers.empty()) return errc::duplicate_property;
      p.subscription_identifiers.push_back(n);
      return errc{};
    case id::session_expiry_interval: return set_once(p.session_expiry_interval, n);
    case id::assigned_client_identifier: return set_once(p.assigned_client_identifier, v.text);
    case id::server_keep_alive: return set_once(p.server_keep_alive, static_cast<std::uint16_t>(n));
    case id::authentication_method: return set_once(p.authentication_method, v.text);
    case id::authentication_data: return set_once(p.authentication_data, v.text);
    case id::request_problem_information: return set_flag(p.request_problem_information, n);
    case id::will_delay_interval: return set_once(p.will_delay_interval, n);
    case id::request_response_information: return set_flag(p.request_response_information, n);
    case id::response_information: return set_once(p.response_information, v.text);
    case id::server_reference: return set_once(p.server_reference, v.text);
    case id::reason_string: return set_once(p.reason_string, v.text);
    case id::receive_maximum: return set_nonzero16(p.receive_maximum, n);
    case id::topic_alias_maximum: return set_once(p.topic_alias_maximum, static_cast<std::uint16_t>(n));
    case id::topic_alias:
      if (n == 0) return errc::topic_alias_zero;  // v5:MQTT-3.3.2-8
      return set_once(p.topic_alias, static_cast<std::uint16_t>(n));
    case id::maximum_qos: return set_flag(p.maximum_qos, n);
    case id::retain_available: return set_flag(p.retain_available, n);
    case id::user_property: p.user_properties.emplace_back(v.text, v.pair_value); return errc{};
    case id::maximum_packet_size:
      if (n == 0) return errc::invalid_property_value;
      return set_once(p.maximum_packet_size, n);
    case id::wildcard_subscription_available: return set_flag(p.wildcard_subscription_available, n);
    case id::subscription_identifier_available: return set_flag(p.subscription_identifier_available, n);
    case id::shared_subscription_available: return set_flag(p.shared_subscription_available, n);
  }
  return errc::unknown_property;
}

}  // namespace detail
}  // namespace mqttspec::codec
