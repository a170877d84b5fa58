#pragma once
// Input errors of the codec. Each `errc` names one wire rule; `decode_error` adds where it broke
// (byte offset into the frame) and which normative statement it violates for the version at hand.
#include "mqttspec/codec/reason_code.hpp"
#include "mqttspec/codec/types.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace mqttspec::codec {

enum class errc {
  // framing (§2.1, §1.5.5)
  need_more = 1,                  // not an error of the peer: the frame is incomplete
  remaining_length_too_long,      // a fifth length byte
  non_minimal_varint,             // 5.0 requires the shortest encoding
  packet_too_large,               // larger than the configured Maximum Packet Size
  reserved_packet_type,           // type 0, or AUTH before 5.0
  invalid_fixed_header_flags,
  // field layout
  truncated,                      // a field runs past the end of the frame
  trailing_bytes,                 // bytes left over after the last field
  malformed_utf8,
  utf8_surrogate,
  utf8_null,
  // CONNECT
  invalid_protocol_name,
  unsupported_protocol_version,
  connect_reserved_flag,
  invalid_will_qos,
  will_qos_without_will,
  will_retain_without_will,
  password_without_user_name,
  // CONNACK
  connack_reserved_flags,
  session_present_on_failure,
  // PUBLISH
  invalid_qos,
  dup_on_qos_0,
  wildcard_in_topic_name,
  empty_topic_name,
  invalid_response_topic,
  // identifiers
  zero_packet_identifier,
  // SUBSCRIBE / UNSUBSCRIBE
  no_topic_filters,
  empty_topic_filter,
  misplaced_multi_level_wildcard,
  misplaced_single_level_wildcard,
  empty_share_name,
  invalid_shared_subscription,
  no_local_on_shared_subscription,
  subscription_options_reserved_bits,
  invalid_retain_handling,
  invalid_reason_code,
  // properties (5.0)
  property_length_mismatch,
  unknown_property,
  property_not_allowed,
  duplicate_property,
  invalid_property_value,
  topic_alias_zero,
  authentication_data_without_method,
  // encoding only: the packet cannot be expressed in the requested version or at all
  not_in_version,
  value_too_large,
};

const std::error_category& codec_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), codec_category()}; }

// Coarse classes, as the 5.0 reason code a receiver answers with (DISCONNECT / CONNACK).
// Also the error condition of each errc, so `ec == reason_code::malformed_packet` works.
reason_code reason_for(errc e) noexcept;
const std::error_category& reason_category() noexcept;
inline std::error_condition make_error_condition(reason_code c) noexcept {
  return {static_cast<int>(c), reason_category()};
}

// The statement an error violates in a version, as "v5:MQTT-1.5.4-2" or "v3.1.1:MQTT-3.3.1-4";
// empty when the rule has no numbered statement in that version. `in` refines rules whose
// statement differs per packet (fixed-header flags, reason codes, empty filter lists).
std::string statement_for(errc e, protocol_version v, std::optional<packet_type> in = {});

struct decode_error {
  errc code{};
  std::size_t offset = 0;             // byte offset in the frame (fixed header included)
  std::string statement;              // see statement_for
  std::string_view detail;            // static text narrowing the rule down, may be empty

  std::error_code error_code() const noexcept { return make_error_code(code); }
  reason_code reason() const noexcept { return reason_for(code); }
  std::string message() const;        // "malformed UTF-8 ... at byte 12 (v5:MQTT-1.5.4-1)"
  friend bool operator==(const decode_error&, const decode_error&) = default;
};

std::ostream& operator<<(std::ostream& os, const decode_error& e);

}  // namespace mqttspec::codec

template <>
struct std::is_error_code_enum<mqttspec::codec::errc> : std::true_type {};
template <>
struct std::is_error_condition_enum<mqttspec::codec::reason_code> : std::true_type {};
