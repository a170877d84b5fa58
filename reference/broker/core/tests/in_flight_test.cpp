// in_flight_list: order first sent, the identifier index, the count against the send quota, and the
// resend position after a reconnection.
#include "mqttspec/broker/in_flight.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace mqttspec::broker {
namespace {

inflight entry(std::uint16_t id, bool transmitted = true) {
  inflight f;
  f.packet_id = id;
  f.transmitted = transmitted;
  return f;
}

std::vector<std::uint16_t> ids_of(const in_flight_list& l) {
  std::vector<std::uint16_t> out;
  for (const auto& f : l) out.push_back(f.packet_id);
  return out;
}

TEST(in_flight_list, keeps_the_order_first_sent_and_finds_by_identifier) {
  in_flight_list l;
  for (std::uint16_t id : {7, 3, 9}) EXPECT_TRUE(l.push_back(entry(id)));
  EXPECT_FALSE(l.push_back(entry(3)));  // in use: refused, nothing changes
  EXPECT_EQ(ids_of(l), (std::vector<std::uint16_t>{7, 3, 9}));
  EXPECT_EQ(l.transmitted(), 3u);
  ASSERT_NE(l.find(9), nullptr);
  EXPECT_EQ(l.find(9)->packet_id, 9);
  EXPECT_EQ(l.find(4), nullptr);
  l.erase(3);
  l.erase(4);  // unknown: nothing happens
  EXPECT_FALSE(l.in_use(3));
  EXPECT_EQ(ids_of(l), (std::vector<std::uint16_t>{7, 9}));
  EXPECT_EQ(l.transmitted(), 2u);
  EXPECT_EQ(l.next_to_resend(), nullptr);
}

TEST(in_flight_list, resends_in_order_after_a_reconnection) {
  in_flight_list l;
  for (std::uint16_t id : {1, 2, 3, 4}) l.push_back(entry(id));
  l.mark_all_untransmitted();
  EXPECT_EQ(l.transmitted(), 0u);
  ASSERT_NE(l.next_to_resend(), nullptr);
  EXPECT_EQ(l.next_to_resend()->packet_id, 1);
  l.mark_transmitted(*l.next_to_resend());
  EXPECT_EQ(l.transmitted(), 1u);
  EXPECT_EQ(l.next_to_resend()->packet_id, 2);
  l.erase(2);  // acknowledged before it was resent: the next one moves up
  EXPECT_EQ(l.next_to_resend()->packet_id, 3);
  EXPECT_EQ(l.transmitted(), 1u);
  l.erase(1);
  EXPECT_EQ(l.transmitted(), 0u);
  l.mark_transmitted(*l.next_to_resend());
  l.mark_transmitted(*l.next_to_resend());
  EXPECT_EQ(l.next_to_resend(), nullptr);
  EXPECT_EQ(l.transmitted(), 2u);
  EXPECT_TRUE(l.push_back(entry(5)));
  EXPECT_EQ(l.transmitted(), 3u);
  EXPECT_EQ(ids_of(l), (std::vector<std::uint16_t>{3, 4, 5}));
}

TEST(in_flight_list, restored_entries_wait_for_a_resend) {
  in_flight_list l;
  l.push_back(entry(8, false));
  l.push_back(entry(2, false));
  EXPECT_EQ(l.transmitted(), 0u);
  ASSERT_NE(l.next_to_resend(), nullptr);
  EXPECT_EQ(l.next_to_resend()->packet_id, 8);
}

}  // namespace
}  // namespace mqttspec::broker
