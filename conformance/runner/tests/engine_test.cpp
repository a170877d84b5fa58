#include "fake_broker.hpp"
#include "mqttspec/conformance/engine.hpp"
#include "mqttspec/conformance/scenario_loader.hpp"

#include <gtest/gtest.h>

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

TEST(engine, any_of_accepts_the_second_option) {
  fake_broker b(behaviour::close);
  auto s = load_one(R"(<open client="a"/><any-of><option><expect client="a" type="connack"/></option>
      <option><expect-close client="a"/></option></any-of>)");
  auto r = run_scenario(s, options(b.port()), default_v311(), 0);
  EXPECT_EQ(r.v, verdict::pass) << r.message;
}

TEST(engine, prefix_is_fixed_width_and_alphanumeric) {
  EXPECT_EQ(make_prefix("abcd", 0), "msabcd000");
  EXPECT_EQ(make_prefix("abcd", 37), "msabcd011");
  EXPECT_EQ(make_run_token().size(), 4u);
}

}  // namespace
}  // namespace mqttspec::conformance
