#include "mqttspec/codec/reason_code.hpp"

#include <algorithm>
#include <array>

namespace mqttspec::codec {
namespace {

// Bit per packet type in which a code may appear (§2.4 table and each packet's reason code table).
constexpr std::uint32_t in(std::initializer_list<packet_type> ts) {
  std::uint32_t m = 0;
  for (auto t : ts) m |= 1u << static_cast<unsigned>(t);
  return m;
}

struct reason_info {
  reason_code code;
  std::string_view name;
  std::uint32_t packets;
};

using pt = packet_type;
using rc = reason_code;
constexpr auto pub_acks = {pt::puback, pt::pubrec};

constexpr reason_info reason_table[] = {
    {rc::success, "Success", in({pt::connack, pt::puback, pt::pubrec, pt::pubrel, pt::pubcomp, pt::suback,
                                 pt::unsuback, pt::disconnect, pt::auth})},
    {rc::granted_qos_1, "Granted QoS 1", in({pt::suback})},
    {rc::granted_qos_2, "Granted QoS 2", in({pt::suback})},
    {rc::disconnect_with_will_message, "Disconnect with Will Message", in({pt::disconnect})},
    {rc::no_matching_subscribers, "No matching subscribers", in(pub_acks)},
    {rc::no_subscription_existed, "No subscription existed", in({pt::unsuback})},
    {rc::continue_authentication, "Continue authentication", in({pt::auth})},
    {rc::re_authenticate, "Re-authenticate", in({pt::auth})},
    {rc::unspecified_error, "Unspecified error",
     in({pt::connack, pt::puback, pt::pubrec, pt::suback, pt::unsuback, pt::disconnect})},
    {rc::malformed_packet, "Malformed Packet", in({pt::connack, pt::disconnect})},
    {rc::protocol_error, "Protocol Error", in({pt::connack, pt::disconnect})},
    {rc::implementation_specific_error, "Implementation specific error",
     in({pt::connack, pt::puback, pt::pubrec, pt::suback, pt::unsuback, pt::disconnect})},
    {rc::unsupported_protocol_version, "Unsupported Protocol Version", in({pt::connack})},
    {rc::client_identifier_not_valid, "Client Identifier not valid", in({pt::connack})},
    {rc::bad_user_name_or_password, "Bad User Name or Password", in({pt::connack})},
    {rc::not_authorized, "Not authorized",
     in({pt::connack, pt::puback, pt::pubrec, pt::suback, pt::unsuback, pt::disconnect})},
    {rc::server_unavailable, "Server unavailable", in({pt::connack})},
    {rc::server_busy, "Server busy", in({pt::connack, pt::disconnect})},
    {rc::banned, "Banned", in({pt::connack})},
    {rc::server_shutting_down, "Server shutting down", in({pt::disconnect})},
    {rc::bad_authentication_method, "Bad authentication method", in({pt::connack, pt::disconnect})},
    {rc::keep_alive_timeout, "Keep Alive timeout", in({pt::disconnect})},
    {rc::session_taken_over, "Session taken over", in({pt::disconnect})},
    {rc::topic_filter_invalid, "Topic Filter invalid", in({pt::suback, pt::unsuback, pt::disconnect})},
    {rc::topic_name_invalid, "Topic Name invalid", in({pt::connack, pt::puback, pt::pubrec, pt::disconnect})},
    {rc::packet_identifier_in_use, "Packet Identifier in use", in({pt::puback, pt::pubrec, pt::suback, pt::unsuback})},
    {rc::packet_identifier_not_found, "Packet Identifier not found", in({pt::pubrel, pt::pubcomp})},
    {rc::receive_maximum_exceeded, "Receive Maximum exceeded", in({pt::disconnect})},
    {rc::topic_alias_invalid, "Topic Alias invalid", in({pt::disconnect})},
    {rc::packet_too_large, "Packet too large", in({pt::connack, pt::disconnect})},
    {rc::message_rate_too_high, "Message rate too high", in({pt::disconnect})},
    {rc::quota_exceeded, "Quota exceeded", in({pt::connack, pt::puback, pt::pubrec, pt::suback, pt::disconnect})},
    {rc::administrative_action, "Administrative action", in({pt::disconnect})},
    {rc::payload_format_invalid, "Payload format invalid", in({pt::connack, pt::puback, pt::pubrec, pt::disconnect})},
    {rc::retain_not_supported, "Retain not supported", in({pt::connack, pt::disconnect})},
    {rc::qos_not_supported, "QoS not supported", in({pt::connack, pt::disconnect})},
    {rc::use_another_server, "Use another server", in({pt::connack, pt::disconnect})},
    {rc::server_moved, "Server moved", in({pt::connack, pt::disconnect})},
    {rc::shared_subscriptions_not_supported, "Shared Subscriptions not supported", in({pt::suback, pt::disconnect})},
    {rc::connection_rate_exceeded, "Connection rate exceeded", in({pt::connack, pt::disconnect})},
    {rc::maximum_connect_time, "Maximum connect time", in({pt::disconnect})},
    {rc::subscription_identifiers_not_supported, "Subscription Identifiers not supported",
     in({pt::suback, pt::disconnect})},
    {rc::wildcard_subscriptions_not_supported, "Wildcard Subscriptions not supported",
     in({pt::suback, pt::disconnect})},
};

const reason_info* find(reason_code c) noexcept {
  auto it = std::find_if(std::begin(reason_table), std::end(reason_table), [c](const reason_info& r) { return r.code == c; });
  return it == std::end(reason_table) ? nullptr : it;
}

}  // namespace

std::string_view to_string(reason_code c, packet_type t) noexcept {
  if (c == rc::success) {
    if (t == pt::disconnect) return "Normal disconnection";
    if (t == pt::suback) return "Granted QoS 0";
  }
  const auto* r = find(c);
  return r ? r->name : "Unknown reason code";
}

bool is_valid_for(reason_code c, packet_type t) noexcept {
  const auto* r = find(c);
  return r && (r->packets & (1u << static_cast<unsigned>(t))) != 0;
}

bool is_defined(std::uint8_t value) noexcept { return find(static_cast<reason_code>(value)) != nullptr; }

// 3.1.1 §3.2.2.3 return codes and the 5.0 codes of the same meaning.
constexpr std::array<reason_code, 6> v311_connack{rc::success,
                                                  rc::unsupported_protocol_version,
                                                  rc::client_identifier_not_valid,
                                                  rc::server_unavailable,
                                                  rc::bad_user_name_or_password,
                                                  rc::not_authorized};

std::optional<reason_code> from_v311_connack(std::uint8_t return_code) noexcept {
  if (return_code >= v311_connack.size()) return std::nullopt;
  return v311_connack[return_code];
}

std::optional<std::uint8_t> to_v311_connack(reason_code c) noexcept {
  auto it = std::find(v311_connack.begin(), v311_connack.end(), c);
  if (it == v311_connack.end()) return std::nullopt;
  return static_cast<std::uint8_t>(it - v311_connack.begin());
}

bool is_valid_v311_suback(std::uint8_t value, protocol_version v) noexcept {
  return value <= 2 || (value == 0x80 && v != protocol_version::v3_1);
}

}  // namespace mqttspec::codec
