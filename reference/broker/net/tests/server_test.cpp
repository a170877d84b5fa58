// The broker as its clients see it: an embedded_broker on a loopback port, plain TCP clients, exact
// packets in and out. Packets the tests send are encoded with the codec, except where the bytes
// themselves are the point (CONNACKs, forwarded PUBLISHes and malformed input are written in hex
// from the specification, so the codec cannot silently agree with itself).
#include "mqttspec/broker/server.hpp"

#include "loopback_client.hpp"

#include <gtest/gtest.h>

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define MQTTSPEC_HAS_ASAN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MQTTSPEC_HAS_ASAN_ALLOCATOR 1
#endif
#endif
#if defined(MQTTSPEC_HAS_ASAN_ALLOCATOR)
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace mqttspec::broker::test {
namespace {

using codec::protocol_version;
using codec::qos;
using codec::reason_code;

constexpr auto v311 = protocol_version::v3_1_1;
constexpr auto v5 = protocol_version::v5;

codec::bytes hex(std::string_view h) {
  auto b = codec::from_hex(h);
  EXPECT_TRUE(b.has_value()) << "bad hex in the test: " << h;
  return b.value_or(codec::bytes{});
}

std::string version_name(const ::testing::TestParamInfo<protocol_version>& info) {
  return info.param == v5 ? "v5" : "v311";
}

// Heap bytes in use by the whole process (the broker runs on a thread of this process).
std::size_t heap_in_use() {
#if defined(MQTTSPEC_HAS_ASAN_ALLOCATOR)
  return __sanitizer_get_current_allocated_bytes();
#else
  const auto m = mallinfo2();
  return m.uordblks + m.hblkhd;  // big blocks are mmapped: hblkhd counts them for every arena
#endif
}

// Waits until the broker has read every byte `c` sent: the broker's end of the connection has an
// empty receive queue (Linux: rx_queue in /proc/net/tcp). For input the broker does not answer.
::testing::AssertionResult broker_has_read_all(std::uint16_t broker_port, const loopback_client& c,
                                               milliseconds timeout = patience) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const unsigned client_port = c.local_port();
  for (;;) {
    std::ifstream table("/proc/net/tcp");
    std::string line;
    bool found = false;
    unsigned long unread = 0;
    while (std::getline(table, line)) {
      unsigned local_addr = 0, local_port = 0, remote_addr = 0, remote_port = 0, state = 0;
      unsigned long tx = 0, rx = 0;
      if (std::sscanf(line.c_str(), " %*d: %8X:%4X %8X:%4X %2X %8lX:%8lX", &local_addr, &local_port, &remote_addr,
                      &remote_port, &state, &tx, &rx) == 7 &&
          local_port == broker_port && remote_port == client_port) {
        found = true;
        unread = rx;
      }
    }
    if (!found) return ::testing::AssertionFailure() << "no broker socket for client port " << client_port;
    if (unread == 0) return ::testing::AssertionSuccess();
    if (std::chrono::steady_clock::now() > deadline)
      return ::testing::AssertionFailure() << "the broker left " << unread << " bytes unread";
    std::this_thread::sleep_for(1ms);  // polling a condition, with a deadline
  }
}

// --- packets -------------------------------------------------------------------------------

codec::connect connect_packet(protocol_version v, std::string_view client_id, bool clean_start = true,
                              std::uint16_t keep_alive = 0) {
  codec::connect c;
  c.version = v;
  c.client_id = client_id;
  c.clean_start = clean_start;
  c.keep_alive = keep_alive;
  return c;
}

codec::will_message will_of(std::string_view topic, std::string_view payload, qos q = qos::at_least_once) {
  codec::will_message w;
  w.topic = topic;
  w.payload = payload;
  w.qos_level = q;
  return w;
}

codec::publish publish_packet(std::string_view topic, std::string_view payload, qos q = qos::at_most_once,
                              std::uint16_t packet_id = 0, bool retain = false) {
  codec::publish p;
  p.topic = topic;
  p.payload = payload;
  p.qos_level = q;
  p.packet_id = q == qos::at_most_once ? 0 : packet_id;
  p.retain = retain;
  return p;
}

codec::subscribe subscribe_packet(std::uint16_t packet_id, std::string_view filter, qos max_qos) {
  codec::subscribe s;
  s.packet_id = packet_id;
  codec::subscription entry;
  entry.filter = filter;
  entry.options.max_qos = max_qos;
  s.subscriptions.push_back(entry);
  return s;
}

template <class Ack>
Ack ack_of(std::uint16_t packet_id, reason_code code = reason_code::success) {
  Ack a;
  a.packet_id = packet_id;
  a.code = code;
  return a;
}

codec::disconnect disconnect_packet(reason_code code = reason_code::success) {
  codec::disconnect d;
  d.code = code;
  return d;
}

// --- steps -----------------------------------------------------------------------------------

// A client that has sent CONNECT and received a successful CONNACK.
std::unique_ptr<loopback_client> online(std::uint16_t port, const codec::connect& c,
                                        bool expect_session_present = false) {
  auto client = std::make_unique<loopback_client>(port, c.version);
  client->send(c);
  if (auto ack = client->expect<codec::connack>()) {
    EXPECT_EQ(ack->code, reason_code::success) << "CONNACK for " << c.client_id;
    EXPECT_EQ(ack->session_present, expect_session_present) << "Session Present for " << c.client_id;
  }
  return client;
}

std::unique_ptr<loopback_client> online(std::uint16_t port, protocol_version v, std::string_view client_id) {
  return online(port, connect_packet(v, client_id));
}

void subscribe(loopback_client& c, std::uint16_t packet_id, std::string_view filter, qos max_qos) {
  c.send(subscribe_packet(packet_id, filter, max_qos));
  if (auto ack = c.expect<codec::suback>()) {
    EXPECT_EQ(ack->packet_id, packet_id);
    EXPECT_EQ(ack->codes, std::vector<reason_code>{static_cast<reason_code>(max_qos)});
  }
}

// Publishes and completes the publisher's side of the QoS flow.
void publish(loopback_client& c, const codec::publish& p) {
  c.send(p);
  if (p.qos_level == qos::at_least_once) {
    if (auto ack = c.expect<codec::puback>()) {
      EXPECT_EQ(*ack, ack_of<codec::puback>(p.packet_id));
    }
  } else if (p.qos_level == qos::exactly_once) {
    if (auto rec = c.expect<codec::pubrec>()) {
      EXPECT_EQ(*rec, ack_of<codec::pubrec>(p.packet_id));
    }
    c.send(ack_of<codec::pubrel>(p.packet_id));
    if (auto comp = c.expect<codec::pubcomp>()) {
      EXPECT_EQ(*comp, ack_of<codec::pubcomp>(p.packet_id));
    }
  }
}

// Receives one PUBLISH, checks it against `expected` (whose packet_id is ignored when 0 and the
// QoS is above 0: any fresh non-zero identifier will do) and completes the receiver's side.
std::optional<codec::publish> receive(loopback_client& c, codec::publish expected) {
  auto p = c.expect<codec::publish>();
  if (!p) return std::nullopt;
  if (expected.qos_level != qos::at_most_once) {
    EXPECT_NE(p->packet_id, 0) << "v5:MQTT-2.2.1-4, v3.1.1:MQTT-2.3.1-1";
    if (expected.packet_id == 0) expected.packet_id = p->packet_id;
  }
  EXPECT_EQ(*p, expected);
  if (p->qos_level == qos::at_least_once) {
    c.send(ack_of<codec::puback>(p->packet_id));
  } else if (p->qos_level == qos::exactly_once) {
    c.send(ack_of<codec::pubrec>(p->packet_id));
    if (auto rel = c.expect<codec::pubrel>()) {
      EXPECT_EQ(*rel, ack_of<codec::pubrel>(p->packet_id));
    }
    c.send(ack_of<codec::pubcomp>(p->packet_id));
  }
  return p;
}

class broker_test : public ::testing::TestWithParam<protocol_version> {
 protected:
  protocol_version version() const { return GetParam(); }
  bool v5_mode() const { return GetParam() == v5; }
  std::uint16_t port() const { return broker_->port(); }
  void restart(server_options o) {
    broker_.reset();
    broker_ = std::make_unique<embedded_broker>(std::move(o));
  }
  std::unique_ptr<embedded_broker> broker_ = std::make_unique<embedded_broker>();
};

INSTANTIATE_TEST_SUITE_P(versions, broker_test, ::testing::Values(v311, v5), version_name);

// --- CONNECT / CONNACK -----------------------------------------------------------------------

// v3.1.1:MQTT-3.2.0-1, v3.1.1:MQTT-3.1.4-4, v3.1.1:MQTT-3.2.2-1, v5:MQTT-3.2.0-1, v5:MQTT-3.1.4-5,
// v5:MQTT-3.2.2-1, v5:MQTT-3.2.2-2
TEST_P(broker_test, connect_is_answered_by_a_successful_connack) {
  // CONNECT, Clean Session/Start 1, Keep Alive 0, client id "c1"; written by hand.
  const auto connect = v5_mode() ? hex("10 0f 00 04 4d 51 54 54 05 02 00 00 00 00 02 63 31")
                                 : hex("10 0e 00 04 4d 51 54 54 04 02 00 00 00 02 63 31");
  // 5.0: flags 0, reason 0, properties: Receive Maximum (0x21) = 100 and Topic Alias Maximum
  // (0x22) = 10, the default configuration's.
  const auto connack = v5_mode() ? hex("20 09 00 00 06 21 00 64 22 00 0a") : hex("20 02 00 00");
  loopback_client c(port(), version());
  c.send_bytes(connect);
  const arrival a = c.next();
  ASSERT_EQ(a.what, arrival::kind::packet) << a;
  EXPECT_EQ(codec::to_hex(a.raw, " "), codec::to_hex(connack, " "));
  EXPECT_TRUE(c.expect_nothing_pending());
}

// v5:MQTT-3.1.3-6, v5:MQTT-3.1.3-7, v5:MQTT-3.2.2-16, v3.1.1:MQTT-3.1.3-6
TEST_P(broker_test, empty_client_id_is_accepted_and_assigned_in_v5) {
  loopback_client c(port(), version());
  c.send(connect_packet(version(), ""));
  auto ack = c.expect<codec::connack>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->code, reason_code::success);
  EXPECT_FALSE(ack->session_present);
  if (v5_mode()) {
    ASSERT_TRUE(ack->props.assigned_client_identifier);
    EXPECT_FALSE(ack->props.assigned_client_identifier->empty());
  } else {
    EXPECT_TRUE(ack->props.empty());
  }
}

// v3.1.1:MQTT-3.1.3-8
TEST(broker_v311, empty_client_id_with_clean_session_0_is_refused_with_0x02) {
  embedded_broker b;
  loopback_client c(b.port(), v311);
  c.send_bytes(hex("10 0c 00 04 4d 51 54 54 04 00 00 00 00 00"));  // Clean Session 0, client id ""
  const arrival a = c.next();
  ASSERT_EQ(a.what, arrival::kind::packet) << a;
  EXPECT_EQ(codec::to_hex(a.raw, " "), "20 02 00 02");
  EXPECT_TRUE(c.expect_closed());
}

// v5:MQTT-3.1.4-2, v5:MQTT-3.2.2-6, v5:MQTT-3.2.2-7, v3.1.1:MQTT-3.2.2-4, v3.1.1:MQTT-3.2.2-5
TEST_P(broker_test, authentication_is_enforced) {
  server_options o = embedded_broker::default_options();
  o.core.allow_anonymous = false;
  o.core.authenticate = [](std::string_view user, std::optional<codec::bytes_view> password) {
    return user == "alice" && password == codec::bytes_view("secret");
  };
  restart(o);

  {  // no user name: 3.1.1 return code 5 (not authorized), 5.0 0x87
    loopback_client c(port(), version());
    c.send(connect_packet(version(), "anon"));
    const arrival a = c.next();
    ASSERT_EQ(a.what, arrival::kind::packet) << a;
    EXPECT_EQ(codec::to_hex(a.raw, " "), v5_mode() ? "20 03 00 87 00" : "20 02 00 05");
    EXPECT_TRUE(c.expect_closed());
  }
  {  // wrong password: 3.1.1 return code 4, 5.0 0x86
    loopback_client c(port(), version());
    auto req = connect_packet(version(), "mallory");
    req.user_name = "alice";
    req.password = codec::bytes_view("guess");
    c.send(req);
    const arrival a = c.next();
    ASSERT_EQ(a.what, arrival::kind::packet) << a;
    EXPECT_EQ(codec::to_hex(a.raw, " "), v5_mode() ? "20 03 00 86 00" : "20 02 00 04");
    EXPECT_TRUE(c.expect_closed());
  }
  {  // right password
    auto req = connect_packet(version(), "alice1");
    req.user_name = "alice";
    req.password = codec::bytes_view("secret");
    auto c = online(port(), req);
    EXPECT_TRUE(c->expect_nothing_pending());
  }
}

// --- QoS 0, 1 and 2 --------------------------------------------------------------------------

struct round_trip_case {
  protocol_version version;
  qos level;
  const char* forwarded;  // the PUBLISH the subscriber must receive, by hand (topic "t/x", payload "hi", id 1)
};

std::string round_trip_name(const ::testing::TestParamInfo<round_trip_case>& info) {
  return std::string(info.param.version == v5 ? "v5" : "v311") + "_qos" +
         std::to_string(static_cast<int>(info.param.level));
}

void PrintTo(const round_trip_case& c, std::ostream* os) {
  *os << codec::to_string(c.version) << " QoS " << static_cast<int>(c.level);
}

class round_trip : public ::testing::TestWithParam<round_trip_case> {};

INSTANTIATE_TEST_SUITE_P(
    versions_and_qos, round_trip,
    ::testing::Values(round_trip_case{v311, qos::at_most_once, "30 07 00 03 74 2f 78 68 69"},
                      round_trip_case{v311, qos::at_least_once, "32 09 00 03 74 2f 78 00 01 68 69"},
                      round_trip_case{v311, qos::exactly_once, "34 09 00 03 74 2f 78 00 01 68 69"},
                      round_trip_case{v5, qos::at_most_once, "30 08 00 03 74 2f 78 00 68 69"},
                      round_trip_case{v5, qos::at_least_once, "32 0a 00 03 74 2f 78 00 01 00 68 69"},
                      round_trip_case{v5, qos::exactly_once, "34 0a 00 03 74 2f 78 00 01 00 68 69"}),
    round_trip_name);

// v5:MQTT-3.3.4-1, v5:MQTT-4.3.1-1, v5:MQTT-4.3.2-2, v5:MQTT-4.3.2-4, v5:MQTT-4.3.3-2,
// v5:MQTT-4.3.3-4, v5:MQTT-4.3.3-8, v5:MQTT-4.3.3-11, v5:MQTT-3.3.1-3, v5:MQTT-3.3.1-12,
// v3.1.1:MQTT-3.3.4-1, v3.1.1:MQTT-4.3.1-1, v3.1.1:MQTT-4.3.2-1, v3.1.1:MQTT-4.3.2-2,
// v3.1.1:MQTT-4.3.3-1, v3.1.1:MQTT-4.3.3-2, v3.1.1:MQTT-3.3.1-3, v3.1.1:MQTT-3.3.1-9
TEST_P(round_trip, publish_reaches_the_subscriber_with_exact_packets_both_ways) {
  const auto [v, level, forwarded] = GetParam();
  embedded_broker b;
  auto sub = online(b.port(), v, "sub");
  auto pub = online(b.port(), v, "pub");
  subscribe(*sub, 1, "t/+", qos::exactly_once);

  // The publisher's PUBLISH has DUP=0 and RETAIN=0; its flow: nothing, PUBACK, or PUBREC/PUBREL/PUBCOMP.
  publish(*pub, publish_packet("t/x", "hi", level, 7));

  const arrival a = sub->next();
  ASSERT_EQ(a.what, arrival::kind::packet) << a;
  EXPECT_EQ(codec::to_hex(a.raw, " "), forwarded);
  const auto* p = std::get_if<codec::publish>(a.packet);
  ASSERT_NE(p, nullptr);
  if (level == qos::at_least_once) {
    sub->send(ack_of<codec::puback>(p->packet_id));
  } else if (level == qos::exactly_once) {
    sub->send(ack_of<codec::pubrec>(p->packet_id));
    if (auto rel = sub->expect<codec::pubrel>()) {
      EXPECT_EQ(*rel, ack_of<codec::pubrel>(p->packet_id));
    }
    sub->send(ack_of<codec::pubcomp>(p->packet_id));
  }
  EXPECT_TRUE(sub->expect_nothing_pending());
  EXPECT_TRUE(pub->expect_nothing_pending());

  // A second message gets a fresh identifier, and the subscriber's acknowledgements freed the first.
  publish(*pub, publish_packet("t/x", "again", level, 8));
  receive(*sub, publish_packet("t/x", "again", level));
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// v5:MQTT-4.3.3-10, v3.1.1:MQTT-4.3.3-2
TEST_P(broker_test, repeated_qos2_publish_is_acknowledged_but_delivered_once) {
  auto sub = online(port(), version(), "sub");
  auto pub = online(port(), version(), "pub");
  subscribe(*sub, 1, "d/#", qos::exactly_once);
  pub->send(publish_packet("d/1", "once", qos::exactly_once, 5));
  if (auto rec = pub->expect<codec::pubrec>()) {
    EXPECT_EQ(*rec, ack_of<codec::pubrec>(5));
  }
  auto again = publish_packet("d/1", "once", qos::exactly_once, 5);
  again.dup = true;
  pub->send(again);
  if (auto rec = pub->expect<codec::pubrec>()) {
    EXPECT_EQ(*rec, ack_of<codec::pubrec>(5));
  }
  pub->send(ack_of<codec::pubrel>(5));
  if (auto comp = pub->expect<codec::pubcomp>()) {
    EXPECT_EQ(*comp, ack_of<codec::pubcomp>(5));
  }
  receive(*sub, publish_packet("d/1", "once", qos::exactly_once));
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// v5:MQTT-3.8.4-8, v3.1.1:MQTT-3.8.4-6: delivered at the lower of the two QoS.
TEST_P(broker_test, delivery_uses_the_lower_of_publish_and_granted_qos) {
  auto sub = online(port(), version(), "sub");
  auto pub = online(port(), version(), "pub");
  subscribe(*sub, 1, "low/#", qos::at_least_once);
  publish(*pub, publish_packet("low/a", "two", qos::exactly_once, 1));
  receive(*sub, publish_packet("low/a", "two", qos::at_least_once));
  publish(*pub, publish_packet("low/a", "zero", qos::at_most_once));
  receive(*sub, publish_packet("low/a", "zero", qos::at_most_once));
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// v5:MQTT-3.3.2-17, v5:MQTT-3.3.2-18, v5:MQTT-3.3.2-15, v5:MQTT-3.3.2-16, v5:MQTT-3.3.2-20
TEST(broker_v5, properties_are_forwarded_unaltered_and_user_properties_in_order) {
  embedded_broker b;
  auto sub = online(b.port(), v5, "sub");
  auto pub = online(b.port(), v5, "pub");
  subscribe(*sub, 1, "props", qos::at_least_once);
  auto p = publish_packet("props", "{}", qos::at_least_once, 3);
  p.props.user_properties = {{"z", "1"}, {"a", "2"}, {"z", "0"}, {"m", ""}};
  p.props.content_type = "application/json";
  p.props.response_topic = "reply/here";
  p.props.correlation_data = codec::bytes_view("\x00\x01\x02", 3);
  p.props.payload_format_indicator = 1;
  publish(*pub, p);
  auto expected = p;
  expected.packet_id = 0;
  receive(*sub, expected);
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// A 5.0 publisher's properties do not reach a 3.1.1 subscriber, and a 3.1.1 message reaches a
// 5.0 subscriber without any.
TEST(broker_mixed, versions_interoperate) {
  embedded_broker b;
  auto old_sub = online(b.port(), v311, "old");
  auto new_sub = online(b.port(), v5, "new");
  subscribe(*old_sub, 1, "mix/#", qos::exactly_once);
  subscribe(*new_sub, 1, "mix/#", qos::exactly_once);
  auto new_pub = online(b.port(), v5, "newpub");
  auto p = publish_packet("mix/5", "from5", qos::exactly_once, 9);
  p.props.user_properties = {{"k", "v"}};
  publish(*new_pub, p);
  receive(*old_sub, publish_packet("mix/5", "from5", qos::exactly_once));
  auto with_props = publish_packet("mix/5", "from5", qos::exactly_once);
  with_props.props.user_properties = {{"k", "v"}};
  receive(*new_sub, with_props);

  auto old_pub = online(b.port(), v311, "oldpub");
  publish(*old_pub, publish_packet("mix/3", "from311", qos::at_least_once, 4));
  receive(*old_sub, publish_packet("mix/3", "from311", qos::at_least_once));
  receive(*new_sub, publish_packet("mix/3", "from311", qos::at_least_once));
  EXPECT_TRUE(old_sub->expect_nothing_pending());
  EXPECT_TRUE(new_sub->expect_nothing_pending());
}

// --- retained messages -----------------------------------------------------------------------

// v5:MQTT-3.3.1-5, v5:MQTT-3.3.1-6, v5:MQTT-3.3.1-9, v5:MQTT-3.3.1-12, v3.1.1:MQTT-3.3.1-5,
// v3.1.1:MQTT-3.3.1-6, v3.1.1:MQTT-3.3.1-8, v3.1.1:MQTT-3.3.1-9, v3.1.1:MQTT-3.3.1-10
TEST_P(broker_test, retained_message_is_delivered_to_new_subscribers_with_retain_1) {
  auto live = online(port(), version(), "live");
  subscribe(*live, 1, "r/#", qos::at_least_once);
  auto pub = online(port(), version(), "pub");
  publish(*pub, publish_packet("r/a", "kept", qos::at_least_once, 1, true));
  // An established subscription gets it with RETAIN=0.
  receive(*live, publish_packet("r/a", "kept", qos::at_least_once));

  // A new subscription gets it with RETAIN=1, right after its SUBACK, at the lower QoS.
  auto late = online(port(), version(), "late");
  subscribe(*late, 1, "r/+", qos::at_most_once);
  receive(*late, publish_packet("r/a", "kept", qos::at_most_once, 0, true));
  EXPECT_TRUE(late->expect_nothing_pending());

  // A RETAIN=1 PUBLISH with an empty payload is forwarded, and clears the retained message.
  publish(*pub, publish_packet("r/a", "", qos::at_least_once, 2, true));
  receive(*live, publish_packet("r/a", "", qos::at_least_once));
  auto later = online(port(), version(), "later");
  subscribe(*later, 1, "r/#", qos::at_least_once);
  EXPECT_TRUE(later->expect_nothing_pending());
}

// v5:MQTT-3.3.1-8, v3.1.1:MQTT-3.3.1-12
TEST_P(broker_test, retain_0_publish_leaves_the_retained_message_alone) {
  auto pub = online(port(), version(), "pub");
  publish(*pub, publish_packet("r2/a", "first", qos::at_least_once, 1, true));
  publish(*pub, publish_packet("r2/a", "not retained", qos::at_least_once, 2, false));
  auto sub = online(port(), version(), "sub");
  subscribe(*sub, 1, "r2/a", qos::at_least_once);
  receive(*sub, publish_packet("r2/a", "first", qos::at_least_once, 0, true));
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// --- wills -----------------------------------------------------------------------------------

// v5:MQTT-3.1.2-7, v5:MQTT-3.1.2-8, v5:MQTT-3.1.2-14, v3.1.1:MQTT-3.1.2-8, v3.1.1:MQTT-3.1.2-16
TEST_P(broker_test, will_is_published_when_the_connection_ends_without_disconnect) {
  auto watcher = online(port(), version(), "watcher");
  subscribe(*watcher, 1, "will/#", qos::at_least_once);
  auto req = connect_packet(version(), "mortal");
  req.will = will_of("will/mortal", "gone");
  auto mortal = online(port(), req);
  EXPECT_TRUE(mortal->expect_nothing_pending());
  mortal->drop();  // TCP close, no DISCONNECT
  receive(*watcher, publish_packet("will/mortal", "gone", qos::at_least_once));
  EXPECT_TRUE(watcher->expect_nothing_pending());
}

// v5:MQTT-3.1.2-10, v5:MQTT-3.14.4-3, v3.1.1:MQTT-3.1.2-10, v3.1.1:MQTT-3.14.4-3
TEST_P(broker_test, no_will_after_disconnect) {
  auto watcher = online(port(), version(), "watcher");
  subscribe(*watcher, 1, "will/#", qos::at_least_once);
  auto req = connect_packet(version(), "polite");
  req.will = will_of("will/polite", "gone");
  auto polite = online(port(), req);
  polite->send(disconnect_packet());
  EXPECT_TRUE(polite->expect_closed());  // the broker has handled the DISCONNECT and the close
  // Anything the close set off is queued to the watcher before this marker.
  auto other = online(port(), version(), "other");
  publish(*other, publish_packet("will/polite", "marker", qos::at_least_once, 1));
  receive(*watcher, publish_packet("will/polite", "marker", qos::at_least_once));
  EXPECT_TRUE(watcher->expect_nothing_pending());
}

// v5:MQTT-3.1.2-8 (DISCONNECT 0x04 keeps the Will), v5:MQTT-3.1.2-15
TEST(broker_v5, disconnect_with_will_message_publishes_the_will_retained) {
  embedded_broker b;
  auto watcher = online(b.port(), v5, "watcher");
  subscribe(*watcher, 1, "will/#", qos::at_least_once);
  auto req = connect_packet(v5, "leaving");
  req.will = will_of("will/leaving", "bye");
  req.will->retain = true;
  auto leaving = online(b.port(), req);
  leaving->send(disconnect_packet(reason_code::disconnect_with_will_message));
  EXPECT_TRUE(leaving->expect_closed());
  receive(*watcher, publish_packet("will/leaving", "bye", qos::at_least_once));
  // Will Retain 1: stored as a retained message.
  auto late = online(b.port(), v5, "late");
  subscribe(*late, 1, "will/leaving", qos::at_least_once);
  receive(*late, publish_packet("will/leaving", "bye", qos::at_least_once, 0, true));
}

// --- sessions --------------------------------------------------------------------------------

// v5:MQTT-3.1.4-3, v3.1.1:MQTT-3.1.4-2
TEST_P(broker_test, same_client_id_takes_the_session_over) {
  auto watcher = online(port(), version(), "watcher");
  subscribe(*watcher, 1, "will/#", qos::at_least_once);
  auto req = connect_packet(version(), "twin");
  req.will = will_of("will/twin", "first twin gone");
  auto first = online(port(), req);
  auto second = online(port(), connect_packet(version(), "twin"));
  if (v5_mode()) {
    if (auto d = first->expect<codec::disconnect>()) {
      EXPECT_EQ(d->code, reason_code::session_taken_over);
    }
  }
  EXPECT_TRUE(first->expect_closed());
  // The first connection ended without DISCONNECT: its Will goes out.
  receive(*watcher, publish_packet("will/twin", "first twin gone", qos::at_least_once));
  // The new connection works.
  subscribe(*second, 1, "twin/#", qos::at_most_once);
  publish(*second, publish_packet("twin/x", "me", qos::at_most_once));
  receive(*second, publish_packet("twin/x", "me", qos::at_most_once));
}

codec::connect persistent_connect(protocol_version v, std::string_view id) {
  auto c = connect_packet(v, id, false);
  if (v == v5) c.props.session_expiry_interval = 60;
  return c;
}

// v5:MQTT-3.1.2-5, v5:MQTT-3.1.2-6, v5:MQTT-3.1.2-23, v5:MQTT-3.2.2-3, v5:MQTT-3.1.2-4,
// v3.1.1:MQTT-3.1.2-4, v3.1.1:MQTT-3.1.2-5, v3.1.1:MQTT-3.2.2-2, v3.1.1:MQTT-3.2.2-3, v3.1.1:MQTT-3.1.2-6
TEST_P(broker_test, persistent_session_receives_what_was_published_while_offline) {
  {
    auto sub = online(port(), persistent_connect(version(), "keeper"), false);  // no Session yet
    subscribe(*sub, 1, "q/#", qos::exactly_once);
    sub->send(disconnect_packet());
    EXPECT_TRUE(sub->expect_closed());
  }
  auto pub = online(port(), version(), "pub");
  publish(*pub, publish_packet("q/1", "while away 1", qos::at_least_once, 1));
  publish(*pub, publish_packet("q/2", "while away 2", qos::exactly_once, 2));

  auto sub = online(port(), persistent_connect(version(), "keeper"), true);  // Session Present = 1
  receive(*sub, publish_packet("q/1", "while away 1", qos::at_least_once));
  receive(*sub, publish_packet("q/2", "while away 2", qos::exactly_once));
  EXPECT_TRUE(sub->expect_nothing_pending());
  sub->send(disconnect_packet());
  EXPECT_TRUE(sub->expect_closed());

  // Clean Start 1 discards the Session and its subscriptions.
  auto fresh = online(port(), connect_packet(version(), "keeper", true), false);
  publish(*pub, publish_packet("q/3", "nobody listens", qos::at_least_once, 3));
  EXPECT_TRUE(fresh->expect_nothing_pending());
}

// v5:MQTT-4.4.0-1, v5:MQTT-3.3.1-1, v3.1.1:MQTT-4.4.0-1, v3.1.1:MQTT-3.3.1-1
TEST_P(broker_test, unacknowledged_publish_is_resent_with_dup_on_session_resume) {
  auto pub = online(port(), version(), "pub");
  std::uint16_t first_id = 0;
  {
    auto sub = online(port(), persistent_connect(version(), "forgetful"), false);
    subscribe(*sub, 1, "u/#", qos::at_least_once);
    publish(*pub, publish_packet("u/1", "unacked", qos::at_least_once, 1));
    auto p = sub->expect<codec::publish>();
    ASSERT_TRUE(p);
    EXPECT_FALSE(p->dup);
    first_id = p->packet_id;
    sub->drop();  // no PUBACK
  }
  // The broker may not have seen the close yet: take over the Session rather than race it.
  auto sub = online(port(), persistent_connect(version(), "forgetful"), true);
  auto resent = publish_packet("u/1", "unacked", qos::at_least_once, first_id);
  resent.dup = true;
  receive(*sub, resent);
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// v5:MQTT-3.1.4-3, v5:MQTT-3.1.2-5, v5:MQTT-3.2.2-3, v3.1.1:MQTT-3.1.4-2, v3.1.1:MQTT-3.1.2-4,
// v3.1.1:MQTT-3.2.2-2: a takeover with Clean Start 0 keeps the Session and its subscriptions.
TEST_P(broker_test, takeover_with_clean_start_0_resumes_the_session) {
  auto first = online(port(), persistent_connect(version(), "mover"), false);
  subscribe(*first, 1, "mv/#", qos::at_least_once);
  auto second = online(port(), persistent_connect(version(), "mover"), true);
  if (v5_mode()) {
    if (auto d = first->expect<codec::disconnect>()) {
      EXPECT_EQ(d->code, reason_code::session_taken_over);
    }
  }
  EXPECT_TRUE(first->expect_closed());
  auto pub = online(port(), version(), "pub");
  publish(*pub, publish_packet("mv/1", "to the new connection", qos::at_least_once, 1));
  receive(*second, publish_packet("mv/1", "to the new connection", qos::at_least_once));
  EXPECT_TRUE(second->expect_nothing_pending());
}

// v5:MQTT-4.4.0-1, v3.1.1:MQTT-4.4.0-1: a PUBREL not yet completed is sent again on resume.
TEST_P(broker_test, unacknowledged_pubrel_is_resent_on_session_resume) {
  auto pub = online(port(), version(), "pub");
  std::uint16_t id = 0;
  {
    auto sub = online(port(), persistent_connect(version(), "halfway"), false);
    subscribe(*sub, 1, "h/#", qos::exactly_once);
    publish(*pub, publish_packet("h/1", "two steps", qos::exactly_once, 1));
    auto p = sub->expect<codec::publish>();
    ASSERT_TRUE(p);
    id = p->packet_id;
    sub->send(ack_of<codec::pubrec>(id));
    if (auto rel = sub->expect<codec::pubrel>()) {
      EXPECT_EQ(*rel, ack_of<codec::pubrel>(id));
    }
    sub->drop();  // no PUBCOMP
  }
  auto sub = online(port(), persistent_connect(version(), "halfway"), true);
  if (auto rel = sub->expect<codec::pubrel>()) {
    EXPECT_EQ(*rel, ack_of<codec::pubrel>(id));  // not the PUBLISH again (v5:MQTT-4.3.3-6)
  }
  sub->send(ack_of<codec::pubcomp>(id));
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// v5:MQTT-4.1.0-2: the Session is gone once its expiry interval has run out after the close.
TEST(broker_v5, session_expires_after_its_interval) {
  embedded_broker b;
  auto req = connect_packet(v5, "brief", false);
  req.props.session_expiry_interval = 1;
  {
    auto c = online(b.port(), req, false);
    subscribe(*c, 1, "brief/#", qos::at_least_once);
    c->send(disconnect_packet());
    EXPECT_TRUE(c->expect_closed());
  }
  {  // within the interval: still there
    auto c = online(b.port(), req, true);
    c->send(disconnect_packet());
    EXPECT_TRUE(c->expect_closed());
  }
  loopback_client idle(b.port(), v5);
  EXPECT_EQ(idle.next(1500ms).what, arrival::kind::timeout);  // time is the point: outlive the interval
  auto c = online(b.port(), req, false);                       // Session Present 0: it expired
}

// v5:MQTT-4.6.0-5, v5:MQTT-4.6.0-6, v3.1.1:MQTT-4.6.0-5, v3.1.1:MQTT-4.6.0-6
TEST_P(broker_test, messages_of_one_topic_arrive_in_order) {
  auto sub = online(port(), version(), "sub");
  subscribe(*sub, 1, "ord", qos::exactly_once);
  auto pub = online(port(), version(), "pub");
  std::vector<std::string> payloads;
  for (int i = 0; i < 30; ++i) payloads.push_back("m" + std::to_string(i));
  for (std::size_t i = 0; i < payloads.size(); ++i) {  // pipelined: no waiting for acknowledgements
    pub->send(publish_packet("ord", payloads[i], qos::at_least_once, static_cast<std::uint16_t>(i + 1)));
  }
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    if (auto ack = pub->expect<codec::puback>()) {
      EXPECT_EQ(ack->packet_id, i + 1) << "PUBACKs in order";
    }
  }
  for (const auto& payload : payloads) receive(*sub, publish_packet("ord", payload, qos::at_least_once));
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// v5:MQTT-3.3.4-9, v5:MQTT-3.3.4-10: no more unacknowledged PUBLISHes than the client's Receive
// Maximum; other packets still flow.
TEST(broker_v5, client_receive_maximum_limits_publishes_in_flight) {
  embedded_broker b;
  auto req = connect_packet(v5, "slow");
  req.props.receive_maximum = 2;
  auto sub = online(b.port(), req);
  subscribe(*sub, 1, "rm", qos::at_least_once);
  auto pub = online(b.port(), v5, "pub");
  for (std::uint16_t i = 1; i <= 5; ++i) publish(*pub, publish_packet("rm", std::to_string(i), qos::at_least_once, i));
  auto p1 = sub->expect<codec::publish>();
  auto p2 = sub->expect<codec::publish>();
  ASSERT_TRUE(p1 && p2);
  EXPECT_EQ(p1->payload, "1");
  EXPECT_EQ(p2->payload, "2");
  EXPECT_TRUE(sub->expect_nothing_pending()) << "a third PUBLISH beyond Receive Maximum 2";
  sub->send(ack_of<codec::puback>(p1->packet_id));
  auto p3 = sub->expect<codec::publish>();
  ASSERT_TRUE(p3);
  EXPECT_EQ(p3->payload, "3");
  EXPECT_TRUE(sub->expect_nothing_pending()) << "2 and 3 are in flight";
  sub->send(ack_of<codec::puback>(p2->packet_id));
  sub->send(ack_of<codec::puback>(p3->packet_id));
  receive(*sub, publish_packet("rm", "4", qos::at_least_once));
  receive(*sub, publish_packet("rm", "5", qos::at_least_once));
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// v5:MQTT-3.1.2-24, v5:MQTT-3.1.2-25: what the client cannot receive is dropped, the rest flows.
TEST(broker_v5, publish_larger_than_the_clients_maximum_packet_size_is_dropped) {
  embedded_broker b;
  auto req = connect_packet(v5, "small");
  req.props.maximum_packet_size = 64;
  auto sub = online(b.port(), req);
  subscribe(*sub, 1, "sz", qos::at_least_once);
  auto pub = online(b.port(), v5, "pub");
  publish(*pub, publish_packet("sz", std::string(100, 'x'), qos::at_least_once, 1));
  publish(*pub, publish_packet("sz", "fits", qos::at_least_once, 2));
  receive(*sub, publish_packet("sz", "fits", qos::at_least_once));
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// v5:MQTT-3.3.2-12, v5:MQTT-3.3.2-9: inbound Topic Aliases up to the announced
// maximum are resolved; a larger one is answered with DISCONNECT 0x94.
TEST(broker_v5, inbound_topic_aliases) {
  server_options o = embedded_broker::default_options();
  o.core.limits.topic_alias_maximum = 3;
  embedded_broker b(o);
  auto sub = online(b.port(), v5, "sub");
  subscribe(*sub, 1, "alias/#", qos::at_most_once);
  loopback_client pub(b.port(), v5);
  pub.send(connect_packet(v5, "pub"));
  if (auto ack = pub.expect<codec::connack>()) {
    EXPECT_EQ(ack->props.topic_alias_maximum, std::optional<std::uint16_t>(3));
  }
  auto first = publish_packet("alias/long/topic", "set");
  first.props.topic_alias = 3;
  pub.send(first);
  auto second = publish_packet("", "use");
  second.props.topic_alias = 3;
  pub.send(second);
  receive(*sub, publish_packet("alias/long/topic", "set"));  // the alias is not forwarded
  receive(*sub, publish_packet("alias/long/topic", "use"));
  auto too_big = publish_packet("alias/x", "no");
  too_big.props.topic_alias = 4;
  pub.send(too_big);
  if (auto d = pub.expect<codec::disconnect>()) {
    EXPECT_EQ(d->code, reason_code::topic_alias_invalid);
  }
  EXPECT_TRUE(pub.expect_closed());
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// v5:MQTT-4.7.2-1, v3.1.1:MQTT-4.7.2-1
TEST_P(broker_test, wildcards_at_the_first_level_do_not_match_dollar_topics) {
  auto everything = online(port(), version(), "everything");
  subscribe(*everything, 1, "#", qos::at_least_once);
  subscribe(*everything, 2, "+/x", qos::at_least_once);
  auto dollar = online(port(), version(), "dollar");
  subscribe(*dollar, 1, "$app/#", qos::at_least_once);
  auto pub = online(port(), version(), "pub");
  publish(*pub, publish_packet("$app/x", "hidden", qos::at_least_once, 1));
  receive(*dollar, publish_packet("$app/x", "hidden", qos::at_least_once));
  EXPECT_TRUE(everything->expect_nothing_pending());
}

// v5:MQTT-3.10.4-1, v5:MQTT-3.10.4-4, v5:MQTT-3.10.4-5, v5:MQTT-3.11.3-1, v3.1.1:MQTT-3.10.4-1,
// v3.1.1:MQTT-3.10.4-4, v3.1.1:MQTT-3.10.4-5
TEST_P(broker_test, unsubscribe_removes_exactly_the_named_filter) {
  auto sub = online(port(), version(), "sub");
  subscribe(*sub, 1, "un/+", qos::at_least_once);
  codec::unsubscribe u;
  u.packet_id = 9;
  u.filters = {"un/#", "un/+"};  // the first never existed: wildcards compare literally
  sub->send(u);
  if (auto ack = sub->expect<codec::unsuback>()) {
    EXPECT_EQ(ack->packet_id, 9);
    if (v5_mode()) {
      EXPECT_EQ(ack->codes, (std::vector<reason_code>{reason_code::no_subscription_existed, reason_code::success}));
    } else {
      EXPECT_TRUE(ack->codes.empty());
    }
  }
  auto pub = online(port(), version(), "pub");
  publish(*pub, publish_packet("un/1", "gone", qos::at_least_once, 1));
  EXPECT_TRUE(sub->expect_nothing_pending());
}

// v5:MQTT-3.1.4-5, v3.1.1:MQTT-3.1.4-4: packets pipelined behind CONNECT are handled after the
// CONNACK; a CONNECT arriving one byte per segment is assembled.
TEST_P(broker_test, connect_in_pieces_and_pipelined_packets) {
  loopback_client c(port(), version());
  codec::bytes connect = *codec::encode(connect_packet(version(), "pieces"), version());
  for (char byte : connect) {
    c.send_bytes(codec::bytes_view(&byte, 1));
    ASSERT_TRUE(broker_has_read_all(port(), c));
  }
  ASSERT_TRUE(c.expect<codec::connack>());

  loopback_client p(port(), version());
  codec::bytes burst = *codec::encode(connect_packet(version(), "burst"), version());
  burst += *codec::encode(subscribe_packet(1, "burst", qos::at_least_once), version());
  burst += *codec::encode(publish_packet("burst", "self", qos::at_least_once, 2), version());
  p.send_bytes(burst);
  if (auto ack = p.expect<codec::connack>()) {
    EXPECT_EQ(ack->code, reason_code::success);
  }
  if (auto ack = p.expect<codec::suback>()) {
    EXPECT_EQ(ack->packet_id, 1);
  }
  // The broker routes before acknowledging: the message to ourselves, then the PUBACK.
  receive(p, publish_packet("burst", "self", qos::at_least_once));
  if (auto ack = p.expect<codec::puback>()) {
    EXPECT_EQ(ack->packet_id, 2);
  }
}

// --- keep alive ------------------------------------------------------------------------------

// v5:MQTT-3.1.2-22, v5:MQTT-3.2.2-22, v3.1.1:MQTT-3.1.2-24 (and the Will: v5:MQTT-3.1.2-8,
// v3.1.1:MQTT-3.1.2-8)
TEST_P(broker_test, silent_client_is_closed_after_one_and_a_half_keep_alives_and_its_will_published) {
  auto watcher = online(port(), version(), "watcher");
  subscribe(*watcher, 1, "will/#", qos::at_least_once);
  auto req = connect_packet(version(), "sleepy", true, 1);
  req.will = will_of("will/sleepy", "timed out");
  const auto start = std::chrono::steady_clock::now();
  auto sleepy = online(port(), req);
  if (v5_mode()) {  // 5.0 lets the Server say why first (§4.13, reason code 0x8D)
    if (auto d = sleepy->expect<codec::disconnect>(3s)) {
      EXPECT_EQ(d->code, reason_code::keep_alive_timeout);
    }
  }
  EXPECT_TRUE(sleepy->expect_closed(3s));
  const auto elapsed = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_GE(elapsed, 1490ms) << "closed before 1.5 x Keep Alive";
  EXPECT_LT(elapsed, 3000ms) << "not closed soon after 1.5 x Keep Alive";
  receive(*watcher, publish_packet("will/sleepy", "timed out", qos::at_least_once));
}

// v5:MQTT-3.1.2-22, v3.1.1:MQTT-3.1.2-24: any packet restarts the Keep Alive period.
TEST_P(broker_test, pingreq_keeps_the_connection_alive) {
  const auto start = std::chrono::steady_clock::now();
  auto c = online(port(), connect_packet(version(), "pinger", true, 1));
  // Time is the point here: each PINGREQ comes 1 s after the last packet, within 1.5 s.
  auto last = start;
  for (int i = 1; i <= 2; ++i) {
    EXPECT_EQ(c->next(1s).what, arrival::kind::timeout) << "closed while the client was keeping alive";
    last = std::chrono::steady_clock::now();
    EXPECT_TRUE(c->expect_nothing_pending());
  }
  EXPECT_GE(last - start, 2s);
  if (v5_mode()) {
    if (auto d = c->expect<codec::disconnect>(3s)) {
      EXPECT_EQ(d->code, reason_code::keep_alive_timeout);
    }
  }
  EXPECT_TRUE(c->expect_closed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - last, 1490ms);
}

// v5:MQTT-3.2.2-21: Server Keep Alive replaces the client's value.
TEST(broker_v5, server_keep_alive_overrides_the_clients) {
  server_options o = embedded_broker::default_options();
  o.core.server_keep_alive = 1;
  embedded_broker b(o);
  loopback_client c(b.port(), v5);
  const auto start = std::chrono::steady_clock::now();
  c.send(connect_packet(v5, "overridden", true, 600));
  auto ack = c.expect<codec::connack>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->props.server_keep_alive, std::optional<std::uint16_t>(1));
  if (auto d = c.expect<codec::disconnect>(3s)) {
    EXPECT_EQ(d->code, reason_code::keep_alive_timeout);
  }
  EXPECT_TRUE(c.expect_closed());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1490ms);
}

// --- malformed and forbidden input -----------------------------------------------------------

struct bad_input_case {
  const char* name;
  const char* v311_hex;
  const char* v5_hex;
  const char* statements;  // what the input violates
};

const bad_input_case bad_inputs[] = {
    {"publish_qos_3", "36 09 00 03 6d 2f 78 00 01 68 69", "36 0a 00 03 6d 2f 78 00 01 00 68 69",
     "v3.1.1:MQTT-3.3.1-4, v5:MQTT-3.3.1-4"},
    {"topic_not_utf8", "30 07 00 03 6d 2f ff 68 69", "30 08 00 03 6d 2f ff 00 68 69",
     "v3.1.1:MQTT-1.5.3-1, v5:MQTT-1.5.4-1"},
    {"topic_with_surrogate", "30 09 00 05 6d 2f ed a0 80 68 69", "30 0a 00 05 6d 2f ed a0 80 00 68 69",
     "v3.1.1:MQTT-1.5.3-1, v5:MQTT-1.5.4-1"},
    {"topic_with_null", "30 07 00 03 6d 2f 00 68 69", "30 08 00 03 6d 2f 00 00 68 69",
     "v3.1.1:MQTT-1.5.3-2, v5:MQTT-1.5.4-2"},
    {"subscribe_reserved_flags_0", "80 08 00 01 00 03 6d 2f 78 01", "80 09 00 01 00 00 03 6d 2f 78 01",
     "v3.1.1:MQTT-3.8.1-1, v5:MQTT-3.8.1-1"},
    {"remaining_length_5_bytes", "30 80 80 80 80 01", "30 80 80 80 80 01", "v3.1.1:§2.2.3, v5:§1.5.5"},
};

struct bad_input_param {
  protocol_version version;
  bad_input_case input;
};

void PrintTo(const bad_input_param& p, std::ostream* os) {
  *os << codec::to_string(p.version) << " " << p.input.name << " (" << p.input.statements << ")";
}

class bad_input : public ::testing::TestWithParam<bad_input_param> {};

std::vector<bad_input_param> bad_input_params() {
  std::vector<bad_input_param> out;
  for (auto v : {v311, v5})
    for (const auto& c : bad_inputs) out.push_back({v, c});
  return out;
}

std::string bad_input_name(const ::testing::TestParamInfo<bad_input_param>& info) {
  return std::string(info.param.version == v5 ? "v5_" : "v311_") + info.param.input.name;
}

INSTANTIATE_TEST_SUITE_P(cases, bad_input, ::testing::ValuesIn(bad_input_params()), bad_input_name);

// v5:MQTT-4.13.1-1, v5:MQTT-4.13.2-1, v3.1.1:MQTT-4.8.0-1, and the statement of each input.
// 5.0: DISCONNECT 0x81 (Malformed Packet) then close; 3.1.1: close. Other clients carry on.
TEST_P(bad_input, closes_only_the_offending_connection) {
  const auto [v, input] = GetParam();
  SCOPED_TRACE(input.statements);
  embedded_broker b;
  auto bystander = online(b.port(), v, "bystander");
  subscribe(*bystander, 1, "m/#", qos::at_least_once);
  auto culprit = online(b.port(), v, "culprit");
  culprit->send_bytes(hex(v == v5 ? input.v5_hex : input.v311_hex));
  if (v == v5) {
    const arrival a = culprit->next();
    ASSERT_EQ(a.what, arrival::kind::packet) << a;
    EXPECT_EQ(codec::to_hex(a.raw, " "), "e0 01 81") << a;  // DISCONNECT, 0x81, no properties
  }
  EXPECT_TRUE(culprit->expect_closed());

  // Nothing of the bad packet was forwarded, and the others are served as before.
  auto publisher = online(b.port(), v, "publisher");
  publish(*publisher, publish_packet("m/ok", "still here", qos::at_least_once, 2));
  receive(*bystander, publish_packet("m/ok", "still here", qos::at_least_once));
  EXPECT_TRUE(bystander->expect_nothing_pending());
  auto newcomer = online(b.port(), v, "newcomer");
  EXPECT_TRUE(newcomer->expect_nothing_pending());
}

// v5:MQTT-3.1.0-1, v3.1.1:MQTT-3.1.0-1, v3.1.1:MQTT-4.8.0-1
TEST(broker_connect, first_packet_other_than_connect_closes_without_answer) {
  embedded_broker b;
  for (const char* first : {"c0 00", "30 05 00 01 61 68 69", "e0 00"}) {
    SCOPED_TRACE(first);
    loopback_client c(b.port(), v5);
    c.send_bytes(hex(first));
    EXPECT_TRUE(c.expect_closed());
  }
}

// v5:MQTT-3.1.0-2, v3.1.1:MQTT-3.1.0-2: 5.0 DISCONNECT 0x82 (Protocol Error) then close.
TEST_P(broker_test, second_connect_closes_the_connection) {
  auto c = online(port(), version(), "twice");
  c->send(connect_packet(version(), "twice"));
  if (v5_mode()) {
    const arrival a = c->next();
    ASSERT_EQ(a.what, arrival::kind::packet) << a;
    EXPECT_EQ(codec::to_hex(a.raw, " "), "e0 01 82");
  }
  EXPECT_TRUE(c->expect_closed());
}

// v5:MQTT-4.12.0-7: no Authentication Method in CONNECT, so AUTH is a Protocol Error.
TEST(broker_v5, auth_without_authentication_method_is_a_protocol_error) {
  embedded_broker b;
  auto c = online(b.port(), v5, "authless");
  c->send_bytes(hex("f0 00"));  // AUTH, Success, no properties
  if (auto d = c->expect<codec::disconnect>()) {
    EXPECT_EQ(d->code, reason_code::protocol_error);
  }
  EXPECT_TRUE(c->expect_closed());
}

// --- sizes and resources ---------------------------------------------------------------------

// The fixed header of a PUBLISH claiming the largest Remaining Length there is (268,435,455
// bytes), followed by the start of a body.
const codec::bytes huge_publish_header = *codec::from_hex("30 ff ff ff 7f 00 03 62 69 67");

// Bounded resources: with no size limit configured, a claimed 256 MB body is awaited, not
// allocated; everyone else is served meanwhile.
TEST_P(broker_test, huge_remaining_length_claim_is_not_allocated) {
  auto bystander = online(port(), version(), "bystander");
  subscribe(*bystander, 1, "big/#", qos::at_least_once);
  auto claimant = online(port(), version(), "claimant");
  EXPECT_TRUE(claimant->expect_nothing_pending());
  const std::size_t before = heap_in_use();
  claimant->send_bytes(huge_publish_header);
  ASSERT_TRUE(broker_has_read_all(port(), *claimant));
  auto publisher = online(port(), version(), "publisher");
  publish(*publisher, publish_packet("big/ok", "served", qos::at_least_once, 1));
  receive(*bystander, publish_packet("big/ok", "served", qos::at_least_once));
  EXPECT_TRUE(bystander->expect_nothing_pending());
  const std::size_t after = heap_in_use();
  EXPECT_LT(after, before + 16 * 1024 * 1024) << "heap grew from " << before << " to " << after;
  EXPECT_EQ(claimant->next(100ms).what, arrival::kind::timeout) << "the broker answered a partial packet";
}

// v5:MQTT-3.2.2-15: with a Maximum Packet Size configured (announced in the 5.0 CONNACK), a
// larger packet is refused from its fixed header: 5.0 DISCONNECT 0x95 (Packet too large) then
// close; 3.1.1 (no such statement: an implementation limit) close.
TEST_P(broker_test, packet_over_the_maximum_packet_size_is_refused_from_its_header) {
  server_options o = embedded_broker::default_options();
  o.core.limits.maximum_packet_size = 1024;
  restart(o);
  auto bystander = online(port(), version(), "bystander");
  loopback_client claimant(port(), version());
  claimant.send(connect_packet(version(), "claimant"));
  auto ack = claimant.expect<codec::connack>();
  ASSERT_TRUE(ack);
  if (v5_mode()) {
    EXPECT_EQ(ack->props.maximum_packet_size, std::optional<std::uint32_t>(1024));
  }
  const std::size_t before = heap_in_use();
  claimant.send_bytes(huge_publish_header);
  if (v5_mode()) {
    const arrival a = claimant.next();
    ASSERT_EQ(a.what, arrival::kind::packet) << a;
    EXPECT_EQ(codec::to_hex(a.raw, " "), "e0 01 95");
  }
  EXPECT_TRUE(claimant.expect_closed());
  EXPECT_LT(heap_in_use(), before + 16 * 1024 * 1024);
  EXPECT_TRUE(bystander->expect_nothing_pending());

  // A packet of exactly the limit is accepted: PUBLISH QoS 0, topic "fit", 1024 bytes in all
  // (fixed header 3 bytes, topic 2 + 3, 5.0 property length 1, payload the rest).
  subscribe(*bystander, 1, "fit", qos::at_most_once);
  const std::string payload(1024 - 3 - 5 - (v5_mode() ? 1 : 0), 'x');
  const auto fits = publish_packet("fit", payload, qos::at_most_once);
  ASSERT_EQ(codec::encode(fits, version())->size(), 1024u);
  publish(*bystander, fits);
  receive(*bystander, fits);
  EXPECT_TRUE(bystander->expect_nothing_pending());
}

// v3.1.1:MQTT-3.1.4-1, v3.1.1:MQTT-3.2.2-6: a 3.1.1 client whose CONNECT the broker cannot accept
// and for which no 3.1.1 return code fits is closed without a CONNACK. While the protocol level is
// unknown (the CONNECT was refused from its fixed header) the broker cannot answer in the client's
// format, and closing is also right for 5.0 (v5:MQTT-4.13.1-1: the CONNACK is optional there).
TEST(broker_connect, no_connack_before_the_protocol_level_is_known) {
  server_options o = embedded_broker::default_options();
  o.core.limits.maximum_packet_size = 1024;
  embedded_broker b(o);
  for (const char* first : {
           "10 ff ff ff 7f 00 04 4d 51 54 54 04",  // 3.1.1 CONNECT over the Maximum Packet Size
           "10 80 80 80 80 01",                    // CONNECT with a five-byte Remaining Length
           "30 80 80 80 80 01",                    // not even a CONNECT
       }) {
    SCOPED_TRACE(first);
    loopback_client c(b.port(), v311);
    c.send_bytes(hex(first));
    EXPECT_TRUE(c.expect_closed());
  }
}

// MQTT 3.1 (protocol name "MQIsdp", level 3) clients are accepted too.
TEST(broker_connect, mqtt_3_1_client_is_accepted) {
  embedded_broker b;
  loopback_client c(b.port(), protocol_version::v3_1);
  c.send_bytes(hex("10 10 00 06 4d 51 49 73 64 70 03 02 00 00 00 02 63 31"));  // client id "c1"
  const arrival a = c.next();
  ASSERT_EQ(a.what, arrival::kind::packet) << a;
  EXPECT_EQ(codec::to_hex(a.raw, " "), "20 02 00 00");
  subscribe(c, 1, "old/#", qos::exactly_once);
  auto modern = online(b.port(), v5, "modern");
  publish(*modern, publish_packet("old/x", "to 3.1", qos::exactly_once, 1));
  receive(c, publish_packet("old/x", "to 3.1", qos::exactly_once));
  EXPECT_TRUE(c.expect_nothing_pending());
}

// --- operating -------------------------------------------------------------------------------

TEST(broker_operation, connection_without_connect_is_closed_after_the_connect_timeout) {
  server_options o = embedded_broker::default_options();
  o.core.limits.connect_timeout = 300;
  embedded_broker b(o);
  loopback_client c(b.port(), v5);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.expect_closed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
}

TEST(broker_operation, connections_beyond_the_maximum_are_refused) {
  server_options o = embedded_broker::default_options();
  o.max_connections = 1;
  embedded_broker b(o);
  auto first = online(b.port(), v5, "first");
  loopback_client second(b.port(), v5);
  EXPECT_TRUE(second.expect_closed());
  EXPECT_TRUE(first->expect_nothing_pending());
}

// Bounded resources: a subscriber that does not read is dropped once the bytes queued for it pass
// server_options::max_write_backlog; the broker carries on for everyone else. QoS 1 here: QoS 0
// PUBLISHes are not queued past half of it (the next test).
TEST(broker_operation, client_that_does_not_read_is_dropped) {
  server_options o = embedded_broker::default_options();
  o.max_write_backlog = 64 * 1024;
  embedded_broker b(o);
  auto deaf = online(b.port(), v5, "deaf");
  subscribe(*deaf, 1, "flood", qos::at_least_once);
  auto pub = online(b.port(), v5, "pub");
  // 16 MB in all: more than the kernel's socket buffers between the broker and `deaf` can hold.
  const std::string payload(4096, 'f');
  constexpr int count = 4096;
  for (int i = 0; i < count / 64; ++i) {
    std::string burst;
    for (int j = 1; j <= 64; ++j) {
      auto p = publish_packet("flood", payload, qos::at_least_once);
      p.packet_id = static_cast<std::uint16_t>(i * 64 + j);
      burst += *codec::encode(p, v5);
    }
    pub->send_bytes(burst);
  }
  for (int i = 0; i < count; ++i) ASSERT_TRUE(pub->expect<codec::puback>(30s));
  EXPECT_TRUE(pub->expect_nothing_pending(30s));  // the broker has handled every PUBLISH

  int received = 0;
  arrival a = deaf->next();
  for (; a.what == arrival::kind::packet; a = deaf->next()) ++received;
  EXPECT_EQ(a.what, arrival::kind::closed) << a;
  EXPECT_LT(received, count) << "the non-reading client was never dropped";
  auto newcomer = online(b.port(), v5, "newcomer");
  EXPECT_TRUE(newcomer->expect_nothing_pending());
}

// QoS 0 is dropped first: past half of max_write_backlog the QoS 0 PUBLISHes for a client that
// does not read are dropped instead of queued, so it stays connected with a bounded backlog, and
// what it gets once it reads is still well-formed, in order.
TEST(broker_operation, qos0_for_a_client_that_does_not_read_is_dropped_first) {
  server_options o = embedded_broker::default_options();
  o.max_write_backlog = 64 * 1024;
  embedded_broker b(o);
  auto deaf = online(b.port(), v5, "deaf");
  subscribe(*deaf, 1, "flood", qos::at_most_once);
  auto pub = online(b.port(), v5, "pub");
  const std::string payload(4096, 'f');
  constexpr int count = 4096;
  const auto one = *codec::encode(publish_packet("flood", payload, qos::at_most_once), v5);
  std::string burst;
  for (int i = 0; i < 64; ++i) burst += one;
  for (int i = 0; i < count / 64; ++i) pub->send_bytes(burst);
  EXPECT_TRUE(pub->expect_nothing_pending(30s));

  int received = 0;
  arrival a = deaf->next(2s);
  for (; a.what == arrival::kind::packet; a = deaf->next(2s)) {
    ASSERT_TRUE(std::holds_alternative<codec::publish>(*a.packet)) << a;
    ++received;
  }
  EXPECT_EQ(a.what, arrival::kind::timeout) << a;  // still connected
  EXPECT_GT(received, 0);
  EXPECT_LT(received, count) << "nothing was dropped for the non-reading client";
  EXPECT_TRUE(deaf->expect_nothing_pending());
}

// The core's switches for other legal behaviours reach the broker through server_options::core;
// the resend delay runs on the shell's timer.
TEST_P(broker_test, behaviour_switches_through_embedded_broker_options) {
  server_options o = embedded_broker::default_options();
  o.core.retained_before_suback = true;
  o.core.max_granted_qos = qos::at_least_once;
  o.core.resend_delay = 300;
  restart(o);
  auto pub = online(port(), version(), "pub");
  publish(*pub, publish_packet("r", "kept", qos::exactly_once, 1, true));  // QoS 2 still accepted
  {
    auto sub = online(port(), persistent_connect(version(), "slow"), false);
    sub->send(subscribe_packet(1, "r", qos::exactly_once));
    auto retained = publish_packet("r", "kept", qos::at_least_once, 0, true);  // granted 1
    receive(*sub, retained);  // before the SUBACK
    if (auto ack = sub->expect<codec::suback>()) {
      EXPECT_EQ(ack->codes, std::vector<reason_code>{reason_code::granted_qos_1});
    }
    sub->send(disconnect_packet());
    EXPECT_TRUE(sub->expect_closed());
  }
  publish(*pub, publish_packet("r", "while away", qos::at_least_once, 2));
  const auto start = std::chrono::steady_clock::now();
  auto sub = online(port(), persistent_connect(version(), "slow"), true);
  receive(*sub, publish_packet("r", "while away", qos::at_least_once));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms) << "sent before the resend delay";
}

// Stopping the broker says goodbye: 5.0 clients get DISCONNECT 0x8B (Server shutting down).
TEST(broker_operation, shutdown_disconnects_clients) {
  auto b = std::make_unique<embedded_broker>();
  auto c5 = online(b->port(), v5, "c5");
  auto c3 = online(b->port(), v311, "c3");
  b.reset();
  if (auto d = c5->expect<codec::disconnect>()) {
    EXPECT_EQ(d->code, reason_code::server_shutting_down);
  }
  EXPECT_TRUE(c5->expect_closed());
  EXPECT_TRUE(c3->expect_closed());
}

}  // namespace
}  // namespace mqttspec::broker::test
