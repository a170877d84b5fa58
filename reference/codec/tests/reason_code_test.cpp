// reason_code.hpp: the 5.0 reason code table (§2.4) and each packet's own table (§3.2.2.2,
// §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1, §3.9.3, §3.11.3, §3.14.2.1, §3.15.2.1), and the 3.1.1
// CONNACK / SUBACK return codes (§3.2.2.3, §3.9.3 of 3.1.1).
#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

using namespace mqttspec::codec;

namespace {

struct named_code {
  std::uint8_t value;
  std::string_view name;  // the §2.4 name (the first one where a value has several)
};

// §2.4, every defined value.
const named_code all_codes[] = {
    {0x00, "Success"},
    {0x01, "Granted QoS 1"},
    {0x02, "Granted QoS 2"},
    {0x04, "Disconnect with Will Message"},
    {0x10, "No matching subscribers"},
    {0x11, "No subscription existed"},
    {0x18, "Continue authentication"},
    {0x19, "Re-authenticate"},
    {0x80, "Unspecified error"},
    {0x81, "Malformed Packet"},
    {0x82, "Protocol Error"},
    {0x83, "Implementation specific error"},
    {0x84, "Unsupported Protocol Version"},
    {0x85, "Client Identifier not valid"},
    {0x86, "Bad User Name or Password"},
    {0x87, "Not authorized"},
    {0x88, "Server unavailable"},
    {0x89, "Server busy"},
    {0x8A, "Banned"},
    {0x8B, "Server shutting down"},
    {0x8C, "Bad authentication method"},
    {0x8D, "Keep Alive timeout"},
    {0x8E, "Session taken over"},
    {0x8F, "Topic Filter invalid"},
    {0x90, "Topic Name invalid"},
    {0x91, "Packet Identifier in use"},
    {0x92, "Packet Identifier not found"},
    {0x93, "Receive Maximum exceeded"},
    {0x94, "Topic Alias invalid"},
    {0x95, "Packet too large"},
    {0x96, "Message rate too high"},
    {0x97, "Quota exceeded"},
    {0x98, "Administrative action"},
    {0x99, "Payload format invalid"},
    {0x9A, "Retain not supported"},
    {0x9B, "QoS not supported"},
    {0x9C, "Use another server"},
    {0x9D, "Server moved"},
    {0x9E, "Shared Subscriptions not supported"},
    {0x9F, "Connection rate exceeded"},
    {0xA0, "Maximum connect time"},
    {0xA1, "Subscription Identifiers not supported"},
    {0xA2, "Wildcard Subscriptions not supported"},
};

// Each packet's table.
struct packet_codes {
  packet_type type;
  std::set<int> values;
};
const packet_codes tables[] = {
    {packet_type::connack, {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90,
                            0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F}},
    {packet_type::puback, {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99}},
    {packet_type::pubrec, {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99}},
    {packet_type::pubrel, {0x00, 0x92}},
    {packet_type::pubcomp, {0x00, 0x92}},
    {packet_type::suback, {0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2}},
    {packet_type::unsuback, {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91}},
    // Table 3-10 leaves 0x8C (Bad authentication method) out, but Table 2-6 of §2.4 lists it for
    // DISCONNECT, and a failed re-authentication (§4.12.1) needs it: a receiver accepts it.
    {packet_type::disconnect, {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x90,
                               0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F,
                               0xA0, 0xA1, 0xA2}},
    {packet_type::auth, {0x00, 0x18, 0x19}},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

TEST(reason_code, is_defined_is_exactly_the_spec_table) {
  std::set<int> defined;
  for (const auto& c : all_codes) defined.insert(c.value);
  for (int v = 0; v < 256; ++v)
    EXPECT_EQ(is_defined(static_cast<std::uint8_t>(v)), defined.count(v) == 1) << "value 0x" << std::hex << v;
}

TEST(reason_code, names_follow_section_2_4) {
  // Case is not significant (the spec itself is inconsistent), the words are.
  for (const auto& c : all_codes) {
    const auto code = static_cast<reason_code>(c.value);
    if (c.value == 0x00) continue;  // depends on the packet, below
    const auto in = c.value == 0x01 || c.value == 0x02 ? packet_type::suback : packet_type::disconnect;
    EXPECT_EQ(lower(to_string(code, in)), lower(c.name)) << "0x" << std::hex << int{c.value};
  }
}

TEST(reason_code, zero_is_named_after_the_packet) {
  EXPECT_EQ(lower(to_string(reason_code::success, packet_type::connack)), "success");
  EXPECT_EQ(lower(to_string(reason_code::success, packet_type::puback)), "success");
  EXPECT_EQ(lower(to_string(reason_code::success, packet_type::disconnect)), "normal disconnection");
  EXPECT_EQ(lower(to_string(reason_code::success, packet_type::suback)), "granted qos 0");
  EXPECT_EQ(lower(to_string(reason_code::success)), "normal disconnection") << "the default packet is DISCONNECT";
}

TEST(reason_code, is_valid_for_matches_each_packet_table) {
  for (const auto& t : tables) {
    for (int v = 0; v < 256; ++v) {
      if (!is_defined(static_cast<std::uint8_t>(v))) continue;
      EXPECT_EQ(is_valid_for(static_cast<reason_code>(v), t.type), t.values.count(v) == 1)
          << to_string(t.type) << " 0x" << std::hex << v;
    }
  }
}

TEST(reason_code, failure_is_0x80_and_above) {
  for (const auto& c : all_codes) EXPECT_EQ(is_failure(static_cast<reason_code>(c.value)), c.value >= 0x80) << c.name;
}

TEST(reason_code, v311_connack_return_codes_map_both_ways) {
  // 3.1.1 Table 3.1 against the 5.0 code of the same meaning.
  const std::pair<std::uint8_t, reason_code> map[] = {
      {0, reason_code::success},
      {1, reason_code::unsupported_protocol_version},
      {2, reason_code::client_identifier_not_valid},
      {3, reason_code::server_unavailable},
      {4, reason_code::bad_user_name_or_password},
      {5, reason_code::not_authorized},
  };
  for (const auto& [v311, v5] : map) {
    EXPECT_EQ(from_v311_connack(v311), v5) << int{v311};
    EXPECT_EQ(to_v311_connack(v5), v311) << int{v311};
  }
  for (int v = 6; v < 256; ++v) EXPECT_EQ(from_v311_connack(static_cast<std::uint8_t>(v)), std::nullopt) << v;
  // 5.0 codes without a 3.1.1 equivalent
  for (auto c : {reason_code::unspecified_error, reason_code::malformed_packet, reason_code::banned,
                 reason_code::use_another_server, reason_code::granted_qos_1})
    EXPECT_EQ(to_v311_connack(c), std::nullopt) << to_string(c);
}

TEST(reason_code, v311_suback_return_codes) {
  for (int v = 0; v < 256; ++v) {
    const auto b = static_cast<std::uint8_t>(v);
    EXPECT_EQ(is_valid_v311_suback(b, protocol_version::v3_1_1), v <= 2 || v == 0x80) << v;
    // 3.1 has no failure return code.
    EXPECT_EQ(is_valid_v311_suback(b, protocol_version::v3_1), v <= 2) << v;
  }
}
