#pragma once
// MQTT 5.0 properties (§2.2.2). A packet's properties are one struct of optional fields, so users
// read them by name; a single table (property_table) says each property's wire type and where it
// may appear, and drives decoding, validation and encoding.
#include "mqttspec/codec/inline_vector.hpp"
#include "mqttspec/codec/types.hpp"

#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace mqttspec::codec {

enum class property_id : std::uint8_t {
  payload_format_indicator = 0x01,
  message_expiry_interval = 0x02,
  content_type = 0x03,
  response_topic = 0x08,
  correlation_data = 0x09,
  subscription_identifier = 0x0B,
  session_expiry_interval = 0x11,
  assigned_client_identifier = 0x12,
  server_keep_alive = 0x13,
  authentication_method = 0x15,
  authentication_data = 0x16,
  request_problem_information = 0x17,
  will_delay_interval = 0x18,
  request_response_information = 0x19,
  response_information = 0x1A,
  server_reference = 0x1C,
  reason_string = 0x1F,
  receive_maximum = 0x21,
  topic_alias_maximum = 0x22,
  topic_alias = 0x23,
  maximum_qos = 0x24,
  retain_available = 0x25,
  user_property = 0x26,
  maximum_packet_size = 0x27,
  wildcard_subscription_available = 0x28,
  subscription_identifier_available = 0x29,
  shared_subscription_available = 0x2A,
};

enum class property_type : std::uint8_t { byte, two_byte_integer, four_byte_integer, variable_byte_integer, utf8_string, binary_data, utf8_string_pair };

// Where a property may appear: one bit per packet type, plus one for the Will Properties of CONNECT.
enum class property_place : std::uint32_t {};
constexpr property_place place_of(packet_type t) noexcept { return property_place{1u << static_cast<unsigned>(t)}; }
inline constexpr property_place will_properties{1u << 16};

struct property_info {
  property_id id;
  std::string_view name;
  property_type type;
  std::uint32_t places;  // bit set of property_place values
  bool repeatable;       // User Property; Subscription Identifier in PUBLISH
};

// All 27 properties, ordered by identifier.
std::span<const property_info> property_table() noexcept;
// Lookup by identifier byte (nullptr if unknown) and place check; inline, in detail/property_table.hpp.
const property_info* find_property(std::uint8_t id) noexcept;
bool allowed_in(const property_info& p, property_place place) noexcept;

using user_property = std::pair<std::string_view, std::string_view>;

struct properties {
  std::optional<std::uint8_t> payload_format_indicator;
  std::optional<std::uint32_t> message_expiry_interval;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> response_topic;
  std::optional<bytes_view> correlation_data;
  inline_vector<std::uint32_t, 2> subscription_identifiers;  // one in SUBSCRIBE, several in PUBLISH
  std::optional<std::uint32_t> session_expiry_interval;
  std::optional<std::string_view> assigned_client_identifier;
  std::optional<std::uint16_t> server_keep_alive;
  std::optional<std::string_view> authentication_method;
  std::optional<bytes_view> authentication_data;
  std::optional<std::uint8_t> request_problem_information;
  std::optional<std::uint32_t> will_delay_interval;
  std::optional<std::uint8_t> request_response_information;
  std::optional<std::string_view> response_information;
  std::optional<std::string_view> server_reference;
  std::optional<std::string_view> reason_string;
  std::optional<std::uint16_t> receive_maximum;
  std::optional<std::uint16_t> topic_alias_maximum;
  std::optional<std::uint16_t> topic_alias;
  std::optional<std::uint8_t> maximum_qos;
  std::optional<std::uint8_t> retain_available;
  inline_vector<user_property, 2> user_properties;  // order is significant and kept
  std::optional<std::uint32_t> maximum_packet_size;
  std::optional<std::uint8_t> wildcard_subscription_available;
  std::optional<std::uint8_t> subscription_identifier_available;
  std::optional<std::uint8_t> shared_subscription_available;

  bool empty() const noexcept;
  friend bool operator==(const properties&, const properties&) = default;
};

// One property value as it travels on the wire.
struct property_value {
  property_id id;
  std::uint32_t number = 0;     // byte, two/four byte and variable byte integers
  std::string_view text;        // strings and binary data; the name of a string pair
  std::string_view pair_value;  // the value of a string pair
};

// Calls f(property_value) for every property present, in identifier order; user properties and
// subscription identifiers in their stored order. The one place that maps struct fields to ids.
template <class F>
void for_each_property(const properties& p, F&& f);

std::ostream& operator<<(std::ostream& os, const properties& p);

}  // namespace mqttspec::codec

#include "mqttspec/codec/detail/property_table.hpp"
#include "mqttspec/codec/detail/property_visit.hpp"
