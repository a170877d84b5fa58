#include "mqttspec/conformance/packet_builder.hpp"
#include "mqttspec/conformance/predicates.hpp"
#include "mqttspec/conformance/variables.hpp"

#include <gtest/gtest.h>

namespace mqttspec::conformance {
namespace {

using namespace codec;

TEST(predicates, publish_fields) {
  publish p;
  p.qos_level = qos::at_least_once;
  p.packet_id = 7;
  p.topic = "a/b";
  p.payload = "hi";
  EXPECT_FALSE(match(p, {{"type", "publish"}, {"qos", "1"}, {"id", "7"}, {"topic", "a/b"}, {"payload", "hi"}}, {},
                     protocol_version::v5));
  EXPECT_TRUE(match(p, {{"type", "publish"}, {"qos", "2"}}, {}, protocol_version::v5));
  EXPECT_TRUE(match(p, {{"type", "puback"}}, {}, protocol_version::v5));
  EXPECT_FALSE(match(p, {{"type", "publish"}, {"qos", "0|1"}}, {}, protocol_version::v5));
  auto why = match(p, {{"type", "publish"}, {"retain", "1"}}, {}, protocol_version::v5);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "retain=0, expected 1");
}

TEST(predicates, codes_with_alternatives) {
  suback s;
  s.packet_id = 1;
  s.codes = {reason_code::success, reason_code::granted_qos_1};
  EXPECT_FALSE(match(s, {{"type", "suback"}, {"codes", "0x00 0x01|0x80"}}, {}, protocol_version::v5));
  EXPECT_TRUE(match(s, {{"type", "suback"}, {"codes", "0x00"}}, {}, protocol_version::v5));
}

TEST(predicates, v311_connack_return_codes) {
  connack c;
  c.code = reason_code::unsupported_protocol_version;
  EXPECT_FALSE(match(c, {{"type", "connack"}, {"reason", "1"}}, {}, protocol_version::v3_1_1));
  EXPECT_FALSE(match(c, {{"type", "connack"}, {"reason", "0x84"}}, {}, protocol_version::v5));
}

TEST(predicates, properties_present_absent_value) {
  connack c;
  c.props.maximum_qos = 1;
  EXPECT_FALSE(match(c, {{"type", "connack"}}, {{{"name", "maximum_qos"}, {"value", "1"}}}, protocol_version::v5));
  EXPECT_TRUE(match(c, {{"type", "connack"}}, {{{"name", "maximum_qos"}, {"present", "false"}}}, protocol_version::v5));
  EXPECT_FALSE(match(c, {{"type", "connack"}}, {{{"name", "retain_available"}, {"present", "0"}}}, protocol_version::v5));
}

TEST(predicates, user_properties_in_order) {
  publish p;
  p.props.user_properties = {{"a", "1"}, {"b", "2"}, {"a", "1"}, {"a", "3"}};
  auto checks = [](std::initializer_list<const char*> values) {
    std::vector<attributes> out;
    for (const char* v : values) out.push_back({{"name", "user_property"}, {"value", v}});
    return out;
  };
  const auto v = protocol_version::v5;
  EXPECT_FALSE(match(p, {{"type", "publish"}}, checks({"a=1", "b=2", "a=1", "a=3"}), v));
  EXPECT_FALSE(match(p, {{"type", "publish"}}, checks({"b=2", "a=3"}), v)) << "others may come between";
  auto why = match(p, {{"type", "publish"}}, checks({"a=3", "b=2"}), v);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("order matters"), std::string::npos) << *why;
  EXPECT_TRUE(match(p, {{"type", "publish"}}, checks({"a=1", "a=1", "a=1"}), v)) << "a=1 is there twice only";
  // Subscription Identifiers may come in any order (v5:MQTT-3.3.4-4).
  p.props.subscription_identifiers = {2, 1};
  const std::vector<attributes> ids{{{"name", "subscription_identifier"}, {"value", "1"}},
                                    {{"name", "subscription_identifier"}, {"value", "2"}}};
  EXPECT_FALSE(match(p, {{"type", "publish"}}, ids, v));
}

TEST(predicates, id_not) {
  puback a{7, reason_code::success, {}};
  EXPECT_FALSE(match(a, {{"type", "puback"}, {"id-not", "1 2"}}, {}, protocol_version::v5));
  auto why = match(a, {{"type", "puback"}, {"id-not", "3|7"}}, {}, protocol_version::v5);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "id-not: got 7, expected none of 3|7");
}

TEST(predicates, max_size_counts_the_whole_packet) {
  // PUBACK 0x10 with a Reason String "none": 40 0b 00 07 10 07 1f 00 04 6e 6f 6e 65 -> 13 bytes.
  puback a{7, reason_code::no_matching_subscribers, {}};
  a.props.reason_string = "none";
  owned_packet got{std::make_shared<const bytes>(*encode(a, protocol_version::v5)), a};
  ASSERT_EQ(*got.storage, from_hex("40 0b 00 07 10 07 1f 00 04 6e 6f 6e 65"));
  EXPECT_FALSE(match(got, {{"type", "puback"}, {"max-size", "13"}}, {}, protocol_version::v5));
  auto why = match(got, {{"type", "puback"}, {"max-size", "12"}}, {}, protocol_version::v5);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "the packet is 13 bytes, expected at most 12");
  EXPECT_TRUE(match(got, {{"type", "puback"}, {"reason", "0"}, {"max-size", "100"}}, {}, protocol_version::v5));
  EXPECT_TRUE(check_size(owned_packet{nullptr, a}, {{"max-size", "100"}})) << "no bytes, no judgement";
}

TEST(predicates, repeated_payload) {
  publish p;
  p.topic = "t";
  const std::string big(300, 'x');
  p.payload = big;
  EXPECT_FALSE(
      match(p, {{"type", "publish"}, {"payload", "xxx"}, {"payload-repeat", "100"}}, {}, protocol_version::v5));
  auto why = match(p, {{"type", "publish"}, {"payload", "xx"}, {"payload-repeat", "149"}}, {}, protocol_version::v5);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("300 bytes"), std::string::npos) << *why;
  EXPECT_NE(why->find("298 bytes"), std::string::npos) << *why;
}

TEST(packet_builder, will_properties_and_repeated_payload) {
  const std::vector<attributes> props{{{"name", "will.user_property"}, {"value", "k=2"}},
                                      {{"name", "user_property"}, {"value", "c=1"}},
                                      {{"name", "will.user_property"}, {"value", "k=1"}}};
  auto wire = build_connect({{"will-topic", "w"}, {"will-payload", "x"}}, props, protocol_version::v5, "id", {});
  ASSERT_TRUE(wire) << wire.error().message;
  auto c = decode(*wire, protocol_version::v5);
  ASSERT_TRUE(c);
  const auto& got = std::get<connect>(*c);
  ASSERT_TRUE(got.will);
  EXPECT_EQ(got.will->props.user_properties, (std::vector<user_property>{{"k", "2"}, {"k", "1"}}));
  EXPECT_EQ(got.props.user_properties, (std::vector<user_property>{{"c", "1"}}));
  EXPECT_FALSE(build_connect({}, props, protocol_version::v5, "id", {})) << "Will Properties need a Will";

  auto big = build_send({{"type", "publish"}, {"topic", "t"}, {"payload", "ab"}, {"payload-repeat", "10000"}}, {}, {},
                        protocol_version::v5);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->size(), 1u + 3u + 3u + 1u + 20000u);  // fixed header with a 3-byte length, topic, properties, payload
}

TEST(variables, expand_and_unknown) {
  auto e = expand("a/${prefix}/${x}", {{"prefix", "P"}});
  EXPECT_EQ(e.text, "a/P/${x}");
  EXPECT_EQ(e.unknown, "x");
  EXPECT_EQ(parse_number("0x1F", 255), 31u);
  EXPECT_FALSE(parse_number("256", 255));
}

TEST(variables, arithmetic_over_numbers_and_variables) {
  const variables v{{"g", "1"}, {"c.keep-alive", "5"}};
  EXPECT_EQ(expand("${min(g,2)}", v).text, "1");
  EXPECT_EQ(expand("${max(g, 2)}", v).text, "2");
  EXPECT_EQ(expand("${mul(c.keep-alive,1500)}", v).text, "7500");
  EXPECT_EQ(expand("${add(g,g,1)}", v).text, "3");
  EXPECT_EQ(expand("${min(h,2)}", v).unknown, "min(h,2)");  // h is undefined
  EXPECT_EQ(expand("${pow(g,2)}", v).unknown, "pow(g,2)");
}

}  // namespace
}  // namespace mqttspec::conformance
