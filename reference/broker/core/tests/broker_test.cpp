// The broker core end to end in memory: several clients, exact packets out.
#include "broker_harness.hpp"

namespace mqttspec::broker {
namespace {

using codec::qos;
using codec::reason_code;
using testing::harness;
constexpr auto v5 = codec::protocol_version::v5;
constexpr auto v311 = codec::protocol_version::v3_1_1;

using testing::connect;
using testing::make_publish;
using testing::make_subscribe;
using testing::subscribe;

class both_versions : public ::testing::TestWithParam<codec::protocol_version> {};
INSTANTIATE_TEST_SUITE_P(broker, both_versions, ::testing::Values(v311, v5),
                         [](const auto& i) { return i.param == v5 ? "v5" : "v311"; });

TEST_P(both_versions, qos1_is_routed_acked_and_downgraded) {
  harness h;
  connect(h, "sub", harness::connect_packet("sub", GetParam()));
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  subscribe(h, "sub", "a/+", qos::at_least_once);
  h.send("pub", make_publish("a/b", "hello", qos::exactly_once, 7));
  codec::owned_packet k1, k2;
  EXPECT_EQ(h.take_one<codec::pubrec>("pub", k1).packet_id, 7);
  auto got = h.take_one<codec::publish>("sub", k2);
  EXPECT_EQ(got.topic, "a/b");
  EXPECT_EQ(got.payload, "hello");
  EXPECT_EQ(got.qos_level, qos::at_least_once);  // min(2, granted 1)
  EXPECT_FALSE(got.retain);
  EXPECT_NE(got.packet_id, 0);
}

TEST_P(both_versions, qos2_duplicate_is_not_forwarded_twice) {
  harness h;
  connect(h, "sub", harness::connect_packet("sub", GetParam()));
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  subscribe(h, "sub", "q", qos::at_most_once);
  auto p = make_publish("q", "once", qos::exactly_once, 9);
  h.send("pub", p);
  p.dup = true;
  h.send("pub", p);  // repeated before PUBREL: PUBREC again, no second delivery
  EXPECT_EQ(h.take("pub").size(), 2u);
  EXPECT_EQ(h.take("sub").size(), 1u);
  h.send("pub", codec::pubrel{9, reason_code::success, {}});
  codec::owned_packet k;
  EXPECT_EQ(h.take_one<codec::pubcomp>("pub", k).packet_id, 9);
  p.dup = false;
  h.send("pub", p);  // after PUBCOMP the identifier is new again
  EXPECT_EQ(h.take("sub").size(), 1u);
}

TEST_P(both_versions, persistent_session_gets_queued_messages_in_order) {
  harness h;
  auto c = harness::connect_packet("p", GetParam(), false);
  if (GetParam() == v5) c.props.session_expiry_interval = 60;
  connect(h, "p", c);
  subscribe(h, "p", "t/#", qos::at_least_once);
  h.drop("p");
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  for (std::string_view m : {"1", "2", "3"}) h.send("pub", make_publish("t/x", m, qos::at_least_once, 5));
  auto ack = connect(h, "p", c);
  EXPECT_TRUE(ack.session_present);
  auto got = h.take("p");
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(std::get<codec::publish>(got[i].value).payload, std::to_string(i + 1));
}

TEST_P(both_versions, unacknowledged_publish_is_resent_with_dup) {
  harness h;
  auto c = harness::connect_packet("p", GetParam(), false);
  if (GetParam() == v5) c.props.session_expiry_interval = 60;
  connect(h, "p", c);
  subscribe(h, "p", "t", qos::at_least_once);
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  h.send("pub", make_publish("t", "m", qos::at_least_once, 1));
  codec::owned_packet k1, k2;
  const auto first = h.take_one<codec::publish>("p", k1);
  EXPECT_FALSE(first.dup);
  h.drop("p");  // no PUBACK
  connect(h, "p", c);
  const auto again = h.take_one<codec::publish>("p", k2);
  EXPECT_TRUE(again.dup);  // v5:MQTT-3.3.1-1, v5:MQTT-4.4.0-1
  EXPECT_EQ(again.packet_id, first.packet_id);
}

TEST_P(both_versions, will_on_abnormal_close_not_after_disconnect) {
  for (bool graceful : {false, true}) {
    harness h;
    connect(h, "watcher", harness::connect_packet("watcher", GetParam()));
    subscribe(h, "watcher", "will/#", qos::at_least_once);
    auto c = harness::connect_packet("dev", GetParam());
    codec::will_message w;
    w.topic = "will/dev";
    w.payload = "gone";
    w.qos_level = qos::at_least_once;
    c.will = w;
    connect(h, "dev", c);
    if (graceful) h.send("dev", codec::disconnect{});
    else h.drop("dev");
    auto got = h.take("watcher");
    if (graceful) {
      EXPECT_TRUE(got.empty());
    } else {
      ASSERT_EQ(got.size(), 1u);
      EXPECT_EQ(std::get<codec::publish>(got[0].value).payload, "gone");
    }
  }
}

TEST_P(both_versions, keep_alive_timeout_publishes_the_will) {
  harness h;
  connect(h, "watcher", harness::connect_packet("watcher", GetParam()));
  subscribe(h, "watcher", "w", qos::at_most_once);
  auto c = harness::connect_packet("dev", GetParam());
  c.keep_alive = 2;
  codec::will_message w;
  w.topic = "w";
  w.payload = "timeout";
  c.will = w;
  connect(h, "dev", c);
  h.advance(2'999);
  EXPECT_FALSE(h.clients["dev"].closed);
  h.advance(1);
  EXPECT_TRUE(h.clients["dev"].closed);
  EXPECT_EQ(h.take("watcher").size(), 1u);
}

TEST_P(both_versions, retained_message_is_stored_replaced_and_cleared) {
  harness h;
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  h.send("pub", make_publish("r/1", "old", qos::at_most_once, 0, true));
  h.send("pub", make_publish("r/1", "new", qos::at_most_once, 0, true));
  connect(h, "s1", harness::connect_packet("s1", GetParam()));
  subscribe(h, "s1", "r/#", qos::at_least_once);
  codec::owned_packet k;
  auto got = h.take_one<codec::publish>("s1", k);
  EXPECT_EQ(got.payload, "new");
  EXPECT_TRUE(got.retain);  // sent because of the new subscription
  h.send("pub", make_publish("r/1", "", qos::at_most_once, 0, true));
  EXPECT_EQ(h.take("s1").size(), 1u);  // the empty message is forwarded normally
  connect(h, "s2", harness::connect_packet("s2", GetParam()));
  subscribe(h, "s2", "r/#", qos::at_least_once);
  EXPECT_TRUE(h.take("s2").empty());  // and cleared the retained one
}

TEST_P(both_versions, session_takeover_closes_the_old_connection) {
  harness h;
  connect(h, "old", harness::connect_packet("same", GetParam()));
  connect(h, "new", harness::connect_packet("same", GetParam()));
  EXPECT_TRUE(h.clients["old"].closed);
  EXPECT_FALSE(h.clients["new"].closed);
  auto got = h.take("old");
  if (GetParam() == v5) {
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(std::get<codec::disconnect>(got[0].value).code, reason_code::session_taken_over);
  } else {
    EXPECT_TRUE(got.empty());
  }
}

TEST(broker, v311_empty_client_id_needs_clean_session) {
  harness h;
  h.connect("a", harness::connect_packet("", v311, false));
  codec::owned_packet k;
  EXPECT_EQ(h.take_one<codec::connack>("a", k).code, reason_code::client_identifier_not_valid);
  EXPECT_TRUE(h.clients["a"].closed);
  connect(h, "b", harness::connect_packet("", v311, true));
}

TEST(broker, v5_empty_client_id_is_assigned) {
  harness h;
  h.connect("a", harness::connect_packet("", v5));
  codec::owned_packet k;
  auto ack = h.take_one<codec::connack>("a", k);
  ASSERT_TRUE(ack.props.assigned_client_identifier);  // v5:MQTT-3.2.2-16
  EXPECT_FALSE(ack.props.assigned_client_identifier->empty());
}

TEST(broker, receive_maximum_limits_messages_in_flight) {
  harness h;
  auto c = harness::connect_packet("slow", v5);
  c.props.receive_maximum = 1;
  connect(h, "slow", c);
  subscribe(h, "slow", "t", qos::at_least_once);
  connect(h, "pub", harness::connect_packet("pub", v5));
  h.send("pub", make_publish("t", "1", qos::at_least_once, 1));
  h.send("pub", make_publish("t", "2", qos::at_least_once, 2));
  codec::owned_packet k1, k2;
  auto first = h.take_one<codec::publish>("slow", k1);  // the second waits (v5:MQTT-3.3.4-9)
  EXPECT_EQ(first.payload, "1");
  h.send("slow", codec::puback{first.packet_id, reason_code::success, {}});
  EXPECT_EQ(h.take_one<codec::publish>("slow", k2).payload, "2");
}

TEST(broker, no_local_and_retain_as_published) {
  harness h;
  connect(h, "c", harness::connect_packet("c", v5));
  codec::subscribe s = make_subscribe(1, "t", qos::at_most_once);
  s.subscriptions[0].options.no_local = true;
  s.subscriptions.push_back({"u", {qos::at_most_once, false, true, codec::retain_handling::do_not_send}});
  h.send("c", s);
  h.take("c");
  h.send("c", make_publish("t", "mine"));
  EXPECT_TRUE(h.take("c").empty());  // v5:MQTT-3.8.3-3
  h.send("c", make_publish("u", "kept", qos::at_most_once, 0, true));
  codec::owned_packet k;
  EXPECT_TRUE(h.take_one<codec::publish>("c", k).retain);  // v5:MQTT-3.3.1-13
}

TEST(broker, shared_subscription_delivers_to_one_member) {
  harness h;
  for (const char* n : {"m1", "m2"}) {
    connect(h, n, harness::connect_packet(n, v5));
    subscribe(h, n, "$share/g/jobs", qos::at_least_once);
  }
  connect(h, "pub", harness::connect_packet("pub", v5));
  for (int i = 0; i < 4; ++i) h.send("pub", make_publish("jobs", "j", qos::at_most_once));
  EXPECT_EQ(h.take("m1").size() + h.take("m2").size(), 4u);
}

// §4.8.2: while one member of a shared subscription is offline (its session kept), the messages
// go to the connected member instead of queueing half of them for the absent one.
TEST(broker, shared_subscription_prefers_connected_members) {
  harness h;
  for (const char* n : {"m1", "m2"}) {
    auto c = harness::connect_packet(n, v5, false);
    c.props.session_expiry_interval = 600;
    connect(h, n, c);
    subscribe(h, n, "$share/g/jobs", qos::at_least_once);
  }
  h.drop("m2");
  connect(h, "pub", harness::connect_packet("pub", v5));
  for (int i = 0; i < 4; ++i) h.send("pub", make_publish("jobs", "j", qos::at_most_once));
  EXPECT_EQ(h.take("m1").size(), 4u);
  auto c = harness::connect_packet("m2", v5, false);
  c.props.session_expiry_interval = 600;
  h.connect("m2", c);
  codec::owned_packet k;
  EXPECT_TRUE(h.take_one<codec::connack>("m2", k).session_present);
  EXPECT_TRUE(h.take("m2").empty());  // nothing was queued for it
}

TEST(broker, subscription_identifier_is_forwarded) {
  harness h;
  connect(h, "c", harness::connect_packet("c", v5));
  auto s = make_subscribe(1, "t/#", qos::at_most_once);
  s.props.subscription_identifiers = {42};
  h.send("c", s);
  h.take("c");
  h.send("c", make_publish("t/1", "x"));
  codec::owned_packet k;
  auto got = h.take_one<codec::publish>("c", k);
  EXPECT_EQ(got.props.subscription_identifiers, std::vector<std::uint32_t>{42});
}

TEST(broker, session_expires_after_its_interval) {
  harness h;
  auto c = harness::connect_packet("e", v5, false);
  c.props.session_expiry_interval = 10;
  connect(h, "e", c);
  h.drop("e");
  EXPECT_NE(h.core.find_session("e"), nullptr);
  h.advance(9'999);
  EXPECT_NE(h.core.find_session("e"), nullptr);
  h.advance(1);
  EXPECT_EQ(h.core.find_session("e"), nullptr);  // v5:MQTT-4.1.0-2
}

TEST(broker, will_delay_is_cancelled_by_reconnection) {
  harness h;
  connect(h, "watcher", harness::connect_packet("watcher", v5));
  subscribe(h, "watcher", "w", qos::at_most_once);
  auto c = harness::connect_packet("dev", v5, false);
  c.props.session_expiry_interval = 100;
  codec::will_message w;
  w.topic = "w";
  w.payload = "late";
  w.props.will_delay_interval = 5;
  c.will = w;
  connect(h, "dev", c);
  h.drop("dev");
  h.advance(4'000);
  connect(h, "dev", c);  // back within the delay (v5:MQTT-3.1.3-9)
  h.advance(10'000);
  EXPECT_TRUE(h.take("watcher").empty());
  h.drop("dev");
  h.advance(5'000);
  EXPECT_EQ(h.take("watcher").size(), 1u);
}

TEST(broker, message_expiry_counts_down_and_drops) {
  harness h;
  auto c = harness::connect_packet("p", v5, false);
  c.props.session_expiry_interval = 100;
  connect(h, "p", c);
  subscribe(h, "p", "t", qos::at_least_once);
  h.drop("p");
  connect(h, "pub", harness::connect_packet("pub", v5));
  auto m = make_publish("t", "short", qos::at_least_once, 1);
  m.props.message_expiry_interval = 10;
  h.send("pub", m);
  m.payload = "long";
  m.props.message_expiry_interval = 30;
  h.send("pub", m);
  h.advance(12'000);
  connect(h, "p", c);
  codec::owned_packet k;
  auto got = h.take_one<codec::publish>("p", k);  // the first expired (v5:MQTT-3.3.2-5)
  EXPECT_EQ(got.payload, "long");
  EXPECT_EQ(got.props.message_expiry_interval, 18u);  // v5:MQTT-3.3.2-6
}

TEST(broker, qos_above_maximum_is_refused_with_0x9b) {
  config cfg;
  cfg.maximum_qos = qos::at_least_once;
  harness h(cfg);
  h.connect("c", harness::connect_packet("c", v5));
  codec::owned_packet k0;
  EXPECT_EQ(h.take_one<codec::connack>("c", k0).props.maximum_qos, 1);
  h.send("c", make_publish("t", "x", qos::exactly_once, 1));
  codec::owned_packet k;
  EXPECT_EQ(h.take_one<codec::disconnect>("c", k).code, reason_code::qos_not_supported);
  EXPECT_TRUE(h.clients["c"].closed);
  EXPECT_NE(h.clients["c"].close_why.find("[v5:MQTT-3.2.2-11]"), std::string::npos) << h.clients["c"].close_why;
}

TEST(broker, malformed_input_closes_only_that_client) {
  harness h;
  connect(h, "bad", harness::connect_packet("bad", v5));
  connect(h, "good", harness::connect_packet("good", v5));
  h.send_raw("bad", *codec::from_hex("36 05 00 01 61 00 01"));  // QoS 3
  EXPECT_TRUE(h.clients["bad"].closed);
  h.send("good", codec::pingreq{});
  codec::owned_packet k;
  h.take_one<codec::pingresp>("good", k);
  EXPECT_FALSE(h.clients["good"].closed);
}

}  // namespace
}  // namespace mqttspec::broker

namespace mqttspec::broker {
namespace {

// Found by the broker fuzzer: a resumed Session resent every in-flight message at once, beyond
// the Receive Maximum of the new connection (v5:MQTT-3.3.4-9).
TEST(broker, resume_respects_the_new_receive_maximum) {
  testing::harness h;
  auto c = testing::harness::connect_packet("p", codec::protocol_version::v5, false);
  c.props.session_expiry_interval = 60;
  h.connect("p", c);
  codec::subscribe s;
  s.packet_id = 1;
  s.subscriptions.push_back({"t", {codec::qos::at_least_once}});
  h.send("p", s);
  h.connect("pub", testing::harness::connect_packet("pub", codec::protocol_version::v5));
  codec::publish m;
  m.topic = "t";
  m.payload = "x";
  m.qos_level = codec::qos::at_least_once;
  for (std::uint16_t id = 1; id <= 3; ++id) {
    m.packet_id = id;
    h.send("pub", m);
  }
  h.take("p");
  h.drop("p");  // three unacknowledged
  c.props.receive_maximum = 2;
  h.connect("p", c);
  auto got = h.take("p");
  ASSERT_EQ(got.size(), 3u);  // CONNACK and two PUBLISH, not three
  const auto first = std::get<codec::publish>(got[1].value);
  EXPECT_TRUE(first.dup);
  h.send("p", codec::puback{first.packet_id, codec::reason_code::success, {}});
  got = h.take("p");
  ASSERT_EQ(got.size(), 1u);  // the third, once a slot is free
  EXPECT_TRUE(std::get<codec::publish>(got[0].value).dup);
}

}  // namespace
}  // namespace mqttspec::broker

namespace mqttspec::broker {
namespace {

// A resumed Session with a smaller Receive Maximum than before: the resends go out in their
// original order as acknowledgements (in any order) make room, then the queue.
TEST(broker, resends_fill_a_smaller_window_in_order) {
  harness h;
  auto c = harness::connect_packet("sub", v5, false);
  c.props.session_expiry_interval = 600;
  c.props.receive_maximum = 4;
  connect(h, "sub", c);
  subscribe(h, "sub", "t", qos::at_least_once);
  connect(h, "pub", harness::connect_packet("pub", v5));
  for (int i = 1; i <= 6; ++i)
    h.send("pub", make_publish("t", std::to_string(i), qos::at_least_once, static_cast<std::uint16_t>(i)));
  std::vector<std::uint16_t> ids;
  for (const auto& p : h.take("sub")) ids.push_back(std::get<codec::publish>(p.value).packet_id);
  ASSERT_EQ(ids.size(), 4u);  // "5" and "6" wait in the queue
  h.drop("sub");

  c.props.receive_maximum = 2;
  EXPECT_TRUE(connect(h, "sub", c).session_present);
  const auto payloads = [&] {
    std::vector<std::string> out;
    for (const auto& p : h.take("sub")) {
      const auto& pub = std::get<codec::publish>(p.value);
      out.push_back(std::string(pub.payload) + (pub.dup ? "d" : ""));
    }
    return out;
  };
  EXPECT_EQ(payloads(), (std::vector<std::string>{"1d", "2d"}));
  h.send("sub", codec::puback{ids[1], reason_code::success, {}});
  EXPECT_EQ(payloads(), (std::vector<std::string>{"3d"}));
  h.send("sub", codec::puback{ids[3], reason_code::success, {}});  // not resent yet: no room made
  EXPECT_EQ(payloads(), (std::vector<std::string>{}));
  h.send("sub", codec::puback{ids[0], reason_code::success, {}});
  EXPECT_EQ(payloads(), (std::vector<std::string>{"5"}));  // "4" was acknowledged meanwhile
  h.send("sub", codec::puback{ids[2], reason_code::success, {}});
  EXPECT_EQ(payloads(), (std::vector<std::string>{"6"}));
}

}  // namespace
}  // namespace mqttspec::broker
