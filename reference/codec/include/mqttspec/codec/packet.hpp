#pragma once
// One value type per control packet; the protocol version is a parameter of decode/encode.
// Strings and binary fields are views into the decoded frame (zero copy): a decoded packet lives
// as long as the bytes it was decoded from (see owned_packet).
#include "mqttspec/codec/inline_vector.hpp"
#include "mqttspec/codec/property.hpp"
#include "mqttspec/codec/reason_code.hpp"
#include "mqttspec/codec/types.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <ostream>
#include <string_view>
#include <variant>
#include <vector>

namespace mqttspec::codec {

struct will_message {
  qos qos_level = qos::at_most_once;
  bool retain = false;
  properties props;        // Will Properties (5.0)
  std::string_view topic;
  bytes_view payload;
  friend bool operator==(const will_message&, const will_message&) = default;
};

struct connect {
  protocol_version version = protocol_version::v5;
  bool clean_start = true;  // Clean Session in 3.1.1
  std::uint16_t keep_alive = 0;
  properties props;
  std::string_view client_id;
  std::optional<will_message> will;
  std::optional<std::string_view> user_name;
  std::optional<bytes_view> password;
  friend bool operator==(const connect&, const connect&) = default;
};

struct connack {
  bool session_present = false;
  reason_code code = reason_code::success;  // 3.1.1 return codes are mapped to their 5.0 equivalents
  properties props;
  friend bool operator==(const connack&, const connack&) = default;
};

struct publish {
  bool dup = false;
  qos qos_level = qos::at_most_once;
  bool retain = false;
  std::string_view topic;
  std::uint16_t packet_id = 0;  // present on the wire only for QoS 1 and 2
  properties props;
  bytes_view payload;
  friend bool operator==(const publish&, const publish&) = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape; the tag keeps them distinct types.
template <packet_type Type>
struct publish_response {
  static constexpr packet_type type = Type;
  std::uint16_t packet_id = 0;
  reason_code code = reason_code::success;
  properties props;
  friend bool operator==(const publish_response&, const publish_response&) = default;
};
using puback = publish_response<packet_type::puback>;
using pubrec = publish_response<packet_type::pubrec>;
using pubrel = publish_response<packet_type::pubrel>;
using pubcomp = publish_response<packet_type::pubcomp>;

struct subscription_options {
  qos max_qos = qos::at_most_once;
  bool no_local = false;             // 5.0
  bool retain_as_published = false;  // 5.0
  retain_handling handling = retain_handling::send_on_subscribe;  // 5.0
  friend bool operator==(const subscription_options&, const subscription_options&) = default;
};

struct subscription {
  std::string_view filter;
  subscription_options options;
  friend bool operator==(const subscription&, const subscription&) = default;
};

struct subscribe {
  std::uint16_t packet_id = 0;
  properties props;
  inline_vector<subscription, 16> subscriptions;  // 16 inline still leaves it smaller than a CONNECT
  friend bool operator==(const subscribe&, const subscribe&) = default;
};

struct suback {
  std::uint16_t packet_id = 0;
  properties props;
  inline_vector<reason_code, 8> codes;  // 3.1.1 return codes 0, 1, 2, 0x80 are the same bytes
  friend bool operator==(const suback&, const suback&) = default;
};

struct unsubscribe {
  std::uint16_t packet_id = 0;
  properties props;
  inline_vector<std::string_view, 8> filters;
  friend bool operator==(const unsubscribe&, const unsubscribe&) = default;
};

struct unsuback {
  std::uint16_t packet_id = 0;
  properties props;
  inline_vector<reason_code, 8> codes;  // 5.0 only; empty in 3.1.1
  friend bool operator==(const unsuback&, const unsuback&) = default;
};

struct pingreq {
  friend bool operator==(const pingreq&, const pingreq&) = default;
};
struct pingresp {
  friend bool operator==(const pingresp&, const pingresp&) = default;
};

struct disconnect {
  reason_code code = reason_code::success;
  properties props;
  friend bool operator==(const disconnect&, const disconnect&) = default;
};

struct auth {
  reason_code code = reason_code::success;
  properties props;
  friend bool operator==(const auth&, const auth&) = default;
};

using packet = std::variant<connect, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe, suback,
                            unsubscribe, unsuback, pingreq, pingresp, disconnect, auth>;

// A packet is as big as its largest alternative: SUBSCRIBE's inline filters must not set that.
static_assert(sizeof(subscribe) <= sizeof(connect));

packet_type type_of(const packet& p) noexcept;

// A packet together with the bytes its views point into. Moving it keeps the views valid.
struct owned_packet {
  std::shared_ptr<const bytes> storage;
  packet value;
};

// Readable one-line form for test failures and wire logs, e.g.
// PUBLISH(qos=1, retain=0, dup=0, id=7, topic="a/b", payload=5 bytes "hello")
std::ostream& operator<<(std::ostream& os, const packet& p);
std::string to_string(const packet& p);
std::ostream& operator<<(std::ostream& os, const will_message& w);
std::ostream& operator<<(std::ostream& os, const subscription& s);
// Let GoogleTest and friends print each alternative through the variant printer.
template <class T, class V>
struct is_alternative_of : std::false_type {};
template <class T, class... Ts>
struct is_alternative_of<T, std::variant<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};
template <class T>
  requires is_alternative_of<T, packet>::value
std::ostream& operator<<(std::ostream& os, const T& p) { return os << packet{p}; }

}  // namespace mqttspec::codec
