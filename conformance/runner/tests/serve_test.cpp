// Client conformance (`mqttspec serve`): the loader's client role, the monitor of client
// obligations, the client-packet predicates, the Server's packet builder and the driver protocol.
// conformance/pytest/clients plays the whole thing against real client libraries.
#include "../src/serve_driver.hpp"
#include "../src/serve_engine.hpp"
#include "../src/serve_monitor.hpp"
#include "mqttspec/conformance/client_role.hpp"
#include "mqttspec/conformance/commands.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

namespace mqttspec::conformance {
namespace {

using codec::protocol_version;

std::string one(const std::string& steps) {
  return R"(<scenarios><scenario id="v5.client.t"><title>t</title><requirement>r</requirement>
    <statement ref="MQTT-3.1.0-1"/><steps>)" + steps + "</steps></scenario></scenarios>";
}

std::vector<std::string> errors(const std::string& xml, scenario_role role) {
  std::vector<std::string> out;
  for (const auto& e : load_scenario_text(xml, suite_version::v5, "t.xml", nullptr, role).errors) out.push_back(e.message);
  return out;
}

TEST(ServeLoader, ClientRoleReadsApplicationSteps) {
  const auto xml = one(R"(<app client="c" do="connect keep-alive=2"/>
    <connect client="c" keep-alive="2" clean="1" session-present="0"><property name="receive_maximum" value="2"/></connect>
    <expect-app client="c" event="connected" session-present="0"/>
    <expect client="c" type="subscribe" capture-id="s"><topic filter="a/#" qos="1"/></expect>
    <send client="c" type="suback" id="${s}" codes="1"/>
    <expect-nothing client="c" ms="10" event="message"/>)");
  auto r = load_scenario_text(xml, suite_version::v5, "t.xml", nullptr, scenario_role::client);
  ASSERT_TRUE(r.errors.empty()) << r.errors.front().message;
  ASSERT_EQ(r.scenarios.size(), 1u);
  const auto& steps = r.scenarios[0].steps;
  EXPECT_EQ(steps[0].kind, step_kind::send);
  EXPECT_EQ(steps[0].attrs.at("do"), "connect keep-alive=2");
  EXPECT_EQ(steps[2].kind, step_kind::expect);
  EXPECT_EQ(steps[2].attrs.at("event"), "connected");
  EXPECT_EQ(steps[3].topics.size(), 1u);
}

TEST(ServeLoader, RolesKeepTheirOwnSteps) {
  EXPECT_FALSE(errors(one(R"(<app client="c" do="connect"/>)"), scenario_role::broker).empty());
  EXPECT_FALSE(errors(one(R"(<clear-retained topic="a"/>)"), scenario_role::client).empty());
  EXPECT_FALSE(errors(one(R"(<expect-app client="c"/>)"), scenario_role::client).empty());  // event missing
  EXPECT_TRUE(errors(one(R"(<expect client="c" type="connect" no-will="1" client-id=""/>)"), scenario_role::client).empty());
  EXPECT_FALSE(errors(one(R"(<expect client="c" type="connect" no-will="maybe"/>)"), scenario_role::client).empty());
}

TEST(ServeLoader, ShippedClientScenariosLoadAndNameRealStatements) {
  catalog cat;
  ASSERT_FALSE(catalog::load(MQTTSPEC_SOURCE_DIR "/conformance/statements", cat));
  auto r = load_client_scenarios(MQTTSPEC_SOURCE_DIR "/conformance/scenarios", &cat);
  for (const auto& e : r.errors) ADD_FAILURE() << to_string(e);
  EXPECT_GT(r.scenarios.size(), 60u);
  for (const auto& s : r.scenarios) {
    EXPECT_TRUE(s.id.starts_with("v3.1.1.client.") || s.id.starts_with("v5.client.")) << s.id;
    for (const auto& id : s.statements) EXPECT_TRUE(client_relevant(*cat.find(id))) << s.id << " " << id;
  }
  std::map<std::string, std::string, std::less<>> untestable;
  EXPECT_FALSE(load_client_untestable(MQTTSPEC_SOURCE_DIR "/conformance/statements", cat, untestable));
  EXPECT_FALSE(untestable.empty());
}

// A packet decoded from hex, its views into the bytes it keeps.
codec::owned_packet owned(std::string_view hex, protocol_version v) {
  auto storage = std::make_shared<const codec::bytes>(*codec::from_hex(hex));
  auto d = codec::decode(*storage, v);
  EXPECT_TRUE(d) << hex;
  return {storage, d ? *d : codec::packet{}};
}

codec::publish publish(std::uint16_t id, codec::qos q, std::string_view payload, bool dup = false) {
  codec::publish p;
  p.topic = "a";
  p.qos_level = q;
  p.packet_id = id;
  p.payload = payload;
  p.dup = dup;
  return p;
}

codec::connect connect_packet(bool clean) {
  codec::connect c;
  c.clean_start = clean;
  c.client_id = "c";
  return c;
}

std::vector<std::string> statements(const client_monitor& m) {
  std::vector<std::string> out;
  for (const auto& f : m.findings()) out.push_back(f.statement);
  return out;
}

TEST(ClientMonitor, ConnectFirstAndNothingAfterDisconnect) {
  client_monitor m(protocol_version::v5);
  m.on_connection();
  m.on_client_packet(codec::pingreq{}, 2);
  m.on_client_packet(codec::disconnect{}, 2);
  m.on_client_packet(codec::pingreq{}, 2);
  EXPECT_EQ(statements(m), (std::vector<std::string>{"v5:MQTT-3.1.0-1", "v5:MQTT-3.14.4-1"}));
}

TEST(ClientMonitor, ReceiveMaximumAndIdentifiersInUse) {
  client_monitor m(protocol_version::v5);
  m.on_connection();
  m.on_client_packet(connect_packet(true), 10);
  codec::connack ack;
  ack.props.receive_maximum = 2;
  m.on_server_packet(ack);
  m.on_client_packet(publish(1, codec::qos::at_least_once, "x"), 10);
  m.on_client_packet(publish(2, codec::qos::at_least_once, "y"), 10);
  EXPECT_TRUE(m.findings().empty());
  m.on_client_packet(publish(3, codec::qos::at_least_once, "z"), 10);
  EXPECT_EQ(statements(m), std::vector<std::string>{"v5:MQTT-3.3.4-7"});
  m.on_server_packet(codec::puback{1, {}, {}});
  codec::subscribe s;
  s.packet_id = 2;  // still a QoS 1 flow
  m.on_client_packet(s, 10);
  EXPECT_EQ(statements(m).back(), "v5:MQTT-2.2.1-3");
}

TEST(ClientMonitor, ResendOnTheNextConnectionOnlyAndNeverAfterPubrel) {
  client_monitor m(protocol_version::v5);
  m.on_connection();
  m.on_client_packet(connect_packet(false), 10);
  m.on_server_packet(codec::connack{});
  m.on_client_packet(publish(7, codec::qos::at_least_once, "x"), 10);
  m.on_client_packet(publish(7, codec::qos::at_least_once, "x", true), 10);  // same connection
  EXPECT_EQ(statements(m), std::vector<std::string>{"v5:MQTT-4.4.0-1"});
  m.on_connection();
  m.on_client_packet(connect_packet(false), 10);
  codec::connack present;
  present.session_present = true;
  m.on_server_packet(present);
  m.on_client_packet(publish(7, codec::qos::at_least_once, "x", true), 10);  // the legal resend
  EXPECT_EQ(m.findings().size(), 1u);
  m.on_client_packet(publish(8, codec::qos::exactly_once, "q"), 10);
  m.on_server_packet(codec::pubrec{8, {}, {}});
  m.on_client_packet(codec::pubrel{8, {}, {}}, 4);
  m.on_client_packet(publish(8, codec::qos::exactly_once, "q", true), 10);
  EXPECT_EQ(statements(m).back(), "v5:MQTT-4.3.3-6");
}

TEST(ClientMonitor, LimitsOfTheConnack) {
  client_monitor m(protocol_version::v5);
  m.on_connection();
  m.on_client_packet(connect_packet(true), 10);
  codec::connack ack;
  ack.props.maximum_qos = 1;
  ack.props.retain_available = 0;
  ack.props.maximum_packet_size = 20;
  m.on_server_packet(ack);
  auto p = publish(1, codec::qos::exactly_once, "x");
  p.retain = true;
  p.props.topic_alias = 1;
  m.on_client_packet(p, 30);
  EXPECT_EQ(statements(m), (std::vector<std::string>{"v5:MQTT-3.2.2-15", "v5:MQTT-3.2.2-11", "v5:MQTT-3.2.2-14",
                                                      "v5:MQTT-3.2.2-18"}));
}

TEST(ClientMonitor, AuthOnlyWithAMethod) {
  client_monitor m(protocol_version::v5);
  m.on_connection();
  auto c = connect_packet(true);
  c.props.authentication_method = "m";
  m.on_client_packet(c, 10);
  m.on_client_packet(codec::pingreq{}, 2);  // before the CONNACK
  EXPECT_EQ(statements(m), std::vector<std::string>{"v5:MQTT-3.1.2-30"});
  client_monitor n(protocol_version::v5);
  n.on_connection();
  n.on_client_packet(connect_packet(true), 10);
  n.on_server_packet(codec::connack{});
  n.on_client_packet(codec::auth{}, 2);
  EXPECT_EQ(statements(n), std::vector<std::string>{"v5:MQTT-4.12.0-7"});
}

TEST(ClientMonitor, ZeroLengthClientIdNeedsCleanSessionIn311) {
  client_monitor m(protocol_version::v3_1_1);
  m.on_connection();
  codec::connect c;
  c.version = protocol_version::v3_1_1;
  c.clean_start = false;
  m.on_client_packet(c, 14);
  EXPECT_EQ(statements(m), std::vector<std::string>{"v3.1.1:MQTT-3.1.3-7"});
}

TEST(ClientPredicates, ConnectAndSubscribeFields) {
  // CONNECT 3.1.1: clean, keep alive 10, id "c1", will "w"/"x" QoS 1, user "u", password "p"
  const auto hex = "10 1a 0004 4d515454 04 ce 000a 0002 6331 0001 77 0001 78 0001 75 0001 70";
  const auto p = owned(hex, protocol_version::v3_1_1);
  const auto v = protocol_version::v3_1_1;
  EXPECT_FALSE(match_client_packet(p, {{"type", "connect"}, {"clean", "1"}, {"keep-alive", "10"}, {"client-id", "c1"},
                                       {"will-topic", "w"}, {"will-payload", "x"}, {"will-qos", "1"}, {"username", "u"},
                                       {"password", "p"}}, {}, {}, v));
  EXPECT_TRUE(match_client_packet(p, {{"type", "connect"}, {"no-will", "1"}}, {}, {}, v));
  EXPECT_TRUE(match_client_packet(p, {{"type", "connect"}, {"no-credentials", "1"}}, {}, {}, v));
  EXPECT_TRUE(match_client_packet(p, {{"type", "connect"}, {"keep-alive", "60"}}, {}, {}, v));
  // SUBSCRIBE 5.0: id 1, "a/#" with No Local and QoS 1
  const auto sub = "82 09 0001 00 0003 612f23 05";
  const auto s = owned(sub, protocol_version::v5);
  EXPECT_FALSE(match_client_packet(s, {{"type", "subscribe"}, {"filter", "a/#"}, {"qos", "1"}},
                                   {{{"filter", "a/#"}, {"qos", "1"}, {"no-local", "1"}}}, {}, protocol_version::v5));
  EXPECT_TRUE(match_client_packet(s, {{"type", "subscribe"}}, {{{"filter", "a/#"}, {"no-local", "0"}}}, {},
                                  protocol_version::v5));
}

TEST(ServerPackets, ConnackSubackUnsuback) {
  auto c = build_server_send({{"type", "connack"}, {"reason", "5"}, {"session-present", "0"}}, {}, {}, protocol_version::v3_1_1);
  ASSERT_TRUE(c);
  EXPECT_EQ(codec::to_hex(*c), "20020005");
  auto c5 = build_server_send({{"type", "connack"}, {"session-present", "1"}}, {}, {{{"name", "receive_maximum"}, {"value", "2"}}},
                              protocol_version::v5);
  ASSERT_TRUE(c5);
  EXPECT_EQ(codec::to_hex(*c5), "200601000321" "0002");
  auto s = build_server_send({{"type", "suback"}, {"id", "7"}, {"codes", "1 0x80"}}, {}, {}, protocol_version::v3_1_1);
  ASSERT_TRUE(s);
  EXPECT_EQ(codec::to_hex(*s), "900400070180");
  auto u = build_server_send({{"type", "unsuback"}, {"id", "7"}, {"codes", "0x11"}}, {}, {}, protocol_version::v5);
  ASSERT_TRUE(u);
  EXPECT_EQ(codec::to_hex(*u), "b00400070011");
  EXPECT_FALSE(build_server_send({{"type", "connack"}, {"reason", "9"}}, {}, {}, protocol_version::v3_1_1));
}

TEST(DriverProtocol, EventsWordsAndCommands) {
  const auto e = parse_app_event("message topic=a%2Fb qos=1 retain=0 payload=6869");
  EXPECT_EQ(e.kind, "message");
  EXPECT_EQ(e.fields.at("topic"), "a%2Fb");
  EXPECT_FALSE(match_app_event(e, {{"event", "message"}, {"topic", "a/b"}, {"payload", "hi"}, {"qos", "0|1"}}));
  EXPECT_TRUE(match_app_event(e, {{"event", "message"}, {"payload", "ho"}}));
  EXPECT_TRUE(match_app_event(e, {{"event", "connected"}}));
  EXPECT_EQ(percent_decode("a%00b%zz%4"), std::string("a\0b%zz%4", 8));
  EXPECT_EQ(split_command(R"(python3 "a b.py" --x 'c d' e\ f)"),
            (std::vector<std::string>{"python3", "a b.py", "--x", "c d", "e f"}));
}

TEST(ClientCoverage, CountsEveryClientStatement) {
  std::ostringstream out, err;
  const suite_paths paths{MQTTSPEC_SOURCE_DIR "/conformance/scenarios", MQTTSPEC_SOURCE_DIR "/conformance/statements"};
  ASSERT_EQ(client_coverage_command(paths, false, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("v5:MQTT-3.3.4-7  [client]  covered"), std::string::npos);
  EXPECT_NE(out.str().find("MQTT 3.1.1 (client role)"), std::string::npos);
  std::ostringstream list;
  ASSERT_EQ(client_list_command(paths, {"v5.client.limits.*"}, "5.0", list, err), 0);
  EXPECT_NE(list.str().find("v5.client.limits.receive-maximum"), std::string::npos);
}

}  // namespace
}  // namespace mqttspec::conformance
