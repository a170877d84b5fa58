// decode.hpp: every hand-written fixture decodes to its hand-built packet, and every wire rule is
// refused with the right error, statement and byte offset (one table, one row per rule).
#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace mqttspec::codec;
namespace t = mqttspec::codec::test;
using t::hexdump;
using t::unhex;

namespace {

constexpr auto v31 = protocol_version::v3_1;
constexpr auto v311 = protocol_version::v3_1_1;
constexpr auto v5 = protocol_version::v5;

std::string describe(const decode_result& r) {
  if (r) return "decoded " + to_string(*r);
  return r.error().message();
}

class decode_fixture : public testing::TestWithParam<t::fixture> {};

}  // namespace

TEST_P(decode_fixture, decodes_to_the_expected_packet) {
  const auto& fx = GetParam();
  const auto bytes = unhex(fx.hex);
  const auto r = decode(bytes, fx.version);
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(*r, fx.expected);
}

TEST_P(decode_fixture, decodes_the_same_from_a_frame) {
  const auto& fx = GetParam();
  const auto bytes = unhex(fx.hex);
  const auto f = parse_frame(bytes);
  ASSERT_TRUE(f) << f.error().message();
  const auto r = decode(*f, fx.version);
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(*r, fx.expected);
}

TEST_P(decode_fixture, refuses_a_byte_too_many_or_too_few) {
  const auto& fx = GetParam();
  const auto bytes = unhex(fx.hex);
  const auto over = decode(bytes + '\0', fx.version);
  ASSERT_FALSE(over) << describe(over);
  EXPECT_EQ(over.error().code, errc::trailing_bytes) << over.error().message();
  EXPECT_EQ(over.error().offset, bytes.size());
  const auto short_by_one = decode(bytes_view(bytes).substr(0, bytes.size() - 1), fx.version);
  ASSERT_FALSE(short_by_one) << describe(short_by_one);
  EXPECT_TRUE(short_by_one.error().code == errc::need_more || short_by_one.error().code == errc::truncated)
      << short_by_one.error().message();
}

INSTANTIATE_TEST_SUITE_P(decode, decode_fixture, testing::ValuesIn(t::fixtures()),
                         [](const auto& i) { return i.param.name; });

TEST(decode, strings_are_views_into_the_input) {
  const auto bytes = unhex("32 0a 00 03 61 2f 62 00 07 68 69 21");
  const auto r = decode(bytes, v311);
  ASSERT_TRUE(r) << describe(r);
  const auto& p = std::get<publish>(*r);
  EXPECT_EQ(p.topic.data(), bytes.data() + 4);
  EXPECT_EQ(p.payload.data(), bytes.data() + 9);
}

TEST(decode, zwnbsp_is_kept) {
  // MQTT-1.5.4-3 / 3.1.1 MQTT-1.5.3-3: EF BB BF is U+FEFF, never skipped or stripped.
  const auto bytes = unhex("30 0a 00 06 ef bb bf ef bb bf 00 21");
  const auto r = decode(bytes, v5);
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(std::get<publish>(*r).topic, "\xef\xbb\xbf\xef\xbb\xbf");
  EXPECT_EQ(std::get<publish>(*r).payload, "!");
}

TEST(decode, v3_1_1_accepts_non_minimal_lengths) {
  // 3.1.1 has no minimal-encoding rule; 5.0 does (MQTT-1.5.5-1).
  const auto ping_bytes = unhex("c0 80 00");
  const auto ping = decode(ping_bytes, v311);
  ASSERT_TRUE(ping) << describe(ping);
  EXPECT_EQ(*ping, packet{pingreq{}});
  const auto pub_bytes = unhex("30 85 00 00 01 74 68 69");
  const auto pub = decode(pub_bytes, v311);
  ASSERT_TRUE(pub) << describe(pub);
  EXPECT_EQ(*pub, (packet{publish{.topic = "t", .payload = "hi"}}));
  const auto pub5_bytes = unhex("30 86 00 00 01 74 00 68 69");
  const auto pub5 = decode(pub5_bytes, v5);
  ASSERT_FALSE(pub5) << describe(pub5);
  EXPECT_EQ(pub5.error().code, errc::non_minimal_varint);
}

TEST(decode, peek_connect_version) {
  for (const auto& fx : t::fixtures()) {
    if (type_of(fx.expected) != packet_type::connect) continue;
    const auto bytes = unhex(fx.hex);
    const auto f = parse_frame(bytes);
    ASSERT_TRUE(f);
    const auto v = peek_connect_version(*f);
    ASSERT_TRUE(v) << fx.name << ": " << v.error().message();
    EXPECT_EQ(*v, fx.version) << fx.name;
  }
  const struct {
    std::string_view hex;
    errc code;
  } bad[] = {
      {"10 0e 00 04 4d 51 54 58 05 02 00 3c 00 00 01 61", errc::invalid_protocol_name},         // "MQTX"
      {"10 0e 00 04 4d 51 54 54 06 02 00 3c 00 00 01 61", errc::unsupported_protocol_version},  // level 6
      {"10 0d 00 04 4d 51 54 54 02 02 00 3c 00 01 61", errc::unsupported_protocol_version},     // level 2
      {"10 05 00 04 4d 51 54", errc::truncated},
  };
  for (const auto& row : bad) {
    const auto bytes = unhex(row.hex);
    const auto f = parse_frame(bytes);
    ASSERT_TRUE(f) << row.hex;
    const auto v = peek_connect_version(*f);
    ASSERT_FALSE(v) << row.hex;
    EXPECT_EQ(v.error().code, row.code) << row.hex << ": " << v.error().message();
  }
}

// ----------------------------------------------------------------------------- the error table

namespace {

struct error_row {
  std::string_view name;
  protocol_version version;
  std::string_view hex;
  errc code;
  // The statement: "" for a rule without a numbered statement, "a|b" when the text supports more
  // than one reading, "*" when not checked (3.1 has no numbered statements).
  std::string_view statement;
  std::size_t offset;
};

// Offsets point at the offending byte: the flag or field byte, the first byte of a bad character or
// wildcard, the property identifier; for an empty or overrunning string, where its bytes start.
// clang-format off
const error_row error_rows[] = {
    // ---- reserved fixed-header flags: PUBREL, SUBSCRIBE, UNSUBSCRIBE 0010, the others 0000 (§2.1.3)
    {"v5_connect_flags", v5, "11 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 61", errc::invalid_fixed_header_flags, "v5:MQTT-2.1.3-1", 0},
    {"v5_connack_flags", v5, "21 03 00 00 00", errc::invalid_fixed_header_flags, "v5:MQTT-2.1.3-1", 0},
    {"v5_puback_flags", v5, "41 02 00 01", errc::invalid_fixed_header_flags, "v5:MQTT-2.1.3-1", 0},
    {"v5_pubrec_flags", v5, "58 02 00 01", errc::invalid_fixed_header_flags, "v5:MQTT-2.1.3-1", 0},
    {"v5_pubrel_flags_0000", v5, "60 02 00 01", errc::invalid_fixed_header_flags, "v5:MQTT-3.6.1-1", 0},
    {"v5_pubrel_flags_0011", v5, "63 02 00 01", errc::invalid_fixed_header_flags, "v5:MQTT-3.6.1-1", 0},
    {"v5_pubcomp_flags", v5, "72 02 00 01", errc::invalid_fixed_header_flags, "v5:MQTT-2.1.3-1", 0},
    {"v5_subscribe_flags_0000", v5, "80 07 00 01 00 00 01 61 00", errc::invalid_fixed_header_flags, "v5:MQTT-3.8.1-1", 0},
    {"v5_subscribe_flags_1010", v5, "8a 07 00 01 00 00 01 61 00", errc::invalid_fixed_header_flags, "v5:MQTT-3.8.1-1", 0},
    {"v5_suback_flags", v5, "92 04 00 01 00 00", errc::invalid_fixed_header_flags, "v5:MQTT-2.1.3-1", 0},
    {"v5_unsubscribe_flags_0000", v5, "a0 06 00 01 00 00 01 61", errc::invalid_fixed_header_flags, "v5:MQTT-3.10.1-1", 0},
    {"v5_unsuback_flags", v5, "b4 04 00 01 00 00", errc::invalid_fixed_header_flags, "v5:MQTT-2.1.3-1", 0},
    {"v5_pingreq_flags", v5, "c1 00", errc::invalid_fixed_header_flags, "v5:MQTT-2.1.3-1", 0},
    {"v5_pingresp_flags", v5, "d8 00", errc::invalid_fixed_header_flags, "v5:MQTT-2.1.3-1", 0},
    {"v5_disconnect_flags", v5, "e2 00", errc::invalid_fixed_header_flags, "v5:MQTT-3.14.1-1", 0},
    {"v5_auth_flags", v5, "f1 00", errc::invalid_fixed_header_flags, "v5:MQTT-3.15.1-1", 0},
    {"v311_connect_flags", v311, "11 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-2.2.2-2", 0},
    {"v311_connack_flags", v311, "22 02 00 00", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-2.2.2-2", 0},
    {"v311_puback_flags", v311, "41 02 00 01", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-2.2.2-2", 0},
    {"v311_pubrec_flags", v311, "54 02 00 01", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-2.2.2-2", 0},
    {"v311_pubrel_flags_0000", v311, "60 02 00 01", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-3.6.1-1", 0},
    {"v311_pubrel_flags_1010", v311, "6a 02 00 01", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-3.6.1-1", 0},
    {"v311_pubcomp_flags", v311, "71 02 00 01", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-2.2.2-2", 0},
    {"v311_subscribe_flags_0011", v311, "83 06 00 01 00 01 61 00", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-3.8.1-1", 0},
    {"v311_suback_flags", v311, "98 03 00 01 00", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-2.2.2-2", 0},
    {"v311_unsubscribe_flags_0001", v311, "a1 05 00 01 00 01 61", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-3.10.1-1", 0},
    {"v311_unsuback_flags", v311, "b2 02 00 01", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-2.2.2-2", 0},
    {"v311_pingreq_flags", v311, "c4 00", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-2.2.2-2", 0},
    {"v311_pingresp_flags", v311, "d1 00", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-2.2.2-2", 0},
    {"v311_disconnect_flags", v311, "ef 00", errc::invalid_fixed_header_flags, "v3.1.1:MQTT-3.14.1-1", 0},
    // ---- PUBLISH flags (§3.3.1)
    {"v5_publish_qos3", v5, "36 06 00 03 61 2f 62 00", errc::invalid_qos, "v5:MQTT-3.3.1-4", 0},
    {"v311_publish_qos3", v311, "36 05 00 03 61 2f 62", errc::invalid_qos, "v3.1.1:MQTT-3.3.1-4", 0},
    {"v311_publish_qos3_dup_retain", v311, "3f 07 00 03 61 2f 62 00 01", errc::invalid_qos, "v3.1.1:MQTT-3.3.1-4", 0},
    {"v5_publish_dup_qos0", v5, "38 06 00 03 61 2f 62 00", errc::dup_on_qos_0, "v5:MQTT-3.3.1-2", 0},
    {"v311_publish_dup_qos0_retain", v311, "39 05 00 03 61 2f 62", errc::dup_on_qos_0, "v3.1.1:MQTT-3.3.1-2", 0},
    // ---- Variable Byte Integers: 5.0 wants the fewest bytes (MQTT-1.5.5-1)
    {"v5_remaining_length_non_minimal", v5, "c0 80 00", errc::non_minimal_varint, "v5:MQTT-1.5.5-1", 1},
    {"v5_publish_remaining_length_non_minimal", v5, "30 84 00 00 01 74 00", errc::non_minimal_varint, "v5:MQTT-1.5.5-1", 1},
    {"v5_property_length_non_minimal", v5, "30 07 00 01 74 80 00 68 69", errc::non_minimal_varint, "v5:MQTT-1.5.5-1", 5},
    // ---- UTF-8 strings (5.0 §1.5.4, 3.1.1 §1.5.3)
    {"v5_topic_overlong_null", v5, "30 06 00 03 61 c0 80 00", errc::malformed_utf8, "v5:MQTT-1.5.4-1", 5},
    {"v5_topic_surrogate", v5, "30 06 00 03 ed a0 80 00", errc::utf8_surrogate, "v5:MQTT-1.5.4-1", 4},
    {"v5_topic_null", v5, "30 06 00 03 61 00 62 00", errc::utf8_null, "v5:MQTT-1.5.4-2|v5:MQTT-4.7.3-2", 5},
    {"v311_topic_null", v311, "30 05 00 03 61 00 62", errc::utf8_null, "v3.1.1:MQTT-1.5.3-2|v3.1.1:MQTT-4.7.3-2", 5},
    {"v5_topic_above_u10ffff", v5, "30 07 00 04 f4 90 80 80 00", errc::malformed_utf8, "v5:MQTT-1.5.4-1", 4},
    {"v311_client_id_ff", v311, "10 0f 00 04 4d 51 54 54 04 02 00 3c 00 03 61 ff 62", errc::malformed_utf8, "v3.1.1:MQTT-1.5.3-1|v3.1.1:MQTT-3.1.3-4", 15},
    {"v311_client_id_surrogate", v311, "10 0f 00 04 4d 51 54 54 04 02 00 3c 00 03 ed b0 80", errc::utf8_surrogate, "v3.1.1:MQTT-1.5.3-1|v3.1.1:MQTT-3.1.3-4", 14},
    {"v5_client_id_truncated_sequence", v5, "10 10 00 04 4d 51 54 54 05 02 00 3c 00 00 03 61 e2 82", errc::malformed_utf8, "v5:MQTT-1.5.4-1|v5:MQTT-3.1.3-4", 16},
    {"v311_will_topic_null", v311, "10 12 00 04 4d 51 54 54 04 06 00 3c 00 01 61 00 01 00 00 00", errc::utf8_null, "v3.1.1:MQTT-1.5.3-2|v3.1.1:MQTT-3.1.3-10|v3.1.1:MQTT-4.7.3-2", 17},
    {"v311_user_name_overlong", v311, "10 12 00 04 4d 51 54 54 04 82 00 3c 00 01 61 00 03 c1 81 61", errc::malformed_utf8, "v3.1.1:MQTT-1.5.3-1|v3.1.1:MQTT-3.1.3-11", 17},
    {"v5_user_property_surrogate", v5, "30 0d 00 01 74 09 26 00 01 6b 00 03 ed bf bf", errc::utf8_surrogate, "v5:MQTT-1.5.4-1|v5:MQTT-1.5.7-1", 12},
    {"v5_subscribe_filter_ff", v5, "82 08 00 01 00 00 02 61 ff 00", errc::malformed_utf8, "v5:MQTT-1.5.4-1|v5:MQTT-3.8.3-1", 8},
    {"v311_unsubscribe_filter_null", v311, "a2 05 00 01 00 01 00", errc::utf8_null, "v3.1.1:MQTT-1.5.3-2|v3.1.1:MQTT-4.7.3-2|v3.1.1:MQTT-3.10.3-1", 6},
    // ---- Topic Names (§3.3.2.1, §4.7)
    {"v5_topic_plus", v5, "30 06 00 03 61 2f 2b 00", errc::wildcard_in_topic_name, "v5:MQTT-3.3.2-2|v5:MQTT-4.7.0-1", 6},
    {"v311_topic_hash", v311, "30 05 00 03 61 2f 23", errc::wildcard_in_topic_name, "v3.1.1:MQTT-3.3.2-2|v3.1.1:MQTT-4.7.1-1", 6},
    // The Will Topic is a Topic Name too (§3.1.3.3, §4.7).
    {"v311_will_topic_wildcard", v311, "10 14 00 04 4d 51 54 54 04 06 00 3c 00 01 61 00 03 61 2f 23 00 00", errc::wildcard_in_topic_name, "v3.1.1:MQTT-4.7.1-1|v3.1.1:MQTT-3.3.2-2", 19},
    {"v5_will_topic_wildcard", v5, "10 16 00 04 4d 51 54 54 05 06 00 3c 00 00 01 61 00 00 03 61 2f 2b 00 00", errc::wildcard_in_topic_name, "v5:MQTT-4.7.0-1|v5:MQTT-3.3.2-2", 21},
    {"v311_will_topic_empty", v311, "10 11 00 04 4d 51 54 54 04 06 00 3c 00 01 61 00 00 00 00", errc::empty_topic_name, "v3.1.1:MQTT-4.7.3-1", 17},
    // The Response Topic MUST NOT contain wildcard characters (MQTT-3.3.2-14), in PUBLISH and Will.
    {"v5_response_topic_wildcard", v5, "30 09 00 01 74 05 08 00 02 61 23", errc::invalid_response_topic, "v5:MQTT-3.3.2-14", 10},
    {"v5_will_response_topic_wildcard", v5, "10 18 00 04 4d 51 54 54 05 06 00 3c 00 00 01 61 04 08 00 01 23 00 01 74 00 00", errc::invalid_response_topic, "v5:MQTT-3.3.2-14", 20},
    {"v5_topic_empty_without_alias", v5, "30 03 00 00 00", errc::empty_topic_name, "v5:MQTT-4.7.3-1|", 4},
    {"v311_topic_empty", v311, "30 02 00 00", errc::empty_topic_name, "v3.1.1:MQTT-4.7.3-1", 4},
    // ---- Topic Filters (§4.7.1, §4.7.3) and shared subscriptions (5.0 §4.8.2)
    {"v5_filter_hash_not_last", v5, "82 0b 00 01 00 00 05 61 2f 23 2f 62 00", errc::misplaced_multi_level_wildcard, "v5:MQTT-4.7.1-1", 9},
    {"v311_filter_hash_inside_level", v311, "82 07 00 01 00 02 61 23 00", errc::misplaced_multi_level_wildcard, "v3.1.1:MQTT-4.7.1-2", 7},
    {"v311_unsubscribe_hash_not_last", v311, "a2 09 00 01 00 05 61 2f 23 2f 62", errc::misplaced_multi_level_wildcard, "v3.1.1:MQTT-4.7.1-2", 8},
    {"v5_filter_plus_inside_level", v5, "82 0a 00 01 00 00 04 61 2f 62 2b 00", errc::misplaced_single_level_wildcard, "v5:MQTT-4.7.1-2", 10},
    {"v311_filter_plus_first_in_level", v311, "82 07 00 01 00 02 2b 61 00", errc::misplaced_single_level_wildcard, "v3.1.1:MQTT-4.7.1-3", 6},
    {"v5_unsubscribe_plus_inside_level", v5, "a2 08 00 01 00 00 03 61 2b 62", errc::misplaced_single_level_wildcard, "v5:MQTT-4.7.1-2", 8},
    {"v5_filter_empty", v5, "82 06 00 01 00 00 00 00", errc::empty_topic_filter, "v5:MQTT-4.7.3-1", 7},
    {"v311_filter_empty", v311, "82 05 00 01 00 00 00", errc::empty_topic_filter, "v3.1.1:MQTT-4.7.3-1", 6},
    {"v5_share_prefix_only", v5, "82 0d 00 01 00 00 07 24 73 68 61 72 65 2f 00", errc::empty_share_name, "v5:MQTT-4.8.2-1", 14},
    {"v5_share_empty_name", v5, "82 0f 00 01 00 00 09 24 73 68 61 72 65 2f 2f 61 00", errc::empty_share_name, "v5:MQTT-4.8.2-1", 14},
    {"v5_share_wildcard_in_name", v5, "82 11 00 01 00 00 0b 24 73 68 61 72 65 2f 67 2b 2f 61 00", errc::invalid_shared_subscription, "v5:MQTT-4.8.2-2", 15},
    {"v5_share_without_filter", v5, "82 0e 00 01 00 00 08 24 73 68 61 72 65 2f 67 00", errc::invalid_shared_subscription, "v5:MQTT-4.8.2-2", 15},
    {"v5_unsubscribe_share_empty_name", v5, "a2 0e 00 01 00 00 09 24 73 68 61 72 65 2f 2f 61", errc::empty_share_name, "v5:MQTT-4.8.2-1", 14},
    {"v5_no_local_on_shared_subscription", v5, "82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 04", errc::no_local_on_shared_subscription, "v5:MQTT-3.8.3-4", 17},
    // ---- empty filter lists (5.0 §3.8.3, §3.10.3)
    {"v5_subscribe_no_filters", v5, "82 03 00 01 00", errc::no_topic_filters, "v5:MQTT-3.8.3-2", 5},
    {"v311_subscribe_no_filters", v311, "82 02 00 01", errc::no_topic_filters, "v3.1.1:MQTT-3.8.3-3", 4},
    {"v5_unsubscribe_no_filters", v5, "a2 03 00 01 00", errc::no_topic_filters, "v5:MQTT-3.10.3-2", 5},
    {"v311_unsubscribe_no_filters", v311, "a2 02 00 01", errc::no_topic_filters, "v3.1.1:MQTT-3.10.3-2", 4},
    // ---- subscription options (3.1.1: bits 2-7 reserved; 5.0: bits 6-7 reserved, Retain Handling 3)
    {"v311_options_bit_2", v311, "82 06 00 01 00 01 61 04", errc::subscription_options_reserved_bits, "v3.1.1:MQTT-3.8.3-4", 7},
    {"v311_options_bit_7", v311, "82 06 00 01 00 01 61 80", errc::subscription_options_reserved_bits, "v3.1.1:MQTT-3.8.3-4", 7},
    {"v311_options_qos3", v311, "82 06 00 01 00 01 61 03", errc::invalid_qos, "v3.1.1:MQTT-3.8.3-4", 7},
    {"v5_options_bit_6", v5, "82 07 00 01 00 00 01 61 40", errc::subscription_options_reserved_bits, "v5:MQTT-3.8.3-5", 8},
    {"v5_options_bit_7", v5, "82 07 00 01 00 00 01 61 81", errc::subscription_options_reserved_bits, "v5:MQTT-3.8.3-5", 8},
    {"v5_options_retain_handling_3", v5, "82 07 00 01 00 00 01 61 30", errc::invalid_retain_handling, "", 8},
    {"v5_options_qos3", v5, "82 07 00 01 00 00 01 61 03", errc::invalid_qos, "", 8},
    // ---- Packet Identifier 0 (5.0 §2.2.1, 3.1.1 §2.3.1)
    {"v5_publish_qos1_id_0", v5, "32 06 00 01 74 00 00 00", errc::zero_packet_identifier, "v5:MQTT-2.2.1-3|v5:MQTT-2.2.1-4", 5},
    {"v311_publish_qos2_id_0", v311, "34 05 00 01 74 00 00", errc::zero_packet_identifier, "v3.1.1:MQTT-2.3.1-1", 5},
    {"v5_subscribe_id_0", v5, "82 07 00 00 00 00 01 61 00", errc::zero_packet_identifier, "v5:MQTT-2.2.1-3", 2},
    {"v311_subscribe_id_0", v311, "82 06 00 00 00 01 61 00", errc::zero_packet_identifier, "v3.1.1:MQTT-2.3.1-1", 2},
    {"v5_unsubscribe_id_0", v5, "a2 06 00 00 00 00 01 61", errc::zero_packet_identifier, "v5:MQTT-2.2.1-3", 2},
    {"v311_unsubscribe_id_0", v311, "a2 05 00 00 00 01 61", errc::zero_packet_identifier, "v3.1.1:MQTT-2.3.1-1", 2},
    {"v5_puback_id_0", v5, "40 02 00 00", errc::zero_packet_identifier, "v5:MQTT-2.2.1-5|v5:MQTT-2.2.1-3|", 2},
    {"v311_pubrec_id_0", v311, "50 02 00 00", errc::zero_packet_identifier, "v3.1.1:MQTT-2.3.1-6|v3.1.1:MQTT-2.3.1-1|", 2},
    {"v5_pubrel_id_0", v5, "62 02 00 00", errc::zero_packet_identifier, "v5:MQTT-2.2.1-5|v5:MQTT-2.2.1-3|", 2},
    {"v311_pubcomp_id_0", v311, "70 02 00 00", errc::zero_packet_identifier, "v3.1.1:MQTT-2.3.1-6|v3.1.1:MQTT-2.3.1-1|", 2},
    {"v5_suback_id_0", v5, "90 04 00 00 00 00", errc::zero_packet_identifier, "v5:MQTT-2.2.1-6|v5:MQTT-2.2.1-3|", 2},
    {"v311_unsuback_id_0", v311, "b0 02 00 00", errc::zero_packet_identifier, "v3.1.1:MQTT-2.3.1-7|v3.1.1:MQTT-2.3.1-1|", 2},
    // ---- CONNECT (§3.1.2)
    {"v5_connect_reserved_flag", v5, "10 0e 00 04 4d 51 54 54 05 03 00 3c 00 00 01 61", errc::connect_reserved_flag, "v5:MQTT-3.1.2-3", 9},
    {"v311_connect_reserved_flag", v311, "10 0d 00 04 4d 51 54 54 04 03 00 3c 00 01 61", errc::connect_reserved_flag, "v3.1.1:MQTT-3.1.2-3", 9},
    {"v5_will_qos_without_will", v5, "10 0e 00 04 4d 51 54 54 05 0a 00 3c 00 00 01 61", errc::will_qos_without_will, "v5:MQTT-3.1.2-11", 9},
    {"v311_will_qos_without_will", v311, "10 0d 00 04 4d 51 54 54 04 12 00 3c 00 01 61", errc::will_qos_without_will, "v3.1.1:MQTT-3.1.2-13|v3.1.1:MQTT-3.1.2-11", 9},
    {"v5_will_retain_without_will", v5, "10 0e 00 04 4d 51 54 54 05 22 00 3c 00 00 01 61", errc::will_retain_without_will, "v5:MQTT-3.1.2-13", 9},
    {"v311_will_retain_without_will", v311, "10 0d 00 04 4d 51 54 54 04 22 00 3c 00 01 61", errc::will_retain_without_will, "v3.1.1:MQTT-3.1.2-15|v3.1.1:MQTT-3.1.2-11", 9},
    {"v5_will_qos_3", v5, "10 14 00 04 4d 51 54 54 05 1e 00 3c 00 00 01 61 00 00 01 74 00 00", errc::invalid_will_qos, "v5:MQTT-3.1.2-12", 9},
    {"v311_will_qos_3", v311, "10 12 00 04 4d 51 54 54 04 1e 00 3c 00 01 61 00 01 74 00 00", errc::invalid_will_qos, "v3.1.1:MQTT-3.1.2-14", 9},
    {"v311_password_without_user_name", v311, "10 10 00 04 4d 51 54 54 04 42 00 3c 00 01 61 00 01 70", errc::password_without_user_name, "v3.1.1:MQTT-3.1.2-22", 9},
    {"v311_protocol_name_mqtx", v311, "10 0d 00 04 4d 51 54 58 04 02 00 3c 00 01 61", errc::invalid_protocol_name, "v3.1.1:MQTT-3.1.2-1", 2},
    {"v5_protocol_name_mqtx", v5, "10 0e 00 04 4d 51 54 58 05 02 00 3c 00 00 01 61", errc::invalid_protocol_name, "v5:MQTT-3.1.2-1", 2},
    {"v5_protocol_level_6", v5, "10 0e 00 04 4d 51 54 54 06 02 00 3c 00 00 01 61", errc::unsupported_protocol_version, "v5:MQTT-3.1.2-2", 8},
    {"v311_protocol_level_2", v311, "10 0d 00 04 4d 51 54 54 02 02 00 3c 00 01 61", errc::unsupported_protocol_version, "v3.1.1:MQTT-3.1.2-2", 8},
    {"v311_connect_without_client_id", v311, "10 0a 00 04 4d 51 54 54 04 02 00 3c", errc::truncated, "*", 12},
    {"v311_connect_will_flag_without_will", v311, "10 0d 00 04 4d 51 54 54 04 06 00 3c 00 01 61", errc::truncated, "*", 15},
    {"v5_connect_user_name_flag_without_user_name", v5, "10 0e 00 04 4d 51 54 54 05 82 00 3c 00 00 01 61", errc::truncated, "*", 16},
    {"v5_connect_will_payload_overruns", v5, "10 14 00 04 4d 51 54 54 05 06 00 3c 00 00 01 61 00 00 01 74 00 05", errc::truncated, "*", 22},
    {"v311_connect_bytes_over", v311, "10 0e 00 04 4d 51 54 54 04 02 00 3c 00 01 61 ff", errc::trailing_bytes, "*", 15},
    // ---- Remaining Length against the fields
    {"v5_publish_topic_overruns", v5, "30 04 00 05 61 62", errc::truncated, "*", 4},
    {"v311_subscribe_options_missing", v311, "82 05 00 01 00 01 61", errc::truncated, "*", 7},
    {"v5_connack_without_reason_code", v5, "20 01 00", errc::truncated, "*", 3},
    {"v311_connack_bytes_over", v311, "20 03 00 00 00", errc::trailing_bytes, "*", 4},
    {"v311_puback_bytes_over", v311, "40 03 00 01 00", errc::trailing_bytes, "*", 4},
    {"v311_puback_5_0_long_form", v311, "40 04 00 01 10 00", errc::trailing_bytes, "*", 4},
    {"v5_connack_without_property_length", v5, "20 02 00 00", errc::truncated, "*", 4},
    // Only Remaining Length 0 may leave out AUTH's Reason Code and Property Length (§3.15.2.1); unlike
    // PUBACK (§3.4.2.2.1) or DISCONNECT (§3.14.2.2.1), AUTH has no "less than 2 means 0" rule.
    {"v5_auth_reason_without_property_length", v5, "f0 01 18", errc::truncated, "*", 3},
    // SUBACK and UNSUBACK carry one or more Reason Codes (§2.4).
    {"v5_suback_without_reason_codes", v5, "90 03 00 01 00", errc::truncated, "*", 5},
    {"v311_suback_without_return_codes", v311, "90 02 00 01", errc::truncated, "*", 4},
    {"v5_unsuback_without_reason_codes", v5, "b0 03 00 01 00", errc::truncated, "*", 5},
    {"v5_pingreq_bytes_over", v5, "c0 01 00", errc::trailing_bytes, "*", 2},
    {"v311_disconnect_bytes_over", v311, "e0 01 00", errc::trailing_bytes, "*", 2},
    // ---- properties (5.0 §2.2.2)
    {"v5_property_length_mismatch", v5, "30 07 00 01 74 02 23 00 01", errc::property_length_mismatch, "", 7},
    {"v5_unknown_property_0x05", v5, "30 06 00 01 74 02 05 00", errc::unknown_property, "", 6},
    {"v5_unknown_property_0x7f", v5, "20 05 00 00 02 7f 00", errc::unknown_property, "", 5},
    {"v5_topic_alias_in_connect", v5, "10 11 00 04 4d 51 54 54 05 02 00 3c 03 23 00 01 00 01 61", errc::property_not_allowed, "", 13},
    {"v5_session_expiry_in_publish", v5, "30 09 00 01 74 05 11 00 00 00 01", errc::property_not_allowed, "", 6},
    {"v5_payload_format_in_connect_properties", v5, "10 10 00 04 4d 51 54 54 05 02 00 3c 02 01 01 00 01 61", errc::property_not_allowed, "", 13},
    {"v5_will_delay_in_connect_properties", v5, "10 13 00 04 4d 51 54 54 05 02 00 3c 05 18 00 00 00 01 00 01 61", errc::property_not_allowed, "", 13},
    {"v5_session_expiry_in_will_properties", v5, "10 19 00 04 4d 51 54 54 05 06 00 3c 00 00 01 61 05 11 00 00 00 01 00 01 74 00 00", errc::property_not_allowed, "", 17},
    {"v5_subscription_identifier_in_unsubscribe", v5, "a2 08 00 01 02 0b 01 00 01 61", errc::property_not_allowed, "", 5},
    {"v5_duplicate_topic_alias", v5, "30 0a 00 01 74 06 23 00 01 23 00 02", errc::duplicate_property, "", 9},
    {"v5_duplicate_subscription_identifier_in_subscribe", v5, "82 0b 00 01 04 0b 01 0b 02 00 01 61 00", errc::duplicate_property, "", 7},
    {"v5_topic_alias_0", v5, "30 07 00 01 74 03 23 00 00", errc::topic_alias_zero, "v5:MQTT-3.3.2-8", 6},
    // §3.1.2.11.10: Authentication Data without an Authentication Method is a Protocol Error.
    {"v5_connect_authentication_data_without_method", v5, "10 11 00 04 4d 51 54 54 05 02 00 3c 03 16 00 00 00 01 61", errc::authentication_data_without_method, "", 12},
    {"v5_receive_maximum_0", v5, "10 11 00 04 4d 51 54 54 05 02 00 3c 03 21 00 00 00 01 61", errc::invalid_property_value, "", 13},
    // ---- reason codes per packet (5.0 tables; 3.1.1 return codes)
    {"v5_connack_reason_0x01", v5, "20 03 00 01 00", errc::invalid_reason_code, "v5:MQTT-3.2.2-8", 3},
    {"v5_puback_reason_0x01", v5, "40 03 00 01 01", errc::invalid_reason_code, "v5:MQTT-3.4.2-1", 4},
    {"v5_pubrec_reason_0x92", v5, "50 03 00 01 92", errc::invalid_reason_code, "v5:MQTT-3.5.2-1", 4},
    {"v5_pubrel_reason_0x10", v5, "62 03 00 01 10", errc::invalid_reason_code, "v5:MQTT-3.6.2-1", 4},
    {"v5_pubcomp_reason_0x80", v5, "70 03 00 01 80", errc::invalid_reason_code, "v5:MQTT-3.7.2-1", 4},
    {"v5_suback_reason_0x03", v5, "90 04 00 01 00 03", errc::invalid_reason_code, "v5:MQTT-3.9.3-2", 5},
    {"v5_unsuback_reason_0x01", v5, "b0 04 00 01 00 01", errc::invalid_reason_code, "v5:MQTT-3.11.3-2", 5},
    {"v5_disconnect_reason_0x18", v5, "e0 01 18", errc::invalid_reason_code, "v5:MQTT-3.14.2-1", 2},
    {"v5_disconnect_reason_undefined_0x05", v5, "e0 01 05", errc::invalid_reason_code, "v5:MQTT-3.14.2-1", 2},
    {"v5_auth_reason_0x04", v5, "f0 02 04 00", errc::invalid_reason_code, "v5:MQTT-3.15.2-1", 2},
    {"v311_suback_return_0x03", v311, "90 03 00 01 03", errc::invalid_reason_code, "v3.1.1:MQTT-3.9.3-2", 4},
    // 3.1 has no numbered statements, and 3.1.1's MQTT-3.9.3-2 allows 0x80: nothing to cite.
    {"v31_suback_return_0x80", v31, "90 03 00 01 80", errc::invalid_reason_code, "", 4},
    {"v311_connack_return_6", v311, "20 02 00 06", errc::invalid_reason_code, "", 3},
    // ---- CONNACK flags (§3.2.2.1)
    {"v5_connack_reserved_flags", v5, "20 03 02 00 00", errc::connack_reserved_flags, "v5:MQTT-3.2.2-1", 2},
    {"v311_connack_reserved_flags", v311, "20 02 80 00", errc::connack_reserved_flags, "", 2},
    {"v5_session_present_on_failure", v5, "20 03 01 80 00", errc::session_present_on_failure, "v5:MQTT-3.2.2-6", 2},
    {"v311_session_present_on_failure", v311, "20 02 01 05", errc::session_present_on_failure, "v3.1.1:MQTT-3.2.2-4", 2},
    // ---- reserved packet types (§2.1.2)
    {"v5_type_0", v5, "00 00", errc::reserved_packet_type, "", 0},
    {"v311_type_0", v311, "00 00", errc::reserved_packet_type, "", 0},
    {"v311_auth_is_reserved", v311, "f0 00", errc::reserved_packet_type, "", 0},
    {"v31_auth_is_reserved", v31, "f0 00", errc::reserved_packet_type, "*", 0},
};
// clang-format on

bool statement_matches(std::string_view expected, const std::string& actual) {
  if (expected == "*") return true;
  for (;;) {
    const auto bar = expected.find('|');
    if (expected.substr(0, bar) == actual) return true;
    if (bar == std::string_view::npos) return false;
    expected.remove_prefix(bar + 1);
  }
}

void PrintTo(const error_row& r, std::ostream* os) { *os << r.name; }

class decode_error_table : public testing::TestWithParam<error_row> {};

}  // namespace

TEST_P(decode_error_table, refused) {
  const auto& row = GetParam();
  const auto bytes = unhex(row.hex);
  const auto r = decode(bytes, row.version);
  ASSERT_FALSE(r) << row.hex << ": " << describe(r);
  const auto& e = r.error();
  EXPECT_EQ(e.code, row.code) << "observed: " << e.message();
  EXPECT_EQ(e.offset, row.offset) << "observed: " << e.message();
  EXPECT_TRUE(statement_matches(row.statement, e.statement))
      << "expected statement " << (row.statement.empty() ? "(none)" : row.statement) << ", observed "
      << (e.statement.empty() ? "(none)" : e.statement);
  EXPECT_LT(e.offset, bytes.size() + 1) << "offset inside the frame";
  if (const auto* catalog = t::statement_catalog(); catalog && !e.statement.empty()) {
    EXPECT_EQ(catalog->count(e.statement), 1u) << e.statement << " is not a statement id";
  }
  EXPECT_FALSE(e.message().empty());
}

INSTANTIATE_TEST_SUITE_P(decode, decode_error_table, testing::ValuesIn(error_rows),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(decode, error_table_names_are_unique) {
  std::set<std::string_view> names;
  for (const auto& row : error_rows) EXPECT_TRUE(names.insert(row.name).second) << row.name;
}
