// The runner over WebSocket: ws:// and wss:// targets, the section 6 scenarios against the embedded
// broker's WebSocket listener (pass) and over plain TCP (unsupported), and ws-* step attributes
// refused as a harness error on a plain connection.
#include "fake_broker.hpp"
#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/engine.hpp"
#include "mqttspec/conformance/scenario_loader.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace mqttspec::conformance {
namespace {

namespace fs = std::filesystem;

TEST(websocket_target, parse_forms) {
  auto t = parse_target("ws://broker.example:9001/mqtt");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "broker.example");
  EXPECT_EQ(t->port, "9001");
  EXPECT_EQ(t->ws_path, "/mqtt");
  EXPECT_FALSE(t->secure);
  EXPECT_EQ(t->display(), "ws://broker.example:9001/mqtt");

  t = parse_target("ws://broker");  // RFC 6455 3: port 80, path "/"
  ASSERT_TRUE(t);
  EXPECT_EQ(t->port, "80");
  EXPECT_EQ(t->ws_path, "/");

  t = parse_target("wss://[::1]/a/b?x=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, "443");
  EXPECT_EQ(t->ws_path, "/a/b?x=1");
  EXPECT_TRUE(t->secure);
  EXPECT_EQ(t->display(), "wss://[::1]:443/a/b?x=1");
  EXPECT_EQ(parse_target(t->display())->display(), t->display());  // rerun hints read back

  EXPECT_FALSE(parse_target("ws://"));
  EXPECT_FALSE(parse_target("ws://:9001/mqtt"));
  EXPECT_FALSE(parse_target("ws://h:0/mqtt"));
  EXPECT_FALSE(parse_target("ws://h:99999/mqtt"));
  EXPECT_FALSE(parse_target("ws://user@h/mqtt"));
  EXPECT_FALSE(parse_target("ws://h/a b"));
  EXPECT_FALSE(parse_target("127.0.0.1:1883")->ws_path);
}

// A scenario directory holding only the two websocket.xml files.
fs::path websocket_scenarios() {
  const auto dir = fs::temp_directory_path() / ("mqttspec-ws-scenarios-" + std::to_string(::getpid()));
  for (const char* v : {"v3.1.1", "v5.0"}) {
    fs::create_directories(dir / v);
    fs::copy_file(fs::path(MQTTSPEC_SOURCE_DIR "/conformance/scenarios") / v / "websocket.xml", dir / v / "websocket.xml",
                  fs::copy_options::overwrite_existing);
  }
  return dir;
}

std::map<std::string, std::string> run_section_6(bool websocket, int& status) {
  const auto scenarios = websocket_scenarios();
  run_request req;
  req.websocket = websocket;
  req.quiet = true;
  req.report_dir = scenarios / (websocket ? "report-ws" : "report-tcp");
  req.paths = {scenarios, MQTTSPEC_SOURCE_DIR "/conformance/statements"};
  std::ostringstream out, err;
  status = run_command(req, out, err);
  std::map<std::string, std::string> verdicts;
  std::ifstream in(req.report_dir / "results.json");
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) {
    ADD_FAILURE() << out.str() << err.str();
    return verdicts;
  }
  for (const auto& r : j["results"]) verdicts[r["id"].get<std::string>()] = r["verdict"].get<std::string>();
  return verdicts;
}

TEST(websocket_run, section_6_passes_against_the_embedded_broker_over_websocket) {
  int status = -1;
  const auto verdicts = run_section_6(true, status);
  EXPECT_EQ(status, 0);
  EXPECT_GE(verdicts.size(), 20u);
  for (const auto& [id, v] : verdicts) EXPECT_EQ(v, "pass") << id;
}

TEST(websocket_run, section_6_is_unsupported_over_plain_tcp) {
  int status = -1;
  const auto verdicts = run_section_6(false, status);
  EXPECT_EQ(status, 0);
  EXPECT_GE(verdicts.size(), 20u);
  for (const auto& [id, v] : verdicts) EXPECT_EQ(v, "unsupported") << id;
}

scenario load_one(const std::string& steps) {
  const std::string xml =
      "<scenarios><scenario id=\"t\"><title>t</title><requirement>r</requirement><statement ref=\"MQTT-6.0.0-1\"/><steps>" +
      steps + "</steps></scenario></scenarios>";
  auto r = load_scenario_text(xml, suite_version::v3_1_1, "t.xml", nullptr);
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : to_string(r.errors.front()));
  return r.scenarios.at(0);
}

TEST(websocket_run, ws_attributes_on_a_plain_connection_are_a_harness_error) {
  testing::fake_broker b(testing::behaviour::well);
  engine_options o;
  o.broker = {"127.0.0.1", b.port()};
  o.timeout = std::chrono::milliseconds(300);
  o.run_token = "test";
  for (const char* step : {"<send client=\"a\" type=\"pingreq\" ws-opcode=\"text\"/>",
                           "<send client=\"a\" type=\"pingreq\" ws-split=\"1\"/>"}) {
    auto s = load_one(std::string("<open client=\"a\"/>") + step);
    auto r = run_scenario(s, o, {}, 0);
    EXPECT_EQ(r.v, verdict::error) << step;
    EXPECT_NE(r.message.find("WebSocket"), std::string::npos) << r.message;
  }
  auto s = load_one("<open client=\"a\" ws-subprotocol=\"mqtt\"/>");
  EXPECT_EQ(run_scenario(s, o, {}, 0).v, verdict::error);
}

TEST(websocket_run, failed_handshake_is_a_harness_error) {
  for (auto how : {testing::behaviour::close, testing::behaviour::garbage, testing::behaviour::silent}) {
    testing::fake_broker b(how);
    engine_options o;
    o.broker = {"127.0.0.1", b.port(), "/mqtt"};
    o.timeout = std::chrono::milliseconds(300);
    // A broker that speaks no HTTP: a harness error that names the WebSocket connection.
    auto r = run_scenario(load_one("<open client=\"a\"/><send client=\"a\" type=\"pingreq\"/>"), o, {}, 0);
    EXPECT_EQ(r.v, verdict::error);
    EXPECT_NE(r.message.find("WebSocket"), std::string::npos) << r.message;
  }
}

TEST(websocket_run, bad_ws_attribute_values_are_refused) {
  // The loader: ws-split wants a number, ws-hold a boolean; other ws-* names do not exist.
  const std::string head = "<scenarios><scenario id=\"t\"><title>t</title><requirement>r</requirement>"
                           "<statement ref=\"MQTT-6.0.0-2\"/><steps><open client=\"a\"/>";
  for (const char* bad : {"<send client=\"a\" type=\"pingreq\" ws-split=\"x\"/>",
                          "<send client=\"a\" type=\"pingreq\" ws-hold=\"maybe\"/>",
                          "<send client=\"a\" type=\"pingreq\" ws-frame=\"1\"/>"}) {
    auto l = load_scenario_text(head + bad + "</steps></scenario></scenarios>", suite_version::v5, "t.xml", nullptr);
    EXPECT_FALSE(l.errors.empty()) << bad;
  }
}

}  // namespace
}  // namespace mqttspec::conformance
