// The broker's limits (docs/broker-limits.md): per-Session queue (messages and bytes, QoS 0
// dropped first), topic levels and length, subscriptions per Session, retained messages and bytes,
// and the QoS 0 PUBLISHes a shell may drop for a client that does not read.
#include "broker_harness.hpp"

namespace mqttspec::broker {
namespace {

using codec::qos;
using codec::reason_code;
using testing::connect;
using testing::harness;
using testing::make_publish;
using testing::make_subscribe;
using testing::subscribe;
constexpr auto v5 = codec::protocol_version::v5;
constexpr auto v311 = codec::protocol_version::v3_1_1;

// "sub" may have one QoS 1 message in flight, so the rest queue up behind it.
void slow_subscriber(harness& h) {
  auto c = harness::connect_packet("sub", v5);
  c.props.receive_maximum = 1;
  connect(h, "sub", c);
  subscribe(h, "sub", "t", qos::at_least_once);
  connect(h, "pub", harness::connect_packet("pub", v5));
}

// Acknowledges everything "sub" gets until nothing more comes; returns the payloads in order.
std::vector<std::string> drain(harness& h) {
  std::vector<std::string> out;
  for (auto got = h.take("sub"); !got.empty(); got = h.take("sub")) {
    for (const auto& p : got) {
      const auto& pub = std::get<codec::publish>(p.value);
      out.emplace_back(pub.payload);
      if (pub.qos_level != qos::at_most_once) h.send("sub", codec::puback{pub.packet_id, reason_code::success, {}});
    }
  }
  return out;
}

TEST(broker_limits, a_full_queue_drops_qos0_first) {
  config cfg;
  cfg.max_queued_messages = 3;
  harness h(cfg);
  slow_subscriber(h);
  std::uint16_t id = 1;
  const auto publish = [&](std::string_view payload, qos q) { h.send("pub", make_publish("t", payload, q, id++)); };
  publish("a", qos::at_least_once);  // in flight
  publish("b", qos::at_least_once);  // queued: [b]
  publish("c", qos::at_most_once);   // [b c]
  publish("d", qos::at_most_once);   // [b c d]: full
  publish("e", qos::at_least_once);  // c makes room: [b d e]
  publish("f", qos::at_most_once);   // full, and QoS 0 itself: dropped
  publish("g", qos::at_least_once);  // d makes room: [b e g]
  publish("h", qos::at_least_once);  // full of QoS 1: dropped
  EXPECT_EQ(h.core.stats().qos0_dropped, 3u);
  EXPECT_EQ(h.core.stats().messages_dropped, 4u);
  EXPECT_EQ(drain(h), (std::vector<std::string>{"a", "b", "e", "g"}));
}

TEST(broker_limits, queued_bytes) {
  config cfg;
  cfg.max_queued_bytes = 250;  // a message here weighs its topic (1) + payload (100)
  harness h(cfg);
  slow_subscriber(h);
  const std::string big(100, 'x');
  h.send("pub", make_publish("t", "first", qos::at_least_once, 1));  // in flight: not counted
  h.send("pub", make_publish("t", big, qos::at_least_once, 2));
  h.send("pub", make_publish("t", big, qos::at_most_once, 3));
  h.send("pub", make_publish("t", big, qos::at_least_once, 4));  // 303 > 250: the QoS 0 one goes
  h.send("pub", make_publish("t", big, qos::at_least_once, 5));  // no QoS 0 left: dropped
  EXPECT_EQ(h.core.stats().qos0_dropped, 1u);
  EXPECT_EQ(h.core.stats().messages_dropped, 2u);
  EXPECT_EQ(drain(h).size(), 3u);
  ASSERT_TRUE(h.core.find_session("sub"));
  EXPECT_EQ(h.core.find_session("sub")->queued_bytes, 0u);
}

TEST(broker_limits, topic_levels_and_length_v5) {
  config cfg;
  cfg.max_topic_levels = 3;
  cfg.max_topic_length = 12;
  harness h(cfg);
  connect(h, "sub", harness::connect_packet("sub", v5));
  subscribe(h, "sub", "#", qos::exactly_once);
  connect(h, "pub", harness::connect_packet("pub", v5));
  codec::owned_packet k;
  h.send("pub", make_publish("a/b/c/d", "deep", qos::at_least_once, 1));
  EXPECT_EQ(h.take_one<codec::puback>("pub", k).code, reason_code::topic_name_invalid);
  h.send("pub", make_publish("aaaaaaaaaaaaa", "long", qos::exactly_once, 2));
  EXPECT_EQ(h.take_one<codec::pubrec>("pub", k).code, reason_code::topic_name_invalid);
  h.send("pub", make_publish("a/b/c/d", "deep", qos::at_most_once));
  EXPECT_TRUE(h.take("pub").empty());
  EXPECT_TRUE(h.take("sub").empty());  // none of them was routed
  h.send("pub", make_publish("a/b/c", "fits", qos::at_least_once, 3));
  EXPECT_EQ(h.take_one<codec::puback>("pub", k).code, reason_code::success);
  EXPECT_EQ(h.take("sub").size(), 1u);
  EXPECT_EQ(h.core.stats().refused_by_limits, 3u);

  h.send("sub", make_subscribe(5, "a/b/c/#", qos::at_most_once));
  EXPECT_EQ(h.take_one<codec::suback>("sub", k).codes, std::vector<reason_code>{reason_code::topic_filter_invalid});
  h.send("sub", make_subscribe(6, "a/+/#", qos::at_most_once));
  EXPECT_EQ(h.take_one<codec::suback>("sub", k).codes, std::vector<reason_code>{reason_code::success});
}

TEST(broker_limits, topic_levels_v311) {
  config cfg;
  cfg.max_topic_levels = 2;
  harness h(cfg);
  connect(h, "c", harness::connect_packet("c", v311));
  codec::owned_packet k;
  h.send("c", make_subscribe(1, "a/b/c", qos::at_most_once));
  EXPECT_EQ(h.take_one<codec::suback>("c", k).codes, std::vector<reason_code>{reason_code::unspecified_error});
  h.send("c", make_publish("a/b/c", "deep", qos::at_least_once, 1));
  EXPECT_TRUE(h.clients["c"].closed);  // 3.1.1 has no way to refuse a PUBLISH
  EXPECT_TRUE(h.take("c").empty());
}

TEST(broker_limits, subscriptions_per_session) {
  config cfg;
  cfg.max_subscriptions = 2;
  harness h(cfg);
  connect(h, "c", harness::connect_packet("c", v5));
  subscribe(h, "c", "a", qos::at_most_once);
  subscribe(h, "c", "b", qos::at_most_once);
  codec::owned_packet k;
  h.send("c", make_subscribe(3, "c", qos::at_most_once));
  EXPECT_EQ(h.take_one<codec::suback>("c", k).codes, std::vector<reason_code>{reason_code::quota_exceeded});
  subscribe(h, "c", "b", qos::at_least_once);  // replacing one is not a new one
  h.send("c", codec::unsubscribe{4, {}, {"a"}});
  h.take("c");
  subscribe(h, "c", "c", qos::at_most_once);  // room again
}

TEST(broker_limits, retained_messages_and_bytes) {
  for (bool by_bytes : {false, true}) {
    config cfg;
    if (by_bytes) cfg.max_retained_bytes = 20;  // "r/1" + "payload" = 10 bytes each
    else cfg.max_retained_messages = 2;
    harness h(cfg);
    connect(h, "pub", harness::connect_packet("pub", v5));
    connect(h, "live", harness::connect_packet("live", v5));
    subscribe(h, "live", "r/#", qos::at_most_once);
    for (std::string_view topic : {"r/1", "r/2", "r/3"}) h.send("pub", make_publish(topic, "payload", qos::at_most_once, 0, true));
    EXPECT_EQ(h.take("live").size(), 3u) << by_bytes;  // all routed
    EXPECT_EQ(h.core.retained().size(), 2u) << by_bytes;
    EXPECT_FALSE(h.core.retained().find("r/3")) << by_bytes;
    EXPECT_EQ(h.core.stats().retained_refused, 1u) << by_bytes;
    h.send("pub", make_publish("r/1", "payload", qos::at_most_once, 0, true));  // replacing fits
    EXPECT_EQ(h.core.stats().retained_refused, 1u) << by_bytes;
    h.send("pub", make_publish("r/2", "", qos::at_most_once, 0, true));  // clearing one makes room
    h.send("pub", make_publish("r/3", "payload", qos::at_most_once, 0, true));
    EXPECT_TRUE(h.core.retained().find("r/3")) << by_bytes;
  }
}

TEST(broker_limits, qos0_transmits_are_droppable) {
  harness h;
  connect(h, "sub", harness::connect_packet("sub", v5));
  subscribe(h, "sub", "t", qos::at_least_once);
  connect(h, "pub", harness::connect_packet("pub", v5));
  const auto sub_id = h.clients["sub"].id;
  for (auto q : {qos::at_most_once, qos::at_least_once}) {
    const auto wire = codec::encode(make_publish("t", "m", q, 1), v5);
    ASSERT_TRUE(wire);
    h.core.receive(h.clients["pub"].id, *wire, h.now);
    int to_sub = 0;
    for (const auto& a : h.core.take_actions()) {
      if (const auto* t = std::get_if<transmit_to>(&a); t && t->id == sub_id) {
        ++to_sub;
        EXPECT_EQ(t->droppable, q == qos::at_most_once);
      } else if (t) {
        EXPECT_FALSE(t->droppable);  // the PUBACK to the publisher
      }
    }
    EXPECT_EQ(to_sub, 1);
  }
}

}  // namespace
}  // namespace mqttspec::broker
