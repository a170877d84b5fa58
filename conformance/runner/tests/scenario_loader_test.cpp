#include "mqttspec/conformance/scenario_loader.hpp"
#include "mqttspec/conformance/selection.hpp"

#include <gtest/gtest.h>

namespace mqttspec::conformance {
namespace {

constexpr const char* one = R"(<scenarios>
  <scenario id="x.one" level="SHOULD" requires="retain">
    <title>t</title><requirement>r</requirement>
    <statement ref="MQTT-3.1.0-1"/>
    <steps>
      <connect client="a"/>
      <send client="a" type="publish" topic="a/${prefix}" qos="1" id="1"/>
      <expect client="a" type="puback" id="1"/>
    </steps>
    <cleanup><clear-retained topic="a"/></cleanup>
  </scenario>
</scenarios>)";

TEST(scenario_loader, loads_fields) {
  auto r = load_scenario_text(one, suite_version::v5, "f.xml", nullptr);
  ASSERT_TRUE(r.errors.empty()) << to_string(r.errors.front());
  ASSERT_EQ(r.scenarios.size(), 1u);
  const auto& s = r.scenarios[0];
  EXPECT_EQ(s.id, "x.one");
  EXPECT_EQ(s.lvl, level::should);
  EXPECT_EQ(s.statements, std::vector<std::string>{"v5:MQTT-3.1.0-1"});
  EXPECT_EQ(s.section, "3.1.0");
  EXPECT_EQ(s.requires_caps, std::vector<std::string>{"retain"});
  ASSERT_EQ(s.steps.size(), 3u);
  EXPECT_EQ(s.steps[1].kind, step_kind::send);
  EXPECT_EQ(s.steps[1].attrs.at("topic"), "a/${prefix}");  // expanded at run time
  EXPECT_EQ(s.cleanup.size(), 1u);
}

TEST(scenario_loader, reports_errors_with_lines) {
  const char* bad = "<scenarios>\n<scenario id=\"b\">\n<title>t</title><requirement>r</requirement>\n"
                    "<statement ref=\"MQTT-1\"/>\n<steps>\n<send client=\"a\" type=\"bogus\" qos=\"7\"/>\n"
                    "<frobnicate/>\n</steps></scenario></scenarios>";
  auto r = load_scenario_text(bad, suite_version::v3_1_1, "b.xml", nullptr);
  ASSERT_GE(r.errors.size(), 3u);
  std::string all;
  for (const auto& e : r.errors) all += to_string(e) + "\n";
  EXPECT_NE(all.find("b.xml:6: <send>: unknown packet type bogus"), std::string::npos) << all;
  EXPECT_NE(all.find("qos=\"7\""), std::string::npos) << all;
  EXPECT_NE(all.find("b.xml:7: unknown step <frobnicate>"), std::string::npos) << all;
}

TEST(scenario_loader, xml_syntax_error) {
  auto r = load_scenario_text("<scenarios><scenario>", suite_version::v5, "s.xml", nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("XML"), std::string::npos);
}

TEST(scenario_loader, any_of_only_expectations) {
  const char* x = R"(<scenarios><scenario id="a"><title>t</title><requirement>r</requirement>
    <statement ref="MQTT-3.1.0-1"/><steps><any-of><option><send client="a" type="pingreq"/></option>
    <option><expect-close client="a"/></option></any-of></steps></scenario></scenarios>)";
  auto r = load_scenario_text(x, suite_version::v5, "a.xml", nullptr);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].message.find("may only hold"), std::string::npos);
}

TEST(scenario_loader, for_each_expands_scenarios_and_steps) {
  const char* x = R"(<scenarios><for-each var="q p" values="0:a 1:b">
    <scenario id="fe.${q}"><title>t ${p}</title><requirement>r</requirement><statement ref="MQTT-3.1.0-1"/>
    <steps><for-each var="n" values="1 2 3"><send client="c" type="publish" topic="t/${p}" qos="${q}" id="${n}"/></for-each></steps>
    </scenario></for-each></scenarios>)";
  auto r = load_scenario_text(x, suite_version::v5, "fe.xml", nullptr);
  ASSERT_TRUE(r.errors.empty()) << to_string(r.errors.front());
  ASSERT_EQ(r.scenarios.size(), 2u);
  EXPECT_EQ(r.scenarios[1].id, "fe.1");
  EXPECT_EQ(r.scenarios[1].title, "t b");
  ASSERT_EQ(r.scenarios[1].steps.size(), 3u);
  EXPECT_EQ(r.scenarios[1].steps[2].attrs.at("id"), "3");
  EXPECT_EQ(r.scenarios[1].steps[2].attrs.at("qos"), "1");
}

TEST(scenario_loader, repository_scenarios_load_cleanly) {
  catalog cat;
  ASSERT_FALSE(catalog::load(MQTTSPEC_SOURCE_DIR "/conformance/statements", cat));
  auto r = load_scenarios(MQTTSPEC_SOURCE_DIR "/conformance/scenarios", &cat);
  for (const auto& e : r.errors) ADD_FAILURE() << to_string(e);
  EXPECT_GT(r.scenarios.size(), 100u);
}

// One 5.0 scenario around `steps`, linted as the loader does.
std::vector<std::string> lint_errors(const std::string& steps, const std::string& attrs = "") {
  const std::string xml = "<scenarios><scenario id=\"t\" " + attrs + "><title>t</title><requirement>r</requirement>"
                          "<statement ref=\"MQTT-3.1.0-1\"/><steps>" + steps + "</steps></scenario></scenarios>";
  std::vector<std::string> out;
  for (const auto& e : load_scenario_text(xml, suite_version::v5, "t.xml", nullptr).errors) out.push_back(e.message);
  return out;
}

const std::string subscribed = R"(<connect client="s"/><send client="s" type="subscribe" id="1" filter="t" qos="1"/>)";

TEST(scenario_lint, suback_and_publish_in_sequence_need_a_group) {
  auto e = lint_errors(subscribed + R"(<expect client="s" type="suback" id="1"/><expect client="s" type="publish"/>)");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("<expect-all>"), std::string::npos) << e[0];
  // Expectations of another client between them change nothing; something sent in between does.
  EXPECT_EQ(lint_errors(subscribed + R"(<expect client="s" type="suback" id="1"/><expect client="o" type="pingresp"/>
      <expect client="s" type="publish"/>)").size(), 1u);
  EXPECT_TRUE(lint_errors(subscribed + R"(<expect client="s" type="suback" id="1"/>
      <send client="s" type="publish" topic="t" qos="0"/><expect client="s" type="publish"/>)").empty());
  EXPECT_TRUE(lint_errors(subscribed + R"(<expect-all><expect client="s" type="suback" id="1"/>
      <expect client="s" type="publish"/></expect-all>)").empty());
}

TEST(scenario_lint, acks_are_sent_only_by_clients_without_auto_ack) {
  const std::string delivery = R"(<expect client="s" type="suback" id="1"/>
      <send client="s" type="publish" topic="t" qos="1" id="2"/><expect client="s" type="puback" id="2"/>
      <expect client="s" type="publish" capture-id="d"/><send client="s" type="puback" id="${d}"/>)";
  auto e = lint_errors(subscribed + delivery);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("auto-ack"), std::string::npos) << e[0];
  const std::string manual = R"(<connect client="s" auto-ack="0"/><send client="s" type="subscribe" id="1" filter="t" qos="1"/>)";
  EXPECT_TRUE(lint_errors(manual + delivery).empty());
}

TEST(scenario_lint, big_packets_respect_the_advertised_maximum) {
  const std::string big = R"(<connect client="p"/><send client="p" type="publish" topic="t" qos="0" payload="x" payload-repeat="300"/>)";
  auto e = lint_errors(big);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("Maximum Packet Size"), std::string::npos) << e[0];
  EXPECT_TRUE(lint_errors(big, R"(requires="maximum-packet-size&gt;=400")").empty());
  EXPECT_TRUE(lint_errors(R"(<connect client="p"/><send client="p" type="publish" topic="t" qos="0" payload="x"
      payload-repeat="${cap.maximum-packet-size}"/>)").empty());
}

TEST(scenario_loader, expect_all_holds_only_expectations) {
  EXPECT_FALSE(lint_errors(R"(<expect-all><expect client="a" type="suback"/><drop client="a"/></expect-all>)").empty());
  EXPECT_FALSE(lint_errors(R"(<expect-all><expect client="a" type="suback"/></expect-all>)").empty());
}

TEST(selection, by_id_glob_statement_and_section) {
  auto r = load_scenario_text(one, suite_version::v5, "f.xml", nullptr);
  const auto& s = r.scenarios[0];
  EXPECT_TRUE(matches(s, "x.one", nullptr));
  EXPECT_TRUE(matches(s, "x.*", nullptr));
  EXPECT_TRUE(matches(s, "MQTT-3.1.0-1", nullptr));
  EXPECT_TRUE(matches(s, "v5:MQTT-3.1.0-1", nullptr));
  EXPECT_FALSE(matches(s, "v3.1.1:MQTT-3.1.0-1", nullptr));
  EXPECT_TRUE(matches(s, "3.1", nullptr));
  EXPECT_FALSE(matches(s, "3.10", nullptr));
  EXPECT_FALSE(matches(s, "y.*", nullptr));
}

}  // namespace
}  // namespace mqttspec::conformance
