// SCRAM-SHA-256 through the broker core, in memory: CONNECT → AUTH 0x18 → AUTH 0x18 → CONNACK,
// refusals, and re-authentication, with a fixed server nonce so every exchange replays exactly.
#include "broker_harness.hpp"
#include "mqttspec/broker/scram_method.hpp"

namespace {

using namespace mqttspec;
using codec::reason_code;
namespace scram = auth::scram;
using broker::testing::harness;

constexpr std::string_view method = scram::method_name;

broker::config scram_config() {
  broker::config c;
  c.enhanced_auth[std::string(method)] =
      broker::make_scram_sha256({{"user", "pencil"}}, [] { return std::string("server-nonce"); }, 64);
  return c;
}


// One exchange from the client's side: the client-first goes in `start`, the rest answers the
// server's challenge. Returns the server-final the client expects.
struct scram_client {
  explicit scram_client(std::string_view user = "user") : first_text(scram::make_client_first(user, "client-nonce")) {}
  std::string first_text;
  scram::client_first first = *scram::parse_client_first(first_text);
  scram::client_final final_msg;

  // Checks the server's AUTH 0x18 and prepares the answer with `password`.
  void answer(const codec::auth& challenge, std::string_view password) {
    EXPECT_EQ(challenge.code, reason_code::continue_authentication);            // v5:MQTT-4.12.0-2
    EXPECT_EQ(challenge.props.authentication_method.value_or(""), method);      // v5:MQTT-4.12.0-5
    auto server = scram::parse_server_first(challenge.props.authentication_data.value_or(""));
    ASSERT_TRUE(server);
    final_msg = *scram::make_client_final(first, *server, password);
  }
};

codec::connect scram_connect(const scram_client& cl) {
  auto c = harness::connect_packet("a", codec::protocol_version::v5);
  c.props.authentication_method = method;
  c.props.authentication_data = cl.first_text;
  return c;
}

// Connects "a" with SCRAM and checks the CONNACK.
void connect_with_scram(harness& h) {
  scram_client cl;
  h.connect("a", scram_connect(cl));
  codec::owned_packet keep;
  cl.answer(h.take_one<codec::auth>("a", keep), "pencil");
  h.send("a", harness::auth_packet(reason_code::continue_authentication, method, cl.final_msg.message));
  const auto ack = h.take_one<codec::connack>("a", keep);
  EXPECT_EQ(ack.code, reason_code::success);
  EXPECT_EQ(ack.props.authentication_method.value_or(""), method);  // v5:MQTT-4.12.0-5
  EXPECT_EQ(ack.props.authentication_data.value_or(""), cl.final_msg.expected_server_final);
}

}  // namespace

TEST(scram_method, parses_user_colon_password) {
  auto u = broker::parse_scram_user("alice:se:cret");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->password, "se:cret");
  EXPECT_FALSE(broker::parse_scram_user(":x"));
  EXPECT_FALSE(broker::parse_scram_user("alice"));
}

TEST(scram_method, connect_succeeds_and_the_session_works) {
  harness h(scram_config());
  connect_with_scram(h);
  h.send("a", codec::pingreq{});
  codec::owned_packet keep;
  h.take_one<codec::pingresp>("a", keep);
}

namespace {

// A refused exchange: challenged like any other, then CONNACK 0x87 and the connection closed.
void expect_refused(std::string_view user, std::string_view password) {
  harness h(scram_config());
  scram_client cl(user);
  h.connect("a", scram_connect(cl));
  codec::owned_packet keep;
  cl.answer(h.take_one<codec::auth>("a", keep), password);
  h.send("a", harness::auth_packet(reason_code::continue_authentication, method, cl.final_msg.message));
  EXPECT_EQ(h.take_one<codec::connack>("a", keep).code, reason_code::not_authorized);  // v5:MQTT-4.12.0-4
  EXPECT_TRUE(h.clients["a"].closed);
  EXPECT_EQ(h.core.session_count(), 0u);
}

// Re-authenticates the connected "a" (AUTH 0x19) and answers the challenge with `password`;
// returns the server-final a correct password earns.
std::string reauthenticate(harness& h, std::string_view password) {
  scram_client again;
  h.send("a", harness::auth_packet(reason_code::re_authenticate, method, again.first_text));
  codec::owned_packet keep;
  again.answer(h.take_one<codec::auth>("a", keep), password);
  h.send("a", harness::auth_packet(reason_code::continue_authentication, method, again.final_msg.message));
  return again.final_msg.expected_server_final;
}

}  // namespace

TEST(scram_method, wrong_password_is_refused_with_0x87_and_closed) { expect_refused("user", "not-pencil"); }

// The same for a name nobody registered: the exchange does not tell who exists (RFC 5802 §9).
TEST(scram_method, unknown_user_is_refused_only_at_the_proof) { expect_refused("nobody", "pencil"); }

TEST(scram_method, reauthentication_succeeds_with_auth_0x00) {
  harness h(scram_config());
  connect_with_scram(h);
  const auto server_final = reauthenticate(h, "pencil");
  codec::owned_packet keep;
  const auto done = h.take_one<codec::auth>("a", keep);
  EXPECT_EQ(done.code, reason_code::success);
  EXPECT_EQ(done.props.authentication_method.value_or(""), method);
  EXPECT_EQ(done.props.authentication_data.value_or(""), server_final);
  EXPECT_FALSE(h.clients["a"].closed);
}

TEST(scram_method, failed_reauthentication_disconnects_with_0x87) {
  harness h(scram_config());
  connect_with_scram(h);
  reauthenticate(h, "wrong");
  codec::owned_packet keep;
  EXPECT_EQ(h.take_one<codec::disconnect>("a", keep).code, reason_code::not_authorized);  // v5:MQTT-4.12.1-2
  EXPECT_TRUE(h.clients["a"].closed);
  EXPECT_NE(h.clients["a"].close_why.find("v5:MQTT-4.12.1-2"), std::string::npos) << h.clients["a"].close_why;
}

TEST(scram_method, reauthentication_with_another_method_is_a_protocol_error) {
  harness h(scram_config());
  connect_with_scram(h);
  h.send("a", harness::auth_packet(reason_code::re_authenticate, "SCRAM-SHA-1", "n,,n=user,r=x"));
  codec::owned_packet keep;
  EXPECT_EQ(h.take_one<codec::disconnect>("a", keep).code, reason_code::protocol_error);
  EXPECT_TRUE(h.clients["a"].closed);
}
