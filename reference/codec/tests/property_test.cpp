// property.hpp: the 5.0 property table (§2.2.2.2), where each property may appear, the value rules
// of §3.1.2.11, §3.2.2.3, §3.3.2.3 and §3.8.2.1, repetition, and the order of for_each_property.
// Property bytes are wrapped into frames by fixtures.cpp without using the codec.
#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <sstream>

using namespace mqttspec::codec;
namespace t = mqttspec::codec::test;
using t::hexdump;
using t::unhex;
using namespace std::literals;

namespace {

constexpr auto v5 = protocol_version::v5;

const t::place& place_named(std::string_view name) {
  for (const auto& p : t::places())
    if (p.name == name) return p;
  std::abort();
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string describe(const decode_result& r) {
  if (r) return "decoded " + to_string(*r);
  return r.error().message();
}

}  // namespace

// ---------------------------------------------------------------------------------- the table

TEST(property, table_matches_the_spec) {
  const auto table = property_table();
  ASSERT_EQ(table.size(), 27u);
  ASSERT_EQ(t::spec_properties().size(), 27u);
  for (std::size_t i = 1; i < table.size(); ++i)
    EXPECT_LT(static_cast<int>(table[i - 1].id), static_cast<int>(table[i].id)) << "ordered by identifier";
  for (const auto& spec : t::spec_properties()) {
    SCOPED_TRACE(std::string(spec.name));
    const auto* info = find_property(static_cast<std::uint8_t>(spec.id));
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->id, spec.id);
    EXPECT_EQ(lower(info->name), lower(spec.name));
    EXPECT_EQ(static_cast<int>(info->type), static_cast<int>(spec.type));
    EXPECT_EQ(info->places, spec.places) << std::hex << "table 0x" << info->places << ", spec 0x" << spec.places;
    for (const auto& where : t::places())
      EXPECT_EQ(allowed_in(*info, property_place{where.mask}), (spec.places & where.mask) != 0) << where.name;
    if (spec.id == property_id::user_property) {
      EXPECT_TRUE(info->repeatable);
    } else if (spec.id != property_id::subscription_identifier) {
      EXPECT_FALSE(info->repeatable);
    }
  }
  EXPECT_EQ(place_of(packet_type::publish), property_place{t::bit(packet_type::publish)});
  EXPECT_EQ(static_cast<std::uint32_t>(will_properties), t::will_bit);
}

TEST(property, unknown_identifiers_are_not_found) {
  std::set<int> known;
  for (const auto& spec : t::spec_properties()) known.insert(static_cast<int>(spec.id));
  for (int id = 0; id < 256; ++id) {
    if (known.count(id)) continue;
    EXPECT_EQ(find_property(static_cast<std::uint8_t>(id)), nullptr) << "0x" << std::hex << id;
  }
}

// --------------------------------------------------------- every property in every place

class each_property : public testing::TestWithParam<t::spec_property> {};

TEST_P(each_property, decodes_where_allowed_and_is_refused_elsewhere) {
  const auto& spec = GetParam();
  const auto sample = t::sample_property(spec.id);
  for (const auto& where : t::places()) {
    SCOPED_TRACE(std::string(where.name));
    const auto built = t::frame_with_properties(where, sample.wire);
    const auto r = decode(built.frame, v5);
    if (spec.places & where.mask) {
      ASSERT_TRUE(r) << hexdump(built.frame) << ": " << describe(r);
      EXPECT_EQ(t::properties_at(*r, where), sample.value);
    } else {
      ASSERT_FALSE(r) << hexdump(built.frame) << ": " << describe(r);
      EXPECT_EQ(r.error().code, errc::property_not_allowed) << r.error().message();
      EXPECT_EQ(r.error().offset, built.props_at) << "at the property identifier";
    }
  }
}

TEST_P(each_property, round_trips_in_every_allowed_place) {
  const auto& spec = GetParam();
  const auto sample = t::sample_property(spec.id);
  for (const auto& where : t::places()) {
    if (!(spec.places & where.mask)) continue;
    SCOPED_TRACE(std::string(where.name));
    auto p = t::empty_packet_at(where);
    t::properties_at(p, where) = sample.value;
    const auto encoded = encode(p, v5);
    ASSERT_TRUE(encoded) << encoded.error().message();
    // The hand-built frame is the canonical form: one property, nothing else optional.
    EXPECT_EQ(hexdump(*encoded), hexdump(t::frame_with_properties(where, sample.wire).frame));
    const auto back = decode(*encoded, v5);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, p);
  }
}

TEST_P(each_property, second_occurrence_is_a_duplicate_unless_repeatable) {
  const auto& spec = GetParam();
  const auto sample = t::sample_property(spec.id);
  for (const auto& where : t::places()) {
    if (!(spec.places & where.mask)) continue;
    SCOPED_TRACE(std::string(where.name));
    const auto built = t::frame_with_properties(where, sample.wire + sample.wire);
    const auto r = decode(built.frame, v5);
    const bool repeatable = spec.id == property_id::user_property ||
                            (spec.id == property_id::subscription_identifier && where.type == packet_type::publish);
    if (repeatable) {
      ASSERT_TRUE(r) << describe(r);
      const auto& props = t::properties_at(*r, where);
      if (spec.id == property_id::user_property) {
        EXPECT_EQ(props.user_properties.size(), 2u);
      } else {
        EXPECT_EQ(props.subscription_identifiers.size(), 2u);
      }
    } else {
      ASSERT_FALSE(r) << describe(r);
      EXPECT_EQ(r.error().code, errc::duplicate_property) << r.error().message();
      EXPECT_EQ(r.error().offset, built.props_at + sample.wire.size()) << "at the second occurrence";
      EXPECT_EQ(r.error().reason(), reason_code::protocol_error);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(property, each_property, testing::ValuesIn(t::spec_properties()), [](const auto& i) {
  std::string name(i.param.name);
  std::replace(name.begin(), name.end(), ' ', '_');
  return name;
});

// --------------------------------------------------------------------------- value rules

namespace {

struct value_row {
  std::string_view name;
  std::string_view where;
  std::string_view props;  // hex
  std::optional<errc> code;  // nullopt: valid
  std::size_t offset = 0;    // from the first property byte
};

const value_row value_rows[] = {
    // §3.1.2.11.3 / §3.2.2.3.3: Receive Maximum 0 is a Protocol Error.
    {"receive_maximum_0_connect", "connect", "21 00 00", errc::invalid_property_value},
    {"receive_maximum_0_connack", "connack", "21 00 00", errc::invalid_property_value},
    {"receive_maximum_1", "connect", "21 00 01", std::nullopt},
    // §3.1.2.11.4 / §3.2.2.3.6: Maximum Packet Size 0 is a Protocol Error.
    {"maximum_packet_size_0_connect", "connect", "27 00 00 00 00", errc::invalid_property_value},
    {"maximum_packet_size_0_connack", "connack", "27 00 00 00 00", errc::invalid_property_value},
    {"maximum_packet_size_max", "connect", "27 ff ff ff ff", std::nullopt},
    // §3.3.2.3.2: Payload Format Indicator is 0 or 1.
    {"payload_format_indicator_0", "publish", "01 00", std::nullopt},
    {"payload_format_indicator_2_publish", "publish", "01 02", errc::invalid_property_value},
    {"payload_format_indicator_ff_will", "will", "01 ff", errc::invalid_property_value},
    // §3.2.2.3.4: Maximum QoS is 0 or 1.
    {"maximum_qos_1", "connack", "24 01", std::nullopt},
    {"maximum_qos_2", "connack", "24 02", errc::invalid_property_value},
    // §3.2.2.3.5, .11, .12, .13: the *_available bytes are 0 or 1.
    {"retain_available_2", "connack", "25 02", errc::invalid_property_value},
    {"wildcard_subscription_available_2", "connack", "28 02", errc::invalid_property_value},
    {"subscription_identifier_available_2", "connack", "29 02", errc::invalid_property_value},
    {"shared_subscription_available_2", "connack", "2a 02", errc::invalid_property_value},
    // §3.1.2.11.6 / .7: the request bytes are 0 or 1.
    {"request_response_information_2", "connect", "19 02", errc::invalid_property_value},
    {"request_problem_information_2", "connect", "17 02", errc::invalid_property_value},
    {"request_problem_information_1", "connect", "17 01", std::nullopt},
    // §3.8.2.1.2 / §3.3.2.3.8: Subscription Identifier 1 .. 268,435,455; 0 is a Protocol Error.
    {"subscription_identifier_0_subscribe", "subscribe", "0b 00", errc::invalid_property_value},
    {"subscription_identifier_0_publish", "publish", "0b 00", errc::invalid_property_value},
    {"subscription_identifier_max", "subscribe", "0b ff ff ff 7f", std::nullopt},
    {"subscription_identifier_1", "publish", "0b 01", std::nullopt},
    // §3.3.2.3.4: Topic Alias 0 is not permitted (MQTT-3.3.2-8).
    {"topic_alias_0", "publish", "23 00 00", errc::topic_alias_zero},
    {"topic_alias_1", "publish", "23 00 01", std::nullopt},
    // Strings inside properties are UTF-8 strings (MQTT-1.5.4-1, -2; MQTT-1.5.7-1 for pairs).
    {"content_type_overlong", "publish", "03 00 02 c0 80", errc::malformed_utf8, 3},
    {"reason_string_null", "puback", "1f 00 02 61 00", errc::utf8_null, 4},
    {"user_property_name_surrogate", "disconnect", "26 00 03 ed a0 80 00 00", errc::utf8_surrogate, 3},
    {"user_property_value_truncated_utf8", "connect", "26 00 01 6b 00 02 61 e2", errc::malformed_utf8, 7},
    {"response_topic_null", "will", "08 00 01 00", errc::utf8_null, 3},
    // Binary data is not UTF-8: any bytes go.
    {"correlation_data_any_bytes", "publish", "09 00 04 00 c0 80 ff", std::nullopt},
    {"authentication_data_any_bytes", "auth", "15 00 01 6d 16 00 02 ed a0", std::nullopt},
    // Unknown identifiers (§2.2.2.2: not valid for the packet -> Malformed Packet).
    {"unknown_0x00", "publish", "00 01", errc::unknown_property},
    {"unknown_0x05", "publish", "05 00", errc::unknown_property},
    {"unknown_0x7f", "connack", "7f 00", errc::unknown_property},
    {"unknown_after_a_known_one", "connack", "24 01 2b 00", errc::unknown_property, 2},
};

void PrintTo(const value_row& r, std::ostream* os) { *os << r.name; }

class value_rule : public testing::TestWithParam<value_row> {};

}  // namespace

TEST_P(value_rule, check) {
  const auto& row = GetParam();
  const auto built = t::frame_with_properties(place_named(row.where), unhex(row.props));
  const auto r = decode(built.frame, v5);
  if (!row.code) {
    EXPECT_TRUE(r) << hexdump(built.frame) << ": " << describe(r);
    return;
  }
  ASSERT_FALSE(r) << hexdump(built.frame) << ": " << describe(r);
  EXPECT_EQ(r.error().code, *row.code) << r.error().message();
  EXPECT_EQ(r.error().offset, built.props_at + row.offset) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(property, value_rule, testing::ValuesIn(value_rows),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(property, subscription_identifier_above_the_maximum_is_refused) {
  // 268,435,456 needs a fifth Variable Byte Integer byte, which does not exist (§1.5.5).
  for (std::string_view where : {"subscribe", "publish"}) {
    const auto built = t::frame_with_properties(place_named(where), unhex("0b 80 80 80 80 01"));
    const auto r = decode(built.frame, v5);
    EXPECT_FALSE(r) << where << ": " << describe(r);
  }
}

TEST(property, non_minimal_subscription_identifier_is_refused) {
  const auto built = t::frame_with_properties(place_named("subscribe"), unhex("0b 81 00"));
  const auto r = decode(built.frame, v5);
  ASSERT_FALSE(r) << describe(r);
  EXPECT_EQ(r.error().code, errc::non_minimal_varint);
  EXPECT_EQ(r.error().offset, built.props_at + 1);
  EXPECT_EQ(r.error().statement, "v5:MQTT-1.5.5-1");
}

TEST(property, property_running_past_the_property_length) {
  // Property Length 2, but Topic Alias takes 3 bytes: the packet's payload cannot start there.
  const auto frame = unhex("30 07 00 01 74 02 23 00 01");
  const auto r = decode(frame, v5);
  ASSERT_FALSE(r) << describe(r);
  EXPECT_EQ(r.error().code, errc::property_length_mismatch) << r.error().message();
  EXPECT_EQ(r.error().offset, 7u) << "at the value that runs past: " << r.error().message();
}

TEST(property, property_length_past_the_frame) {
  // Property Length 9 in a frame with 3 bytes left.
  const auto frame = unhex("40 07 00 01 10 09 23 00 01");
  const auto r = decode(frame, v5);
  ASSERT_FALSE(r) << describe(r);
  EXPECT_TRUE(r.error().code == errc::property_length_mismatch || r.error().code == errc::truncated)
      << r.error().message();
}

// --------------------------------------------------------------------- repetition and order

TEST(property, user_properties_repeat_and_keep_their_order) {
  // Same name twice, an empty pair, and UTF-8 text; the order on the wire is the order kept.
  const auto built = t::frame_with_properties(
      place_named("publish"),
      unhex("26 00 01 62 00 01 32  26 00 01 61 00 01 31  26 00 01 62 00 01 31  26 00 00 00 00"
            "  26 00 02 c3 a9 00 03 e2 82 ac"));
  const auto r = decode(built.frame, v5);
  ASSERT_TRUE(r) << describe(r);
  const std::vector<user_property> expected = {{"b", "2"}, {"a", "1"}, {"b", "1"}, {"", ""}, {"\xc3\xa9", "\xe2\x82\xac"}};
  EXPECT_EQ(std::get<publish>(*r).props.user_properties, expected);
  // Encoding writes them back in the same order.
  const auto again = encode(*r, v5);
  ASSERT_TRUE(again);
  EXPECT_EQ(hexdump(*again), hexdump(built.frame));
}

TEST(property, subscription_identifiers_repeat_in_publish_in_order) {
  const auto built = t::frame_with_properties(place_named("publish"), unhex("0b 07 0b 02 0b 80 01"));
  const auto r = decode(built.frame, v5);
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(std::get<publish>(*r).props.subscription_identifiers, (std::vector<std::uint32_t>{7, 2, 128}));
}

TEST(property, user_properties_interleaved_with_others_are_gathered) {
  // Any order on the wire is accepted; encoding writes identifier order.
  const auto built = t::frame_with_properties(place_named("connack"),
                                              unhex("26 00 01 61 00 01 31  24 01  26 00 01 62 00 01 32  11 00 00 00 05"));
  const auto r = decode(built.frame, v5);
  ASSERT_TRUE(r) << describe(r);
  const auto& props = std::get<connack>(*r).props;
  EXPECT_EQ(props.maximum_qos, 1);
  EXPECT_EQ(props.session_expiry_interval, 5u);
  EXPECT_EQ(props.user_properties, (std::vector<user_property>{{"a", "1"}, {"b", "2"}}));
  const auto again = encode(*r, v5);
  ASSERT_TRUE(again);
  EXPECT_EQ(hexdump(*again),
            hexdump(t::frame_with_properties(place_named("connack"),
                                             unhex("11 00 00 00 05  24 01  26 00 01 61 00 01 31  26 00 01 62 00 01 32"))
                        .frame));
}

TEST(property, for_each_property_walks_identifier_order) {
  properties p;
  p.shared_subscription_available = 1;
  p.user_properties = {{"z", "1"}, {"a", "2"}};
  p.subscription_identifiers = {9, 3};
  p.payload_format_indicator = 0;
  p.reason_string = "why";
  p.correlation_data = "\x00\x01"sv;
  std::vector<std::pair<property_id, std::string>> seen;
  for_each_property(p, [&](const mqttspec::codec::property_value& v) {
    std::ostringstream os;
    os << v.number << '|' << v.text << '|' << v.pair_value;
    seen.emplace_back(v.id, os.str());
  });
  const std::vector<std::pair<property_id, std::string>> expected = {
      {property_id::payload_format_indicator, "0||"},
      {property_id::correlation_data, "0|\x00\x01|"s},
      {property_id::subscription_identifier, "9||"},
      {property_id::subscription_identifier, "3||"},
      {property_id::reason_string, "0|why|"},
      {property_id::user_property, "0|z|1"},
      {property_id::user_property, "0|a|2"},
      {property_id::shared_subscription_available, "1||"},
  };
  EXPECT_EQ(seen, expected);
}

TEST(property, empty) {
  properties p;
  EXPECT_TRUE(p.empty());
  for (const auto& spec : t::spec_properties()) {
    const auto s = t::sample_property(spec.id);
    EXPECT_FALSE(s.value.empty()) << spec.name;
  }
  p.user_properties.push_back({"", ""});
  EXPECT_FALSE(p.empty());
}

TEST(property, printing_names_the_values) {
  const properties p{.content_type = "text/plain", .subscription_identifiers = {42},
                     .user_properties = {{"colour", "blue"}}};
  std::ostringstream os;
  os << p;
  for (std::string_view part : {"text/plain"sv, "42"sv, "colour"sv, "blue"sv})
    EXPECT_NE(os.str().find(part), std::string::npos) << os.str() << " lacks " << part;
}
