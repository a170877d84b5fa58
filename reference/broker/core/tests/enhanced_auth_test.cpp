// The MQTT side of enhanced authentication (§4.12) with a toy method: the client must answer the
// challenge "ping?" with "pong". Method consistency, reason codes, what may come before the
// CONNACK, and the CONNECT timeout covering a stalled exchange.
#include "broker_harness.hpp"

namespace {

using namespace mqttspec;
using codec::reason_code;
using broker::testing::harness;

broker::config toy_config() {
  broker::config c;
  c.limits.connect_timeout = 5'000;
  c.enhanced_auth["TOY"] = broker::testing::toy_auth_exchange;
  return c;
}

codec::connect toy_connect(std::string_view method = "TOY") {
  auto c = harness::connect_packet("a", codec::protocol_version::v5);
  c.props.authentication_method = method;
  return c;
}


}  // namespace

TEST(enhanced_auth, challenge_then_connack_carry_the_method) {
  harness h(toy_config());
  h.connect("a", toy_connect());
  codec::owned_packet keep;
  const auto challenge = h.take_one<codec::auth>("a", keep);
  EXPECT_EQ(challenge.code, reason_code::continue_authentication);   // v5:MQTT-4.12.0-2
  EXPECT_EQ(challenge.props.authentication_method.value_or(""), "TOY");  // v5:MQTT-4.12.0-5
  EXPECT_EQ(challenge.props.authentication_data.value_or(""), "ping?");
  EXPECT_EQ(h.core.session_count(), 0u);  // nothing accepted yet
  h.send("a", harness::auth_packet(reason_code::continue_authentication, "TOY", "pong"));
  const auto ack = h.take_one<codec::connack>("a", keep);
  EXPECT_EQ(ack.code, reason_code::success);
  EXPECT_EQ(ack.props.authentication_method.value_or(""), "TOY");
  EXPECT_EQ(ack.props.authentication_data.value_or(""), "welcome");
  EXPECT_EQ(h.core.session_count(), 1u);
}

TEST(enhanced_auth, unknown_method_is_still_refused_with_0x8c) {
  harness h(toy_config());
  h.connect("a", toy_connect("OTHER"));
  codec::owned_packet keep;
  EXPECT_EQ(h.take_one<codec::connack>("a", keep).code, reason_code::bad_authentication_method);
  EXPECT_TRUE(h.clients["a"].closed);
}

TEST(enhanced_auth, failure_refuses_with_0x87) {
  harness h(toy_config());
  h.connect("a", toy_connect());
  h.take("a");
  h.send("a", harness::auth_packet(reason_code::continue_authentication, "TOY", "pang"));
  codec::owned_packet keep;
  EXPECT_EQ(h.take_one<codec::connack>("a", keep).code, reason_code::not_authorized);  // v5:MQTT-4.12.0-4
  EXPECT_TRUE(h.clients["a"].closed);
}

TEST(enhanced_auth, answer_with_another_method_or_reason_is_a_protocol_error) {
  for (const auto& [code, method] : {std::pair{reason_code::continue_authentication, "NOT-TOY"},
                                     std::pair{reason_code::re_authenticate, "TOY"}}) {
    harness h(toy_config());
    h.connect("a", toy_connect());
    h.take("a");
    h.send("a", harness::auth_packet(code, method, "pong"));
    codec::owned_packet keep;
    EXPECT_EQ(h.take_one<codec::connack>("a", keep).code, reason_code::protocol_error);
    EXPECT_TRUE(h.clients["a"].closed);
  }
}

TEST(enhanced_auth, only_auth_or_disconnect_before_the_connack) {
  harness h(toy_config());
  h.connect("a", toy_connect());
  h.take("a");
  h.send("a", codec::pingreq{});  // v5:MQTT-3.1.2-30
  EXPECT_TRUE(h.take("a").empty());
  EXPECT_TRUE(h.clients["a"].closed);
  EXPECT_NE(h.clients["a"].close_why.find("MQTT-3.1.2-30"), std::string::npos);

  h.connect("b", toy_connect());
  h.take("b");
  h.send("b", codec::disconnect{});
  EXPECT_TRUE(h.clients["b"].closed);
  EXPECT_EQ(h.core.session_count(), 0u);
}

TEST(enhanced_auth, connect_timeout_covers_a_stalled_exchange) {
  harness h(toy_config());
  h.connect("a", toy_connect());
  h.take("a");
  h.advance(4'999);
  EXPECT_FALSE(h.clients["a"].closed);
  h.advance(1);
  EXPECT_TRUE(h.clients["a"].closed);
}

TEST(enhanced_auth, packets_pipelined_behind_the_last_auth_wait_for_the_connack) {
  harness h(toy_config());
  h.connect("a", toy_connect());
  h.take("a");
  auto auth = codec::encode(harness::auth_packet(reason_code::continue_authentication, "TOY", "pong"), codec::protocol_version::v5);
  auto ping = codec::encode(codec::pingreq{}, codec::protocol_version::v5);
  h.send_raw("a", *auth + *ping);
  const auto got = h.take("a");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<codec::connack>(got[0].value));
  EXPECT_TRUE(std::holds_alternative<codec::pingresp>(got[1].value));
}

TEST(enhanced_auth, auth_without_a_method_at_connect_is_a_protocol_error) {
  harness h(toy_config());
  h.connect("a", harness::connect_packet("a", codec::protocol_version::v5));
  h.take("a");
  h.send("a", harness::auth_packet(reason_code::re_authenticate, "TOY", ""));
  codec::owned_packet keep;
  EXPECT_EQ(h.take_one<codec::disconnect>("a", keep).code, reason_code::protocol_error);  // v5:MQTT-4.12.0-7
}
