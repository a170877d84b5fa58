// The common packets decode and encode without touching the heap: PUBLISH (with
// a few properties), the four publish acknowledgements, PINGREQ/PINGRESP,
// SUBSCRIBE with up to 16 filters, SUBACK/UNSUBSCRIBE/UNSUBACK with up to 8
// entries, CONNACK and DISCONNECT, in 3.1.1 and 5.0. Its own executable:
// allocation_counter.cpp replaces the global operator new for the whole program.
#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <vector>

#include "allocation_counter.hpp"
#include "mqttspec/codec/codec.hpp"

using namespace mqttspec::codec;
using mqttspec::testing::allocations_during;

namespace {

const std::string filters[] = {"a/b/c",  "a/+/c", "a/#", "sensors/+/temp", "x/y", "home/+/+/state",
                               "$SYS/#", "q/r",   "z"};

struct named_packet {
  std::string name;
  packet value;
};

subscribe subscribe_of(std::size_t n, bool five) {
  subscribe s;
  s.packet_id = 7;
  for (std::size_t i = 0; i < n; ++i) s.subscriptions.push_back({filters[i % std::size(filters)], {qos::at_least_once}});
  if (five) s.props.subscription_identifiers = {12};
  return s;
}

std::vector<named_packet> common_packets(bool five) {
  std::vector<named_packet> out;
  for (qos q : {qos::at_most_once, qos::at_least_once, qos::exactly_once}) {
    publish p;
    p.qos_level = q;
    p.packet_id = q == qos::at_most_once ? 0 : 42;
    p.topic = "sensors/room-12/temp";
    p.payload = "21.5";
    if (five) {
      p.props.payload_format_indicator = 1;
      p.props.message_expiry_interval = 60;
      p.props.content_type = "text/plain";
      p.props.user_properties = {{"trace", "4bf92f35"}, {"site", "b"}};
      p.props.subscription_identifiers = {3, 4};
    }
    out.push_back({"publish_qos" + std::to_string(static_cast<int>(q)), p});
  }
  const reason_code ack_code = five ? reason_code::no_matching_subscribers : reason_code::success;
  out.push_back({"puback", puback{42, ack_code, {}}});
  out.push_back({"pubrec", pubrec{42, ack_code, {}}});
  out.push_back({"pubrel", pubrel{42, reason_code::success, {}}});
  out.push_back({"pubcomp", pubcomp{42, reason_code::success, {}}});
  out.push_back({"pingreq", pingreq{}});
  out.push_back({"pingresp", pingresp{}});
  connack ca;
  ca.session_present = true;
  if (five) ca.props.receive_maximum = 10;
  out.push_back({"connack", ca});
  out.push_back({"disconnect", disconnect{}});
  out.push_back({"subscribe_16", subscribe_of(16, five)});
  for (std::size_t n : {1u, 8u}) {
    out.push_back({"subscribe_" + std::to_string(n), subscribe_of(n, five)});
    suback sa;
    sa.packet_id = 7;
    unsubscribe us;
    us.packet_id = 8;
    unsuback ua;
    ua.packet_id = 8;
    for (std::size_t i = 0; i < n; ++i) {
      sa.codes.push_back(reason_code::granted_qos_1);
      us.filters.push_back(filters[i]);
      if (five) ua.codes.push_back(reason_code::success);
    }
    out.push_back({"suback_" + std::to_string(n), sa});
    out.push_back({"unsubscribe_" + std::to_string(n), us});
    out.push_back({"unsuback_" + std::to_string(n), ua});
  }
  return out;
}

void expect_no_allocation(protocol_version v) {
  for (const auto &[name, value] : common_packets(is_v5(v))) {
    const auto wire = encode(value, v);
    ASSERT_TRUE(wire) << name << ": " << wire.error().message();
    bool decoded = false;
    EXPECT_EQ(allocations_during([&] { decoded = static_cast<bool>(decode(*wire, v)); }), 0u) << name << " decode";
    EXPECT_TRUE(decoded) << name;

    bytes out;
    out.reserve(wire->size());
    EXPECT_EQ(allocations_during([&] { (void)encode_to(value, v, out); }), 0u) << name << " encode_to";
    EXPECT_EQ(out, *wire) << name;
  }
}

}  // namespace

TEST(allocation, common_packets_decode_and_encode_without_allocating_in_3_1_1) {
  expect_no_allocation(protocol_version::v3_1_1);
}

TEST(allocation, common_packets_decode_and_encode_without_allocating_in_5_0) {
  expect_no_allocation(protocol_version::v5);
}

// The counter does count: beyond the inline capacity, decoding goes to the
// heap.
TEST(allocation, a_subscribe_with_seventeen_filters_allocates_once) {
  const auto wire = encode(subscribe_of(17, false), protocol_version::v3_1_1);
  ASSERT_TRUE(wire);
  EXPECT_EQ(allocations_during([&] { (void)decode(*wire, protocol_version::v3_1_1); }), 1u);
}
