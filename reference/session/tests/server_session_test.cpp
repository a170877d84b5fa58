// The server session machine: literal bytes in, exact events out.
#include "mqttspec/session/server_session.hpp"

#include <gtest/gtest.h>

namespace mqttspec::session {
namespace {

using codec::from_hex;
using codec::reason_code;

codec::bytes hex(std::string_view h) { return *from_hex(h); }

// CONNECTs written by hand: client id "c", keep-alive 10 s.
const auto connect_v311 = hex("10 0d 00 04 4d 51 54 54 04 02 00 0a 00 01 63");
const auto connect_v5 = hex("10 0e 00 04 4d 51 54 54 05 02 00 0a 00 00 01 63");
const auto connack_v5_ok = hex("20 03 00 00 00");
const auto connack_v311_ok = hex("20 02 00 00");

struct recorder {
  std::vector<codec::bytes> sent;
  std::vector<codec::owned_packet> delivered;  // with their storage: the views point into it
  std::optional<close> closed;
  void take(const std::vector<event>& events) {
    for (const auto& e : events) {
      if (auto* t = std::get_if<transmit>(&e)) sent.push_back(t->data);
      if (auto* d = std::get_if<deliver>(&e)) delivered.push_back(d->packet);
      if (auto* c = std::get_if<close>(&e)) {
        ASSERT_FALSE(closed) << "closed twice";
        closed = *c;
      }
    }
  }
};

server_session connected(codec::protocol_version v, recorder& r, server_limits limits = {}) {
  server_session s(limits, 0);
  r.take(s.receive(v == codec::protocol_version::v5 ? connect_v5 : connect_v311, 1));
  r.take(s.send(codec::connack{}, 1));
  r.sent.clear();
  r.delivered.clear();
  return s;
}

TEST(server_session, connect_is_delivered_and_connack_sent) {
  recorder r;
  server_session s({}, 0);
  r.take(s.receive(connect_v5, 5));
  ASSERT_EQ(r.delivered.size(), 1u);
  EXPECT_EQ(std::get<codec::connect>(r.delivered[0].value).client_id, "c");
  EXPECT_EQ(s.version(), codec::protocol_version::v5);
  r.take(s.send(codec::connack{}, 5));
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(r.sent[0], connack_v5_ok);
  EXPECT_FALSE(r.closed);
  EXPECT_EQ(s.current_state(), state::connected);
}

TEST(server_session, connect_split_at_every_byte) {
  for (std::size_t cut = 0; cut <= connect_v311.size(); ++cut) {
    recorder r;
    server_session s({}, 0);
    r.take(s.receive(std::string_view(connect_v311).substr(0, cut), 0));
    EXPECT_TRUE(r.delivered.empty() || cut == connect_v311.size());
    r.take(s.receive(std::string_view(connect_v311).substr(cut), 0));
    ASSERT_EQ(r.delivered.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(s.version(), codec::protocol_version::v3_1_1);
  }
}

TEST(server_session, pipelined_packets_wait_for_the_connack) {
  recorder r;
  server_session s({}, 0);
  r.take(s.receive(connect_v311 + hex("c0 00"), 0));  // CONNECT + PINGREQ in one read
  ASSERT_EQ(r.delivered.size(), 1u) << "the PINGREQ must not be handled before the CONNACK";
  r.take(s.send(codec::connack{}, 0));
  r.take(s.receive({}, 0));
  ASSERT_EQ(r.delivered.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<codec::pingreq>(r.delivered[1].value));
}

// Every packet type but CONNECT as the first packet: closed, nothing sent (v5/v3.1.1:MQTT-3.1.0-1).
TEST(server_session, first_packet_must_be_connect) {
  const char* frames[] = {"20 02 00 00", "30 05 00 01 61 68 69", "40 02 00 01", "50 02 00 01", "62 02 00 01",
                          "70 02 00 01", "82 06 00 01 00 01 61 00", "90 03 00 01 00", "a2 05 00 01 00 01 61",
                          "b0 02 00 01", "c0 00", "d0 00", "e0 00", "f0 00"};
  for (const char* f : frames) {
    recorder r;
    server_session s({}, 0);
    r.take(s.receive(hex(f), 0));
    EXPECT_TRUE(r.delivered.empty()) << f;
    EXPECT_TRUE(r.sent.empty()) << f;
    ASSERT_TRUE(r.closed) << f;
    EXPECT_NE(r.closed->statement.find("MQTT-3.1.0-1"), std::string::npos) << f;
  }
}

TEST(server_session, second_connect_is_a_protocol_error) {
  recorder r5;
  auto s5 = connected(codec::protocol_version::v5, r5);
  r5.take(s5.receive(connect_v5, 2));
  ASSERT_EQ(r5.sent.size(), 1u);
  EXPECT_EQ(r5.sent[0], hex("e0 01 82"));  // DISCONNECT 0x82
  ASSERT_TRUE(r5.closed);
  EXPECT_EQ(r5.closed->statement, "v5:MQTT-3.1.0-2");

  recorder r3;
  auto s3 = connected(codec::protocol_version::v3_1_1, r3);
  r3.take(s3.receive(connect_v311, 2));
  EXPECT_TRUE(r3.sent.empty());  // 3.1.1 has no DISCONNECT from the server
  ASSERT_TRUE(r3.closed);
  EXPECT_EQ(r3.closed->statement, "v3.1.1:MQTT-3.1.0-2");
}

// In the connected state every client-to-server packet is delivered; server-to-client types are
// delivered too (the broker core decides to close), and nothing is sent by the session itself.
TEST(server_session, connected_delivers_each_packet_type) {
  const std::pair<const char*, codec::packet_type> frames[] = {
      {"30 05 00 01 61 68 69", codec::packet_type::publish}, {"40 02 00 01", codec::packet_type::puback},
      {"50 02 00 01", codec::packet_type::pubrec},           {"62 02 00 01", codec::packet_type::pubrel},
      {"70 02 00 01", codec::packet_type::pubcomp},          {"82 06 00 01 00 01 61 00", codec::packet_type::subscribe},
      {"a2 05 00 01 00 01 61", codec::packet_type::unsubscribe}, {"c0 00", codec::packet_type::pingreq},
      {"20 02 00 00", codec::packet_type::connack},          {"90 03 00 01 00", codec::packet_type::suback},
      {"b0 02 00 01", codec::packet_type::unsuback},         {"d0 00", codec::packet_type::pingresp},
      {"e0 00", codec::packet_type::disconnect}};
  for (const auto& [f, type] : frames) {
    recorder r;
    auto s = connected(codec::protocol_version::v3_1_1, r);
    r.take(s.receive(hex(f), 2));
    ASSERT_EQ(r.delivered.size(), 1u) << f;
    EXPECT_EQ(codec::type_of(r.delivered[0].value), type) << f;
    EXPECT_TRUE(r.sent.empty()) << f;
    // Only DISCONNECT ends the connection here.
    EXPECT_EQ(r.closed.has_value(), type == codec::packet_type::disconnect) << f;
  }
}

TEST(server_session, closed_ignores_everything) {
  recorder r;
  auto s = connected(codec::protocol_version::v5, r);
  r.take(s.receive(hex("e0 00"), 2));
  ASSERT_TRUE(r.closed);
  recorder after;
  after.take(s.receive(hex("c0 00"), 3));
  after.take(s.on_timer(1'000'000));
  after.take(s.transport_closed(4));
  after.take(s.send(codec::pingresp{}, 5));
  EXPECT_TRUE(after.sent.empty());
  EXPECT_TRUE(after.delivered.empty());
  EXPECT_FALSE(after.closed);
}

// Malformed input after CONNACK: 5.0 sends DISCONNECT with the reason class of the rule broken.
TEST(server_session, malformed_packets_close_with_reason_code) {
  const std::tuple<const char*, const char*, const char*> cases[] = {
      {"36 05 00 01 61 00 01", "e0 01 81", "v5:MQTT-3.3.1-4"},          // QoS 3
      {"38 04 00 01 61 00", "e0 01 81", "v5:MQTT-3.3.1-2"},             // DUP on QoS 0
      {"30 05 00 01 23 00 00", "e0 01 81", "v5:MQTT-3.3.2-2"},          // '#' in a topic name
      {"30 06 00 02 c0 80 00 00", "e0 01 81", "v5:MQTT-1.5.4-1"},       // overlong UTF-8
      {"c1 00", "e0 01 81", "v5:MQTT-2.1.3-1"},                         // PINGREQ flags
      {"80 05 00 01 00 00 00", "e0 01 81", "v5:MQTT-3.8.1-1"},          // SUBSCRIBE flags 0000
      {"82 03 00 01 00", "e0 01 82", "v5:MQTT-3.8.3-2"},                // SUBSCRIBE without filters
      {"30 06 00 00 03 23 00 00", "e0 01 94", "v5:MQTT-3.3.2-8"},       // Topic Alias 0
  };
  for (const auto& [in, expected, statement] : cases) {
    recorder r;
    auto s = connected(codec::protocol_version::v5, r);
    r.take(s.receive(hex(in), 2));
    ASSERT_EQ(r.sent.size(), 1u) << in;
    EXPECT_EQ(codec::to_hex(r.sent[0], " "), expected) << in;
    ASSERT_TRUE(r.closed) << in;
    EXPECT_EQ(r.closed->statement, statement) << in;
    EXPECT_TRUE(r.delivered.empty()) << in;
  }
}

TEST(server_session, malformed_packets_close_silently_in_v311) {
  recorder r;
  auto s = connected(codec::protocol_version::v3_1_1, r);
  r.take(s.receive(hex("36 05 00 01 61 00 01"), 2));
  EXPECT_TRUE(r.sent.empty());
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.closed->statement, "v3.1.1:MQTT-3.3.1-4");
}

TEST(server_session, malformed_connect_v5_gets_connack_with_reason) {
  recorder r;
  server_session s({}, 0);
  // CONNECT 5.0 with the reserved flag set (v5:MQTT-3.1.2-3).
  r.take(s.receive(hex("10 0e 00 04 4d 51 54 54 05 03 00 0a 00 00 01 63"), 0));
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(codec::to_hex(r.sent[0], " "), "20 03 00 81 00");
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.closed->statement, "v5:MQTT-3.1.2-3");
}

TEST(server_session, malformed_connect_v311_closes_without_connack) {
  recorder r;
  server_session s({}, 0);
  r.take(s.receive(hex("10 0d 00 04 4d 51 54 54 04 03 00 0a 00 01 63"), 0));
  EXPECT_TRUE(r.sent.empty());  // v3.1.1:MQTT-3.1.4-1: no CONNACK
  ASSERT_TRUE(r.closed);
}

// A level we do not speak is refused in the format its client most likely reads.
TEST(server_session, unsupported_level_is_refused_in_a_readable_format) {
  const std::pair<const char*, const char*> cases[] = {
      {"10 0d 00 04 4d 51 54 54 07 02 00 0a 00 01 63", "20 03 00 84 00"},  // newer: 5.0 0x84 (v5:MQTT-3.1.2-2)
      {"10 0d 00 04 4d 51 54 54 02 02 00 0a 00 01 63", "20 02 00 01"},     // older: 3.1.1 0x01 (v3.1.1:MQTT-3.1.2-2)
  };
  for (const auto& [in, expected] : cases) {
    recorder r;
    server_session s({}, 0);
    r.take(s.receive(hex(in), 0));
    ASSERT_EQ(r.sent.size(), 1u) << in;
    EXPECT_EQ(codec::to_hex(r.sent[0], " "), expected) << in;
    ASSERT_TRUE(r.closed) << in;
  }
}

TEST(server_session, unknown_protocol_name_closes_silently) {
  recorder r;
  server_session s({}, 0);
  r.take(s.receive(hex("10 0d 00 04 4d 51 54 58 04 02 00 0a 00 01 63"), 0));  // "MQTX"
  EXPECT_TRUE(r.sent.empty());
  ASSERT_TRUE(r.closed);
}

TEST(server_session, keep_alive_closes_after_one_and_a_half_periods) {
  recorder r;
  auto s = connected(codec::protocol_version::v5, r);  // keep-alive 10 s, last packet at t=1
  EXPECT_EQ(s.deadline(), 1u + 15'000u);
  r.take(s.receive(hex("c0 00"), 5'000));  // PINGREQ moves the deadline
  EXPECT_EQ(s.deadline(), 5'000u + 15'000u);
  r.take(s.on_timer(19'999));
  EXPECT_FALSE(r.closed);
  r.take(s.on_timer(20'000));
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(codec::to_hex(r.sent.back(), " "), "e0 01 8d");  // Keep Alive timeout
  EXPECT_EQ(r.closed->statement, "v5:MQTT-3.1.2-22");
}

TEST(server_session, connect_timeout) {
  recorder r;
  server_session s({.connect_timeout = 500}, 100);
  EXPECT_EQ(s.deadline(), 600u);
  r.take(s.on_timer(599));
  EXPECT_FALSE(r.closed);
  r.take(s.on_timer(600));
  ASSERT_TRUE(r.closed);
  EXPECT_TRUE(r.sent.empty());
}

// Enhanced authentication: AUTH 0x18 without properties, written by hand.
const auto auth_continue = hex("f0 02 18 00");
const auto pingreq = hex("c0 00");

TEST(server_session, authentication_reads_one_frame_per_expect_auth) {
  recorder r;
  server_session s({}, 0);
  r.take(s.receive(connect_v5 + auth_continue + pingreq, 1));
  ASSERT_EQ(r.delivered.size(), 1u);  // the CONNECT only
  EXPECT_TRUE(s.paused());
  s.expect_auth();  // the broker sent its AUTH challenge
  r.take(s.receive({}, 2));
  ASSERT_EQ(r.delivered.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<codec::auth>(r.delivered[1].value));
  EXPECT_TRUE(s.paused());  // the PINGREQ waits for the CONNACK
  r.take(s.send(codec::connack{}, 3));
  r.take(s.receive({}, 3));
  ASSERT_EQ(r.delivered.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<codec::pingreq>(r.delivered[2].value));
  EXPECT_FALSE(r.closed);
}

TEST(server_session, only_auth_or_disconnect_before_the_connack) {
  recorder r;
  server_session s({}, 0);
  r.take(s.receive(connect_v5, 1));
  s.expect_auth();
  r.take(s.receive(pingreq, 2));
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.closed->statement, "v5:MQTT-3.1.2-30");
  EXPECT_TRUE(r.sent.empty());
  EXPECT_EQ(r.delivered.size(), 1u);
}

TEST(server_session, connect_timeout_covers_an_unfinished_authentication) {
  recorder r;
  server_session s({.connect_timeout = 500}, 100);
  r.take(s.receive(connect_v5, 150));  // Keep Alive 10 s would allow far longer
  s.expect_auth();
  EXPECT_EQ(s.deadline(), 600u);
  r.take(s.on_timer(599));
  EXPECT_FALSE(r.closed);
  r.take(s.on_timer(600));
  ASSERT_TRUE(r.closed);
  EXPECT_TRUE(r.sent.empty());
}

TEST(server_session, packet_too_large_is_refused_from_the_header) {
  recorder r;
  auto s = connected(codec::protocol_version::v5, r, {.maximum_packet_size = 64});
  // A PUBLISH claiming 256 MB: refused at once, before any body arrives.
  r.take(s.receive(hex("30 ff ff ff 7f"), 2));
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(codec::to_hex(r.sent[0], " "), "e0 01 95");
  ASSERT_TRUE(r.closed);
}

TEST(server_session, topic_alias_is_resolved_and_bounded) {
  recorder r;
  auto s = connected(codec::protocol_version::v5, r, {.topic_alias_maximum = 2});
  r.take(s.receive(hex("30 09 00 03 61 2f 62 03 23 00 01"), 2));  // "a/b" with alias 1
  r.take(s.receive(hex("30 06 00 00 03 23 00 01"), 3));           // alias 1 alone
  ASSERT_EQ(r.delivered.size(), 2u);
  EXPECT_EQ(std::get<codec::publish>(r.delivered[1].value).topic, "a/b");
  EXPECT_FALSE(r.closed);
  r.take(s.receive(hex("30 06 00 00 03 23 00 03"), 4));  // alias 3 > maximum 2
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(codec::to_hex(r.sent.back(), " "), "e0 01 94");
}

TEST(server_session, unknown_topic_alias_is_a_protocol_error) {
  recorder r;
  auto s = connected(codec::protocol_version::v5, r, {.topic_alias_maximum = 2});
  r.take(s.receive(hex("30 06 00 00 03 23 00 02"), 2));
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(codec::to_hex(r.sent.back(), " "), "e0 01 82");
}

// The close names its cause as a type: the codec's error, or the machine's own rule.
TEST(server_session, close_carries_its_cause) {
  {
    recorder r;
    auto s = connected(codec::protocol_version::v5, r);
    r.take(s.receive(hex("36 05 00 01 61 00 01"), 2));  // QoS 3
    ASSERT_TRUE(r.closed);
    EXPECT_EQ(r.closed->cause, close_cause{codec::errc::invalid_qos});
  }
  {
    recorder r;
    auto s = connected(codec::protocol_version::v5, r, {.topic_alias_maximum = 2});
    r.take(s.receive(hex("30 06 00 00 03 23 00 02"), 2));
    ASSERT_TRUE(r.closed);
    EXPECT_EQ(r.closed->cause, close_cause{rule::unknown_topic_alias});
  }
  {
    recorder r;
    auto s = connected(codec::protocol_version::v3_1_1, r);
    r.take(s.receive(connect_v311, 2));
    ASSERT_TRUE(r.closed);
    EXPECT_EQ(r.closed->cause, close_cause{rule::second_connect});
  }
  {
    recorder r;
    server_session s({}, 0);
    r.take(s.receive(hex("c0 00"), 0));
    ASSERT_TRUE(r.closed);
    EXPECT_EQ(r.closed->cause, close_cause{rule::first_packet_not_connect});
  }
  {
    recorder r;
    auto s = connected(codec::protocol_version::v5, r);
    r.take(s.on_timer(1'000'000));
    ASSERT_TRUE(r.closed);
    EXPECT_EQ(r.closed->cause, close_cause{rule::keep_alive_timeout});
  }
  {  // not the machine's decision
    recorder r;
    auto s = connected(codec::protocol_version::v5, r);
    r.take(s.send(codec::disconnect{reason_code::server_shutting_down, {}}, 2));
    ASSERT_TRUE(r.closed);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(r.closed->cause));
  }
}

TEST(server_session, specific_reason_by_cause) {
  EXPECT_EQ(specific_reason(rule::unknown_topic_alias), reason_code::topic_alias_invalid);
  EXPECT_EQ(specific_reason(codec::errc::wildcard_in_topic_name), reason_code::topic_name_invalid);
  EXPECT_EQ(specific_reason(codec::errc::empty_topic_name), reason_code::topic_name_invalid);
  EXPECT_EQ(specific_reason(codec::errc::misplaced_multi_level_wildcard), reason_code::topic_filter_invalid);
  EXPECT_EQ(specific_reason(codec::errc::invalid_shared_subscription), reason_code::topic_filter_invalid);
  EXPECT_FALSE(specific_reason(codec::errc::invalid_qos));
  EXPECT_FALSE(specific_reason(rule::second_connect));
  EXPECT_FALSE(specific_reason(close_cause{}));
}

// server_options::specific_reason_codes (5.0 §4.13.1): the DISCONNECT names the case where the
// spec has a code more specific than 0x81/0x82; everything else stays as it was.
TEST(server_session, specific_reason_codes_in_the_disconnect) {
  struct bad_input {
    const char* in;
    const char* usual;
    const char* specific;
  };
  const bad_input cases[] = {
      {"30 06 00 00 03 23 00 01", "e0 01 82", "e0 01 94"},                          // unmapped Topic Alias
      {"30 06 00 03 61 2f 2b 00", "e0 01 81", "e0 01 90"},                          // '+' in a Topic Name
      {"30 03 00 00 00", "e0 01 82", "e0 01 90"},                                   // empty Topic Name, no alias
      {"82 0b 00 01 00 00 05 61 2f 23 2f 62 01", "e0 01 81", "e0 01 8f"},           // '#' not last
      {"82 09 00 01 00 00 03 61 2b 62 01", "e0 01 81", "e0 01 8f"},                 // '+' not alone
      {"82 06 00 01 00 00 00 01", "e0 01 82", "e0 01 8f"},                          // empty filter
      {"82 0e 00 01 00 00 08 24 73 68 61 72 65 2f 67 01", "e0 01 82", "e0 01 8f"},  // "$share/g"
      {"30 07 00 01 61 03 23 00 00", "e0 01 94", "e0 01 94"},                       // Topic Alias 0: already specific
      {"30 07 00 01 61 03 23 00 0b", "e0 01 94", "e0 01 94"},                       // above the maximum (10)
      {"36 05 00 01 61 00 01", "e0 01 81", "e0 01 81"},                             // QoS 3: nothing more specific
      {"10 0e 00 04 4d 51 54 54 05 02 00 0a 00 00 01 63", "e0 01 82", "e0 01 82"},  // second CONNECT
  };
  for (const auto& [in, usual, specific] : cases) {
    for (const bool on : {false, true}) {
      recorder r;
      server_session s({}, 0, {.specific_reason_codes = on});
      r.take(s.receive(connect_v5, 1));
      r.take(s.send(codec::connack{}, 1));
      r.sent.clear();
      r.take(s.receive(hex(in), 2));
      ASSERT_EQ(r.sent.size(), 1u) << in;
      const auto* expected = on ? specific : usual;
      EXPECT_EQ(codec::to_hex(r.sent[0], " "), expected) << in << (on ? " (specific)" : "");
      ASSERT_TRUE(r.closed) << in;
      ASSERT_TRUE(r.closed->reason) << in;
      EXPECT_EQ(*codec::encode(codec::disconnect{*r.closed->reason, {}}, codec::protocol_version::v5), r.sent[0])
          << in << ": the close reports the code sent";
    }
  }
}

TEST(server_session, specific_reason_codes_in_the_connack) {
  // CONNECT 5.0 with the Will Topic "a/#".
  const auto will_with_wildcard = hex("10 16 00 04 4d 51 54 54 05 06 00 00 00 00 01 63 00 00 03 61 2f 23 00 00");
  for (const bool on : {false, true}) {
    recorder r;
    server_session s({}, 0, {.specific_reason_codes = on});
    r.take(s.receive(will_with_wildcard, 0));
    ASSERT_EQ(r.sent.size(), 1u);
    EXPECT_EQ(codec::to_hex(r.sent[0], " "), on ? "20 03 00 90 00" : "20 03 00 81 00");
    ASSERT_TRUE(r.closed);
    EXPECT_EQ(r.closed->reason, on ? reason_code::topic_name_invalid : reason_code::malformed_packet);
    EXPECT_EQ(r.closed->cause, close_cause{codec::errc::wildcard_in_topic_name});
    EXPECT_TRUE(r.delivered.empty());
  }
}

// 3.1.1 sends no reason codes: the option changes nothing.
TEST(server_session, specific_reason_codes_change_nothing_for_v311) {
  for (const char* in : {"30 05 00 03 61 2f 2b", "82 08 00 01 00 03 61 2b 62 01"}) {
    recorder r;
    server_session s({}, 0, {.specific_reason_codes = true});
    r.take(s.receive(connect_v311, 1));
    r.take(s.send(codec::connack{}, 1));
    r.sent.clear();
    r.take(s.receive(hex(in), 2));
    EXPECT_TRUE(r.sent.empty()) << in;
    ASSERT_TRUE(r.closed) << in;
    EXPECT_FALSE(r.closed->reason) << in;
  }
}

TEST(server_session, publish_too_large_for_the_client_is_dropped) {
  recorder r;
  server_session s({}, 0);
  // CONNECT 5.0 with Maximum Packet Size 20.
  r.take(s.receive(hex("10 13 00 04 4d 51 54 54 05 02 00 0a 05 27 00 00 00 14 00 01 63"), 0));
  r.take(s.send(codec::connack{}, 0));
  EXPECT_EQ(s.client_maximum_packet_size(), 20u);
  codec::publish small;
  small.topic = "t";
  small.payload = "x";
  codec::publish big = small;
  big.payload = "0123456789012345678901234567890";
  std::vector<event> out;
  EXPECT_TRUE(s.send(small, 1, out));
  EXPECT_FALSE(s.send(big, 1, out));  // v5:MQTT-3.1.2-25
  r.take(out);
  EXPECT_EQ(r.sent.size(), 2u);  // CONNACK and the small PUBLISH
  EXPECT_FALSE(r.closed);
}

TEST(server_session, outbound_topic_aliases_stay_within_the_clients_maximum) {
  recorder r;
  server_session s({}, 0);
  // CONNECT 5.0 with Topic Alias Maximum 1.
  r.take(s.receive(hex("10 11 00 04 4d 51 54 54 05 02 00 0a 03 22 00 01 00 01 63"), 0));
  r.take(s.send(codec::connack{}, 0));
  r.sent.clear();
  codec::publish p;
  p.topic = "a/b";
  p.payload = "x";
  r.take(s.send(p, 1));  // sets alias 1
  r.take(s.send(p, 1));  // alias 1 alone
  p.topic = "c";
  r.take(s.send(p, 1));  // no alias left: plain topic
  ASSERT_EQ(r.sent.size(), 3u);
  EXPECT_EQ(codec::to_hex(r.sent[0], " "), "30 0a 00 03 61 2f 62 03 23 00 01 78");
  EXPECT_EQ(codec::to_hex(r.sent[1], " "), "30 07 00 00 03 23 00 01 78");
  EXPECT_EQ(codec::to_hex(r.sent[2], " "), "30 05 00 01 63 00 78");
}

TEST(server_session, failure_connack_closes) {
  recorder r;
  server_session s({}, 0);
  r.take(s.receive(connect_v311, 0));
  codec::connack refused;
  refused.code = reason_code::not_authorized;
  r.take(s.send(refused, 0));
  EXPECT_EQ(codec::to_hex(r.sent.back(), " "), "20 02 00 05");
  ASSERT_TRUE(r.closed);
  EXPECT_EQ(r.closed->reason, reason_code::not_authorized);
}

TEST(server_session, transport_close_is_reported_once) {
  recorder r;
  auto s = connected(codec::protocol_version::v5, r);
  r.take(s.transport_closed(2));
  ASSERT_TRUE(r.closed);
  EXPECT_TRUE(r.closed->by_peer);
  r.take(s.transport_closed(3));  // recorder asserts no second close
}

}  // namespace
}  // namespace mqttspec::session
