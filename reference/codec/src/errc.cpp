#include "mqttspec/codec/errc.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>

namespace mqttspec::codec {
namespace {

using rc = reason_code;

// One row per rule: its text, the reason class, and the statement it carries in each version.
struct errc_info {
  errc code;
  std::string_view text;
  reason_code reason;
  std::string_view v311;  // statement id in 3.1.1 (also used for 3.1), "" if none
  std::string_view v5;    // statement id in 5.0, "" if none
};

constexpr errc_info errc_table[] = {
    {errc::need_more, "incomplete packet, more bytes needed", rc::unspecified_error, "", ""},
    {errc::remaining_length_too_long, "Remaining Length longer than 4 bytes", rc::malformed_packet, "", ""},
    {errc::non_minimal_varint, "Variable Byte Integer not minimally encoded", rc::malformed_packet, "", "MQTT-1.5.5-1"},
    {errc::packet_too_large, "packet larger than the Maximum Packet Size", rc::packet_too_large, "", "MQTT-3.2.2-15"},
    {errc::reserved_packet_type, "reserved control packet type", rc::malformed_packet, "", ""},
    {errc::invalid_fixed_header_flags, "invalid fixed header flags", rc::malformed_packet, "MQTT-2.2.2-2", "MQTT-2.1.3-1"},
    {errc::truncated, "field runs past the end of the packet", rc::malformed_packet, "", ""},
    {errc::trailing_bytes, "bytes left over after the last field", rc::malformed_packet, "", ""},
    {errc::malformed_utf8, "ill-formed UTF-8 string", rc::malformed_packet, "MQTT-1.5.3-1", "MQTT-1.5.4-1"},
    {errc::utf8_surrogate, "UTF-8 string encodes a surrogate code point", rc::malformed_packet, "MQTT-1.5.3-1", "MQTT-1.5.4-1"},
    {errc::utf8_null, "UTF-8 string contains U+0000", rc::malformed_packet, "MQTT-1.5.3-2", "MQTT-1.5.4-2"},
    {errc::invalid_protocol_name, "unknown protocol name", rc::unsupported_protocol_version, "MQTT-3.1.2-1", "MQTT-3.1.2-1"},
    {errc::unsupported_protocol_version, "unsupported protocol level", rc::unsupported_protocol_version, "MQTT-3.1.2-2", "MQTT-3.1.2-2"},
    {errc::connect_reserved_flag, "CONNECT reserved flag is set", rc::malformed_packet, "MQTT-3.1.2-3", "MQTT-3.1.2-3"},
    {errc::invalid_will_qos, "Will QoS is 3", rc::malformed_packet, "MQTT-3.1.2-14", "MQTT-3.1.2-12"},
    {errc::will_qos_without_will, "Will QoS set without Will Flag", rc::malformed_packet, "MQTT-3.1.2-13", "MQTT-3.1.2-11"},
    {errc::will_retain_without_will, "Will Retain set without Will Flag", rc::malformed_packet, "MQTT-3.1.2-15", "MQTT-3.1.2-13"},
    {errc::password_without_user_name, "Password Flag set without User Name Flag", rc::malformed_packet, "MQTT-3.1.2-22", ""},
    {errc::connack_reserved_flags, "CONNACK acknowledge flags reserved bits set", rc::malformed_packet, "", "MQTT-3.2.2-1"},
    {errc::session_present_on_failure, "Session Present set on a refused connection", rc::protocol_error, "MQTT-3.2.2-4", "MQTT-3.2.2-6"},
    {errc::invalid_qos, "QoS 3", rc::malformed_packet, "MQTT-3.3.1-4", "MQTT-3.3.1-4"},
    {errc::dup_on_qos_0, "DUP set on a QoS 0 PUBLISH", rc::malformed_packet, "MQTT-3.3.1-2", "MQTT-3.3.1-2"},
    {errc::wildcard_in_topic_name, "wildcard character in a Topic Name", rc::malformed_packet, "MQTT-3.3.2-2", "MQTT-3.3.2-2"},
    {errc::empty_topic_name, "empty Topic Name", rc::protocol_error, "MQTT-4.7.3-1", "MQTT-4.7.3-1"},
    {errc::invalid_response_topic, "Response Topic is not a valid Topic Name", rc::protocol_error, "", "MQTT-3.3.2-14"},
    {errc::zero_packet_identifier, "Packet Identifier 0", rc::protocol_error, "MQTT-2.3.1-1", "MQTT-2.2.1-3"},
    {errc::no_topic_filters, "no Topic Filter in the payload", rc::protocol_error, "MQTT-3.8.3-3", "MQTT-3.8.3-2"},
    {errc::empty_topic_filter, "empty Topic Filter", rc::protocol_error, "MQTT-4.7.3-1", "MQTT-4.7.3-1"},
    {errc::misplaced_multi_level_wildcard, "'#' not alone as the last level", rc::malformed_packet, "MQTT-4.7.1-2", "MQTT-4.7.1-1"},
    {errc::misplaced_single_level_wildcard, "'+' not alone in its level", rc::malformed_packet, "MQTT-4.7.1-3", "MQTT-4.7.1-2"},
    {errc::empty_share_name, "empty ShareName in a shared subscription", rc::protocol_error, "", "MQTT-4.8.2-1"},
    {errc::invalid_shared_subscription, "ShareName with '/', '+' or '#', or no filter after it", rc::protocol_error, "", "MQTT-4.8.2-2"},
    {errc::no_local_on_shared_subscription, "No Local set on a shared subscription", rc::protocol_error, "", "MQTT-3.8.3-4"},
    {errc::subscription_options_reserved_bits, "reserved bits of the subscription options set", rc::malformed_packet, "MQTT-3.8.3-4", "MQTT-3.8.3-5"},
    {errc::invalid_retain_handling, "Retain Handling 3", rc::protocol_error, "", ""},
    {errc::invalid_reason_code, "reason code not allowed in this packet", rc::malformed_packet, "", ""},
    {errc::property_length_mismatch, "Property Length does not match the properties", rc::malformed_packet, "", ""},
    {errc::unknown_property, "unknown property identifier", rc::malformed_packet, "", ""},
    {errc::property_not_allowed, "property not allowed in this packet", rc::malformed_packet, "", ""},
    {errc::duplicate_property, "property included more than once", rc::protocol_error, "", ""},
    {errc::invalid_property_value, "property value out of range", rc::protocol_error, "", ""},
    {errc::topic_alias_zero, "Topic Alias 0", rc::topic_alias_invalid, "", "MQTT-3.3.2-8"},
    {errc::authentication_data_without_method, "Authentication Data without Authentication Method", rc::protocol_error, "", ""},
    {errc::not_in_version, "content cannot be expressed in this protocol version", rc::implementation_specific_error, "", ""},
    {errc::value_too_large, "value does not fit its field", rc::implementation_specific_error, "", ""},
};

const errc_info* find(errc e) noexcept {
  auto it = std::find_if(std::begin(errc_table), std::end(errc_table), [e](const errc_info& i) { return i.code == e; });
  return it == std::end(errc_table) ? nullptr : it;
}

// Rules whose statement depends on the packet: {errc, packet, 3.1.1 id, 5.0 id}.
struct per_packet {
  errc code;
  packet_type type;
  std::string_view v311;
  std::string_view v5;
};
using pt = packet_type;
constexpr per_packet per_packet_table[] = {
    {errc::invalid_fixed_header_flags, pt::pubrel, "MQTT-3.6.1-1", "MQTT-3.6.1-1"},
    {errc::invalid_fixed_header_flags, pt::subscribe, "MQTT-3.8.1-1", "MQTT-3.8.1-1"},
    {errc::invalid_fixed_header_flags, pt::unsubscribe, "MQTT-3.10.1-1", "MQTT-3.10.1-1"},
    {errc::invalid_fixed_header_flags, pt::disconnect, "MQTT-3.14.1-1", "MQTT-3.14.1-1"},
    {errc::invalid_fixed_header_flags, pt::auth, "", "MQTT-3.15.1-1"},
    {errc::invalid_reason_code, pt::connack, "", "MQTT-3.2.2-8"},
    {errc::invalid_reason_code, pt::puback, "", "MQTT-3.4.2-1"},
    {errc::invalid_reason_code, pt::pubrec, "", "MQTT-3.5.2-1"},
    {errc::invalid_reason_code, pt::pubrel, "", "MQTT-3.6.2-1"},
    {errc::invalid_reason_code, pt::pubcomp, "", "MQTT-3.7.2-1"},
    {errc::invalid_reason_code, pt::suback, "MQTT-3.9.3-2", "MQTT-3.9.3-2"},
    {errc::invalid_reason_code, pt::unsuback, "", "MQTT-3.11.3-2"},
    {errc::invalid_reason_code, pt::disconnect, "", "MQTT-3.14.2-1"},
    {errc::invalid_reason_code, pt::auth, "", "MQTT-3.15.2-1"},
    {errc::no_topic_filters, pt::unsubscribe, "MQTT-3.10.3-2", "MQTT-3.10.3-2"},
    {errc::invalid_qos, pt::subscribe, "MQTT-3.8.3-4", ""},
    {errc::zero_packet_identifier, pt::puback, "MQTT-2.3.1-6", "MQTT-2.2.1-5"},
    {errc::zero_packet_identifier, pt::pubrec, "MQTT-2.3.1-6", "MQTT-2.2.1-5"},
    {errc::zero_packet_identifier, pt::pubrel, "MQTT-2.3.1-6", "MQTT-2.2.1-5"},
    {errc::zero_packet_identifier, pt::pubcomp, "MQTT-2.3.1-6", "MQTT-2.2.1-5"},
    {errc::zero_packet_identifier, pt::suback, "MQTT-2.3.1-7", "MQTT-2.2.1-6"},
    {errc::zero_packet_identifier, pt::unsuback, "MQTT-2.3.1-7", "MQTT-2.2.1-6"},
};

class codec_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mqttspec.codec"; }
  std::string message(int ev) const override {
    const auto* i = find(static_cast<errc>(ev));
    return i ? std::string(i->text) : "unknown codec error";
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    return make_error_condition(reason_for(static_cast<errc>(ev)));
  }
};

class reason_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mqttspec.reason"; }
  std::string message(int ev) const override { return std::string(to_string(static_cast<reason_code>(ev))); }
};

}  // namespace

const std::error_category& codec_category() noexcept {
  static const codec_category_impl c;
  return c;
}

const std::error_category& reason_category() noexcept {
  static const reason_category_impl c;
  return c;
}

reason_code reason_for(errc e) noexcept {
  const auto* i = find(e);
  return i ? i->reason : rc::unspecified_error;
}

std::string statement_for(errc e, protocol_version v, std::optional<packet_type> in) {
  std::string_view id;
  bool found = false;
  if (in) {
    for (const auto& p : per_packet_table) {
      if (p.code == e && p.type == *in) {
        id = is_v5(v) ? p.v5 : p.v311;
        found = true;
        break;
      }
    }
  }
  if (!found) {
    if (const auto* i = find(e)) id = is_v5(v) ? i->v5 : i->v311;
  }
  // MQTT 3.1 numbered no statements; citing 3.1.1's would misstate its rules (e.g. SUBACK 0x80).
  if (id.empty() || v == protocol_version::v3_1) return {};
  std::string out(is_v5(v) ? "v5:" : "v3.1.1:");
  out += id;
  return out;
}

std::string decode_error::message() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const decode_error& e) {
  os << make_error_code(e.code).message();
  if (!e.detail.empty()) os << " (" << e.detail << ")";
  os << " at byte " << e.offset;
  if (!e.statement.empty()) os << " [" << e.statement << "]";
  return os;
}

}  // namespace mqttspec::codec
