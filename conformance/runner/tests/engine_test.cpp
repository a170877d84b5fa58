#include "fake_broker.hpp"
#include "mqttspec/conformance/engine.hpp"
#include "mqttspec/conformance/scenario_loader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

namespace mqttspec::conformance {
namespace {

using testing::behaviour;
using testing::fake_broker;

scenario load_one(const std::string& steps, const std::string& attrs = "") {
  const std::string xml = "<scenarios><scenario id=\"t\" " + attrs +
                          "><title>t</title><requirement>r</requirement><statement ref=\"MQTT-3.1.0-1\"/><steps>" +
                          steps + "</steps></scenario></scenarios>";
  auto r = load_scenario_text(xml, suite_version::v3_1_1, "t.xml", nullptr);
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : to_string(r.errors.front()));
  return r.scenarios.at(0);
}

engine_options options(const std::string& port) {
  engine_options o;
  o.broker = {"127.0.0.1", port};
  o.timeout = std::chrono::milliseconds(300);
  o.run_token = "test";
  return o;
}

const std::string ping = R"(<connect client="a"/><send client="a" type="pingreq"/><expect client="a" type="pingresp"/>)";

TEST(engine, passes_against_a_well_behaved_broker) {
  fake_broker b(behaviour::well);
  auto s = load_one(ping);
  auto r = run_scenario(s, options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::pass) << r.message;
  EXPECT_GE(r.log.size(), 4u);
}

TEST(engine, silent_broker_fails_within_the_timeout) {
  fake_broker b(behaviour::silent);
  auto s = load_one(ping);
  const auto start = std::chrono::steady_clock::now();
  auto r = run_scenario(s, options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::fail);
  EXPECT_NE(r.observed.find("nothing within 300 ms"), std::string::npos) << r.observed;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(engine, broker_closing_at_once_fails) {
  fake_broker b(behaviour::close);
  auto r = run_scenario(load_one(ping), options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::fail);
  EXPECT_NE(r.observed.find("connection"), std::string::npos) << r.observed;
}

TEST(engine, garbage_is_a_finding) {
  fake_broker b(behaviour::garbage);
  auto r = run_scenario(load_one(ping), options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::fail);
  ASSERT_FALSE(r.findings.empty());
  EXPECT_NE(r.findings[0].find("malformed"), std::string::npos) << r.findings[0];
}

TEST(engine, refused_connection_is_a_harness_error) {
  std::string port;
  {
    fake_broker b(behaviour::close);
    port = b.port();
  }  // closed again: nothing listens there now
  auto r = run_scenario(load_one(ping), options(port), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::error) << r.message;
}

TEST(engine, levels_grade_failures) {
  fake_broker b(behaviour::silent);
  EXPECT_EQ(run_scenario(load_one(ping, "level=\"SHOULD\""), options(b.port()), default_v311(), 0).v,
            verdict::non_strict);
  EXPECT_EQ(run_scenario(load_one(ping, "level=\"MAY\""), options(b.port()), default_v311(), 0).v,
            verdict::informational);
}

TEST(engine, missing_capability_is_unsupported) {
  auto r = run_scenario(load_one(ping, "requires=\"shared-subscriptions\""), options("1"), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::unsupported);
}

TEST(capabilities, negated_tags) {
  codec::properties p;
  p.maximum_qos = 1;
  p.retain_available = 0;
  const auto caps = from_connack(p);  // QoS 1, no retain, no Topic Alias Maximum
  scenario s;
  s.requires_caps = {"!qos2", "!retain", "qos1", "!topic-alias"};
  EXPECT_TRUE(missing_capabilities(s, caps).empty());
  s.requires_caps = {"!qos1", "qos2"};
  EXPECT_EQ(missing_capabilities(s, caps), (std::vector<std::string>{"!qos1 (it has qos1)", "qos2"}));
  EXPECT_EQ(missing_capabilities(s, from_connack({})).front(), "!qos1 (it has qos1)");
  s.requires_caps = {"maximum-packet-size"};
  EXPECT_FALSE(missing_capabilities(s, caps).empty());
  p.maximum_packet_size = 1000;
  EXPECT_TRUE(missing_capabilities(s, from_connack(p)).empty());
}

TEST(capabilities, compared_values) {
  codec::properties p;
  p.receive_maximum = 2;
  const auto caps = from_connack(p);
  scenario s;
  s.requires_caps = {"receive-maximum<=2", "receive-maximum>1", "maximum-qos=2", "receive-maximum<3"};
  EXPECT_TRUE(missing_capabilities(s, caps).empty());
  s.requires_caps = {"receive-maximum<2", "server-keep-alive<=100", "receive-maximum>=x"};
  EXPECT_EQ(missing_capabilities(s, caps),
            (std::vector<std::string>{"receive-maximum<2 (it is 2)",
                                      "server-keep-alive<=100 (server-keep-alive unknown)",
                                      "receive-maximum>=x (not a number)"}));
  // No Maximum Packet Size property: no limit but the protocol's, so any size requirement holds.
  s.requires_caps = {"maximum-packet-size>=268435455"};
  EXPECT_TRUE(missing_capabilities(s, caps).empty());
}

TEST(engine, any_of_accepts_the_second_option) {
  fake_broker b(behaviour::scripted, std::string("\x20\x02\x00\x00", 4));
  auto s = load_one(R"(<connect client="a" expect="none"/><any-of><option><expect client="a" type="pingresp"/></option>
      <option><expect client="a" type="connack"/></option></any-of>)");
  auto r = run_scenario(s, options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::pass) << r.message;
}

// The scripted brokers below close every connection after their script, so a scenario that expects
// a close needs a control that asks no more than the CONNACK they do send.
const std::string connack_control = R"(<control><connect client="ok"/></control>)";

scenario load_v5(const std::string& steps, const std::string& control = connack_control) {
  const std::string xml = "<scenarios><scenario id=\"t\"><title>t</title><requirement>r</requirement>"
                          "<statement ref=\"MQTT-3.1.0-1\"/><steps>" + steps + "</steps>" + control +
                          "</scenario></scenarios>";
  auto r = load_scenario_text(xml, suite_version::v5, "t.xml", nullptr);
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : to_string(r.errors.front()));
  return r.scenarios.at(0);
}

// CONNACK 0x00 (5.0, no properties), then DISCONNECT 0x81 with a Reason String "bad" (10 bytes), then the close.
const std::string connack_then_disconnect("\x20\x03\x00\x00\x00\xE0\x08\x81\x06\x1F\x00\x03" "bad", 15);
const std::string v5_expect_close =
    R"(<connect client="a"/><expect-close client="a" require-reason="1" reasons="0x81")";

TEST(engine, expect_close_checks_the_size_of_the_reason_packet) {
  fake_broker b(behaviour::scripted, connack_then_disconnect);
  auto ok = run_scenario(load_v5(v5_expect_close + R"( max-size="10"/>)"), options(b.port()), {}, 0);
  EXPECT_EQ(ok.v, verdict::pass) << ok.message;
  auto big = run_scenario(load_v5(v5_expect_close + R"( max-size="9"/>)"), options(b.port()), {}, 0);
  EXPECT_EQ(big.v, verdict::fail);
  EXPECT_NE(big.observed.find("10 bytes, expected at most 9"), std::string::npos) << big.observed;
}

TEST(engine, nothing_may_follow_the_disconnect) {
  // ... DISCONNECT, then a PINGRESP: the sender of a DISCONNECT sends nothing more (v5:MQTT-3.14.4-1).
  fake_broker b(behaviour::scripted, connack_then_disconnect + std::string("\xD0\x00", 2));
  auto r = run_scenario(load_v5(v5_expect_close + "/>"), options(b.port()), {}, 0);
  EXPECT_EQ(r.v, verdict::fail);
  EXPECT_NE(r.observed.find("PINGRESP"), std::string::npos) << r.observed;
  EXPECT_NE(r.observed.find("after the reason code"), std::string::npos) << r.observed;
}

TEST(engine, captured_identifier_compares_later_ones) {
  // CONNACK, then two QoS 2 PUBLISH to "t" with packet identifiers 7 and 7.
  const std::string pub7("\x34\x06\x00\x01t\x00\x07\x00", 8);
  fake_broker b(behaviour::scripted, std::string("\x20\x03\x00\x00\x00", 5) + pub7 + pub7);
  auto r = run_scenario(load_v5(R"(<connect client="a"/><expect client="a" type="publish" capture-id="first"/>
      <expect client="a" type="publish" id-not="${first}"/>)"), options(b.port()), {}, 0);
  EXPECT_EQ(r.v, verdict::fail);
  EXPECT_NE(r.observed.find("id-not: got 7, expected none of 7"), std::string::npos) << r.observed;
}

// CONNECT with SCRAM-SHA-256, then an expectation that reads the broker's challenge.
const std::string scram_steps = R"(<connect client="a" expect="none" no-credentials="1">
      <property name="authentication_method" value="${auth.method}"/>
      <property name="authentication_data" value="${scram.client-first}"/></connect>
    <expect client="a" type="auth" reason="0x18" scram="server-first"/>)";

std::string auth_challenge(std::string_view data) {
  codec::auth a;
  a.code = codec::reason_code::continue_authentication;
  a.props.authentication_method = "SCRAM-SHA-256";
  a.props.authentication_data = data;
  return *codec::encode(a, codec::protocol_version::v5);
}

engine_options scram_options(const std::string& port) {
  auto o = options(port);
  o.enhanced_auth = enhanced_auth_credentials{"SCRAM-SHA-256", "user", "pencil"};
  return o;
}

TEST(engine, scram_challenge_must_extend_our_nonce) {
  // The runner's nonce is random, so a fixed server nonce can never extend it.
  fake_broker b(behaviour::scripted, auth_challenge("r=fixed-nonce,s=QUJD,i=1"));
  auto r = run_scenario(load_v5(scram_steps), scram_options(b.port()), {}, 0);
  EXPECT_EQ(r.v, verdict::fail);
  EXPECT_NE(r.expected.find("whose nonce extends ours"), std::string::npos) << r.expected;
}

TEST(engine, scram_challenge_must_be_a_server_first_message) {
  fake_broker b(behaviour::scripted, auth_challenge("not scram"));
  auto r = run_scenario(load_v5(scram_steps), scram_options(b.port()), {}, 0);
  EXPECT_EQ(r.v, verdict::fail);
  EXPECT_NE(r.expected.find("SCRAM server-first-message"), std::string::npos) << r.expected;
}

TEST(engine, scram_variables_need_credentials) {
  fake_broker b(behaviour::scripted, auth_challenge("r=x,s=QUJD,i=1"));
  auto r = run_scenario(load_v5(scram_steps), options(b.port()), {}, 0);
  EXPECT_EQ(r.v, verdict::error) << r.message;
}

// 3.1.1 bytes for the scripted brokers below.
const std::string connack311("\x20\x02\x00\x00", 4);
const std::string suback_granted_1("\x90\x03\x00\x01\x01", 5);  // id 1, granted QoS 1
const std::string publish_qos0("\x30\x04\x00\x01tx", 6);        // topic "t", payload "x"
const std::string subscribe_then(R"(<connect client="a"/>
    <send client="a" type="subscribe" id="1" filter="t" qos="2"/>)");

bool sent(const scenario_result& r, std::string_view packet) {
  return std::any_of(r.log.begin(), r.log.end(), [&](const wire_entry& e) {
    return e.direction == "send" && to_text(e).find(packet) != std::string::npos;
  });
}

TEST(engine, expect_all_accepts_any_order) {
  // The retained PUBLISH comes before the SUBACK (§3.8.4 allows it).
  fake_broker b(behaviour::scripted, connack311 + publish_qos0 + suback_granted_1);
  auto r = run_scenario(load_one(subscribe_then + R"(<expect-all>
      <expect client="a" type="suback" id="1"/><expect client="a" type="publish" payload="x"/></expect-all>)"),
                        options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::pass) << r.message;
}

TEST(engine, expect_all_fails_on_a_packet_it_did_not_expect) {
  fake_broker b(behaviour::scripted, connack311 + publish_qos0 + std::string("\xD0\x00", 2) + suback_granted_1);
  auto r = run_scenario(load_one(subscribe_then + R"(<expect-all>
      <expect client="a" type="suback" id="1"/><expect client="a" type="publish" payload="x"/></expect-all>)"),
                        options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::fail);
  EXPECT_NE(r.observed.find("PINGRESP"), std::string::npos) << r.observed;
  EXPECT_NE(r.expected.find("in any order"), std::string::npos) << r.expected;
}

TEST(engine, expect_all_fails_when_one_never_comes) {
  fake_broker b(behaviour::scripted, connack311 + suback_granted_1);
  auto r = run_scenario(load_one(subscribe_then + R"(<expect-all>
      <expect client="a" type="suback" id="1"/><expect client="a" type="publish" payload="x"/></expect-all>)"),
                        options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::fail);
  EXPECT_NE(r.observed.find("the connection"), std::string::npos) << r.observed;
}

TEST(engine, a_lower_granted_qos_passes_unless_the_scenario_needs_more) {
  fake_broker b(behaviour::scripted, connack311 + suback_granted_1);
  auto lower = run_scenario(load_one(subscribe_then + R"(<expect client="a" type="suback" id="1" codes="2"/>)"),
                            options(b.port()), default_v311(), 0);
  EXPECT_EQ(lower.v, verdict::pass) << lower.message;
  auto needs = run_scenario(
      load_one(subscribe_then + R"(<expect client="a" type="suback" id="1" codes="2" min-granted="2"/>)"),
      options(b.port()), default_v311(), 0);
  EXPECT_EQ(needs.v, verdict::unsupported);
  EXPECT_NE(needs.message.find("granted QoS 1"), std::string::npos) << needs.message;
  auto failure = run_scenario(load_one(subscribe_then + R"(<expect client="a" type="suback" id="1" codes="0x80"/>)"),
                              options(b.port()), default_v311(), 0);
  EXPECT_EQ(failure.v, verdict::fail);
}

TEST(engine, granted_qos_is_captured_for_later_steps) {
  // Granted 1, then a QoS 1 delivery: qos="${min(g,2)}" expects 1.
  fake_broker b(behaviour::scripted, connack311 + suback_granted_1 + std::string("\x32\x06\x00\x01t\x00\x07x", 8));
  auto r = run_scenario(load_one(subscribe_then + R"(<expect client="a" type="suback" id="1" capture-granted="g"/>
      <send client="a" type="pingreq"/><expect client="a" type="publish" qos="${min(g,2)}"/>)"), options(b.port()),
                        default_v311(), 0);
  EXPECT_EQ(r.v, verdict::pass) << r.message;
}

TEST(engine, deliveries_are_acknowledged_automatically) {
  // A QoS 1 PUBLISH (id 7) and a PUBREL (id 5): the client answers PUBACK and PUBCOMP, and the
  // PUBREL it answered is not shown to the steps, so the PINGRESP is the next packet.
  fake_broker b(behaviour::scripted, connack311 + std::string("\x32\x06\x00\x01t\x00\x07x", 8) +
                                         std::string("\x62\x02\x00\x05", 4) + std::string("\xD0\x00", 2));
  auto r = run_scenario(load_one(R"(<connect client="a"/><expect client="a" type="publish" qos="1"/>
      <expect client="a" type="pingresp"/>)"), options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::pass) << r.message;
  EXPECT_TRUE(sent(r, "PUBACK")) << wire_log_text(r);
  EXPECT_TRUE(sent(r, "PUBCOMP")) << wire_log_text(r);

  auto manual = run_scenario(load_one(R"(<connect client="a" auto-ack="0"/><expect client="a" type="publish" qos="1"/>
      <expect client="a" type="pubrel" id="5"/>)"), options(b.port()), default_v311(), 0);
  EXPECT_EQ(manual.v, verdict::pass) << manual.message;
  EXPECT_FALSE(sent(manual, "PUBACK")) << wire_log_text(manual);
}

TEST(engine, a_close_is_no_evidence_when_the_broker_refuses_the_control) {
  // A server that closes every connection "passes" a rejection scenario only until its control runs.
  fake_broker b(behaviour::close);
  auto s = load_one(R"(<open client="a"/><send client="a" hex="10 00"/><expect-close client="a"/>)");
  auto r = run_scenario(s, options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::error);
  EXPECT_NE(r.message.find("target refused the valid control"), std::string::npos) << r.message;

  fake_broker closing(behaviour::scripted, std::string("\x20\x03\x00\x00\x00", 5));  // a CONNACK, then the close
  auto ok = run_scenario(load_v5(R"(<connect client="a"/><expect-close client="a"/>)"), options(closing.port()), {}, 0);
  EXPECT_EQ(ok.v, verdict::pass) << ok.message;
}

TEST(engine, the_failure_names_the_statement_the_broker_broke) {
  // A PUBLISH with both QoS bits set (v3.1.1:MQTT-3.3.1-4) while the scenario waits for a close.
  fake_broker b(behaviour::scripted, connack311 + std::string("\x36\x04\x00\x01tx", 6));
  auto r = run_scenario(load_one(R"(<connect client="a"/><expect-close client="a"/>)"), options(b.port()),
                        default_v311(), 0);
  EXPECT_EQ(r.v, verdict::fail);
  EXPECT_EQ(r.broken, "v3.1.1:MQTT-3.3.1-4");
  EXPECT_EQ(failed_statement(r), r.broken);
}

TEST(engine, clients_keep_their_connection_alive_while_waiting) {
  // Keep Alive 1: a PINGREQ every 500 ms of silence; the PINGRESPs owed to them are not shown, so
  // the broker's answers do not break the expectation of silence.
  fake_broker b(behaviour::well);
  auto r = run_scenario(load_one(R"(<connect client="a" keep-alive="1"/><expect-nothing client="a" ms="1300"/>)"),
                        options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::pass) << r.message;
  EXPECT_TRUE(sent(r, "PINGREQ")) << wire_log_text(r);

  auto off = run_scenario(load_one(R"(<connect client="a" keep-alive="1" auto-ping="0"/><expect-nothing client="a" ms="700"/>)"),
                          options(b.port()), default_v311(), 0);
  EXPECT_EQ(off.v, verdict::pass) << off.message;
  EXPECT_FALSE(sent(off, "PINGREQ")) << wire_log_text(off);
}

TEST(engine, an_option_can_make_the_scenario_unsupported) {
  fake_broker b(behaviour::scripted, connack311);
  auto r = run_scenario(load_one(R"(<connect client="a"/><any-of>
      <option><expect client="a" type="pingresp"/></option>
      <option unsupported="the broker closed at once"><expect-close client="a"/></option></any-of>)"),
                        options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::unsupported);
  EXPECT_NE(r.message.find("the broker closed at once"), std::string::npos) << r.message;
}

TEST(engine, prefix_is_fixed_width_and_alphanumeric) {
  EXPECT_EQ(make_prefix("abcd", 0), "msabcd000");
  EXPECT_EQ(make_prefix("abcd", 37), "msabcd011");
  EXPECT_EQ(make_run_token().size(), 4u);
}

}  // namespace
}  // namespace mqttspec::conformance
