#pragma once
// The property table (§2.2.2.2) in a header, so the decoder's per-property lookup inlines.
#include <array>
#include <cstdint>
#include <initializer_list>

// Names local to the table (short aliases keep each row on one line).
namespace mqttspec::codec::detail::table_rows {

using id = property_id;
using ty = property_type;
using pt = packet_type;

constexpr std::uint32_t places(std::initializer_list<pt> ts, bool will = false) {
  std::uint32_t m = will ? static_cast<std::uint32_t>(will_properties) : 0;
  for (auto t : ts) m |= static_cast<std::uint32_t>(place_of(t));
  return m;
}

inline constexpr std::initializer_list<pt> all_packets = {
    pt::connect,   pt::connack, pt::publish,     pt::puback,   pt::pubrec,     pt::pubrel, pt::pubcomp,
    pt::subscribe, pt::suback,  pt::unsubscribe, pt::unsuback, pt::disconnect, pt::auth};
inline constexpr std::initializer_list<pt> acks_with_reason = {
    pt::connack, pt::puback, pt::pubrec, pt::pubrel, pt::pubcomp, pt::suback, pt::unsuback, pt::disconnect, pt::auth};

// §2.2.2.2, one row per property.
inline constexpr std::array<property_info, 27> rows{{
    {id::payload_format_indicator, "Payload Format Indicator", ty::byte, places({pt::publish}, true), false},
    {id::message_expiry_interval, "Message Expiry Interval", ty::four_byte_integer, places({pt::publish}, true), false},
    {id::content_type, "Content Type", ty::utf8_string, places({pt::publish}, true), false},
    {id::response_topic, "Response Topic", ty::utf8_string, places({pt::publish}, true), false},
    {id::correlation_data, "Correlation Data", ty::binary_data, places({pt::publish}, true), false},
    {id::subscription_identifier, "Subscription Identifier", ty::variable_byte_integer,
     places({pt::publish, pt::subscribe}), true},
    {id::session_expiry_interval, "Session Expiry Interval", ty::four_byte_integer,
     places({pt::connect, pt::connack, pt::disconnect}), false},
    {id::assigned_client_identifier, "Assigned Client Identifier", ty::utf8_string, places({pt::connack}), false},
    {id::server_keep_alive, "Server Keep Alive", ty::two_byte_integer, places({pt::connack}), false},
    {id::authentication_method, "Authentication Method", ty::utf8_string, places({pt::connect, pt::connack, pt::auth}),
     false},
    {id::authentication_data, "Authentication Data", ty::binary_data, places({pt::connect, pt::connack, pt::auth}),
     false},
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
    {id::subscription_identifier_available, "Subscription Identifier Available", ty::byte, places({pt::connack}),
     false},
    {id::shared_subscription_available, "Shared Subscription Available", ty::byte, places({pt::connack}), false},
}};

// Identifier -> row, for O(1) lookup while decoding.
inline constexpr auto row_by_id = [] {
  std::array<std::int8_t, 256> m{};
  m.fill(-1);
  for (std::size_t i = 0; i < rows.size(); ++i) m[static_cast<std::uint8_t>(rows[i].id)] = static_cast<std::int8_t>(i);
  return m;
}();

}  // namespace mqttspec::codec::detail::table_rows

namespace mqttspec::codec {

inline const property_info* find_property(std::uint8_t i) noexcept {
  const auto row = detail::table_rows::row_by_id[i];
  return row < 0 ? nullptr : &detail::table_rows::rows[static_cast<std::size_t>(row)];
}

inline bool allowed_in(const property_info& p, property_place place) noexcept {
  return (p.places & static_cast<std::uint32_t>(place)) != 0;
}

}  // namespace mqttspec::codec
