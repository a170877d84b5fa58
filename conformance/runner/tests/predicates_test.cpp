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

TEST(variables, expand_and_unknown) {
  auto e = expand("a/${prefix}/${x}", {{"prefix", "P"}});
  EXPECT_EQ(e.text, "a/P/${x}");
  EXPECT_EQ(e.unknown, "x");
  EXPECT_EQ(parse_number("0x1F", 255), 31u);
  EXPECT_FALSE(parse_number("256", 255));
}

}  // namespace
}  // namespace mqttspec::conformance
