#pragma once
// Decoder side of the property table: stores one decoded value into its struct field. Inline, as
// it runs for every property the decoder reads.
#include "mqttspec/codec/errc.hpp"
#include "mqttspec/codec/property.hpp"

namespace mqttspec::codec::detail {

template <class T>
inline errc set_once(std::optional<T>& field, T value) {
  if (field) return errc::duplicate_property;
  field = value;
  return errc{};
}

// Fields whose only legal values are 0 and 1.
inline errc set_flag(std::optional<std::uint8_t>& field, std::uint32_t v) {
  if (v > 1) return errc::invalid_property_value;
  return set_once(field, static_cast<std::uint8_t>(v));
}

inline errc set_nonzero16(std::optional<std::uint16_t>& field, std::uint32_t v) {
  if (v == 0) return errc::invalid_property_value;
  return set_once(field, static_cast<std::uint16_t>(v));
}

// Stores `v` (already read with the wire type of its id, strings already UTF-8 checked).
// Returns errc{} when stored, else the broken rule: duplicate_property, invalid_property_value or
// topic_alias_zero. `in_publish` allows several Subscription Identifiers. (A plain errc, not an
// optional: g++ returns optional<errc> through memory, a store-forwarding stall on every property.)
inline errc assign_property(properties& p, const property_value& v, bool in_publish) {
  using id = property_id;
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

}  // namespace mqttspec::codec::detail
