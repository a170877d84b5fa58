// config::defer_authentication: the password check and each enhanced-authentication step go out
// as auth_jobs; the connection reads nothing more until the result is back, then everything goes
// on as if the work had been done in place (same packets, same order).
#include "broker_harness.hpp"

namespace {

using namespace mqttspec;
using codec::reason_code;
using broker::testing::harness;
constexpr auto v5 = codec::protocol_version::v5;

// The toy method of the harness: answer "ping?" with "pong".
broker::config deferred_config() {
  broker::config c;
  c.defer_authentication = true;
  c.limits.connect_timeout = 5'000;
  c.authenticate = [](std::string_view user, std::optional<codec::bytes_view> password) {
    return user == "u" && password == "p";
  };
  c.enhanced_auth["TOY"] = broker::testing::toy_auth_exchange;
  return c;
}

codec::connect with_password(std::string_view password) {
  auto c = harness::connect_packet("a", v5);
  c.user_name = "u";
  c.password = password;
  return c;
}

codec::bytes wire(const codec::packet& p) { return *codec::encode(p, v5); }

std::vector<std::string> types_of(const std::vector<codec::owned_packet>& got) {
  std::vector<std::string> out;
  for (const auto& p : got) out.emplace_back(codec::to_string(codec::type_of(p.value)));
  return out;
}

TEST(deferred_auth, password_check_answers_once_its_verdict_is_back) {
  harness h(deferred_config());
  h.auth_jobs_at_once = false;
  const auto cl = h.core.open(h.now);
  h.clients["a"].id = cl;
  codec::subscribe sub;
  sub.packet_id = 1;
  sub.subscriptions.push_back({"t", {}});
  h.send_raw("a", wire(with_password("p")) + wire(sub));  // the SUBSCRIBE waits behind the CONNECT
  EXPECT_TRUE(h.take("a").empty());
  EXPECT_TRUE(h.core.has_auth_jobs());
  EXPECT_EQ(h.core.session_count(), 0u);
  h.run_auth_jobs();
  EXPECT_EQ(types_of(h.take("a")), (std::vector<std::string>{"CONNACK", "SUBACK"}));
  EXPECT_EQ(h.core.session_count(), 1u);
}

TEST(deferred_auth, wrong_password_is_refused_as_without) {
  harness h(deferred_config());
  h.auth_jobs_at_once = false;
  h.connect("a", with_password("q"));
  EXPECT_TRUE(h.take("a").empty());
  h.run_auth_jobs();
  codec::owned_packet keep;
  EXPECT_EQ(h.take_one<codec::connack>("a", keep).code, reason_code::bad_user_name_or_password);
  EXPECT_TRUE(h.clients["a"].closed);
}

TEST(deferred_auth, a_result_for_a_closed_connection_is_dropped) {
  harness h(deferred_config());
  h.auth_jobs_at_once = false;
  h.connect("a", with_password("p"));
  h.advance(5'000);  // the CONNECT timeout runs on while the check does
  EXPECT_TRUE(h.clients["a"].closed);
  h.run_auth_jobs();
  EXPECT_TRUE(h.take("a").empty());
  EXPECT_EQ(h.core.session_count(), 0u);
  EXPECT_EQ(h.core.connection_count(), 0u);
}

TEST(deferred_auth, enhanced_authentication_steps_wait_for_their_results) {
  harness h(deferred_config());
  h.auth_jobs_at_once = false;
  auto c = harness::connect_packet("a", v5);
  c.props.authentication_method = "TOY";
  h.connect("a", c);
  EXPECT_TRUE(h.take("a").empty());
  h.run_auth_jobs();
  codec::owned_packet keep;
  EXPECT_EQ(h.take_one<codec::auth>("a", keep).props.authentication_data.value_or(""), "ping?");
  h.send("a", harness::auth_packet(reason_code::continue_authentication, "TOY", "pong"));
  EXPECT_TRUE(h.take("a").empty());
  h.run_auth_jobs();
  const auto ack = h.take_one<codec::connack>("a", keep);
  EXPECT_EQ(ack.code, reason_code::success);
  EXPECT_EQ(ack.props.authentication_data.value_or(""), "welcome");
}

// After the CONNACK the machine is not paused: what comes behind an AUTH is held by the core.
TEST(deferred_auth, input_behind_a_reauthentication_step_keeps_its_order) {
  harness h(deferred_config());
  auto c = harness::connect_packet("a", v5);
  c.props.authentication_method = "TOY";
  h.connect("a", c);
  h.send("a", harness::auth_packet(reason_code::continue_authentication, "TOY", "pong"));
  ASSERT_EQ(types_of(h.take("a")), (std::vector<std::string>{"AUTH", "CONNACK"}));
  h.auth_jobs_at_once = false;
  h.send_raw("a", wire(harness::auth_packet(reason_code::re_authenticate, "TOY", "")) + wire(codec::pingreq{}));
  h.send("a", codec::pingreq{});
  EXPECT_TRUE(h.take("a").empty());
  h.run_auth_jobs();
  EXPECT_EQ(types_of(h.take("a")), (std::vector<std::string>{"AUTH", "PINGRESP", "PINGRESP"}));
}

}  // namespace
