// types.hpp and the type tag of packet.hpp: names and numbering from §2.1.2.
#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace mqttspec::codec;

TEST(types, protocol_levels_are_the_connect_level_byte) {
  EXPECT_EQ(static_cast<int>(protocol_version::v3_1), 3);
  EXPECT_EQ(static_cast<int>(protocol_version::v3_1_1), 4);
  EXPECT_EQ(static_cast<int>(protocol_version::v5), 5);
  EXPECT_TRUE(is_v5(protocol_version::v5));
  EXPECT_FALSE(is_v5(protocol_version::v3_1_1));
  EXPECT_FALSE(is_v5(protocol_version::v3_1));
}

TEST(types, version_names_are_distinct_and_mention_the_number) {
  EXPECT_NE(to_string(protocol_version::v3_1).find("3.1"), std::string_view::npos);
  EXPECT_NE(to_string(protocol_version::v3_1_1).find("3.1.1"), std::string_view::npos);
  EXPECT_NE(to_string(protocol_version::v5).find('5'), std::string_view::npos);
  EXPECT_NE(to_string(protocol_version::v3_1), to_string(protocol_version::v3_1_1));
}

TEST(types, packet_type_names_follow_the_spec) {
  struct row {
    packet_type type;
    int value;
    std::string_view name;
  };
  const row rows[] = {
      {packet_type::connect, 1, "CONNECT"},         {packet_type::connack, 2, "CONNACK"},
      {packet_type::publish, 3, "PUBLISH"},         {packet_type::puback, 4, "PUBACK"},
      {packet_type::pubrec, 5, "PUBREC"},           {packet_type::pubrel, 6, "PUBREL"},
      {packet_type::pubcomp, 7, "PUBCOMP"},         {packet_type::subscribe, 8, "SUBSCRIBE"},
      {packet_type::suback, 9, "SUBACK"},           {packet_type::unsubscribe, 10, "UNSUBSCRIBE"},
      {packet_type::unsuback, 11, "UNSUBACK"},      {packet_type::pingreq, 12, "PINGREQ"},
      {packet_type::pingresp, 13, "PINGRESP"},      {packet_type::disconnect, 14, "DISCONNECT"},
      {packet_type::auth, 15, "AUTH"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(static_cast<int>(r.type), r.value) << r.name;
    EXPECT_EQ(to_string(r.type), r.name);
  }
}

TEST(types, type_of_names_each_alternative) {
  // Each alternative of the variant has the type its index says (index + 1).
  std::set<packet_type> seen;
  for (const auto& f : mqttspec::codec::test::fixtures()) {
    EXPECT_EQ(static_cast<std::size_t>(type_of(f.expected)), f.expected.index() + 1) << f.name;
    seen.insert(type_of(f.expected));
  }
  EXPECT_EQ(seen.size(), 15u) << "the fixtures cover every packet type";
}

TEST(types, retain_handling_values) {
  EXPECT_EQ(static_cast<int>(retain_handling::send_on_subscribe), 0);
  EXPECT_EQ(static_cast<int>(retain_handling::send_if_new), 1);
  EXPECT_EQ(static_cast<int>(retain_handling::do_not_send), 2);
}
