#include "fake_broker.hpp"
#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/reports.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mqttspec::conformance {
namespace {

// A whole `run` against a broker that never answers: it must finish with exit status 2 (its
// version probes fail, so every scenario is an unplayed error) and still write every report, with
// a JUnit file that validates against reports/junit.xsd.
TEST(reports, written_and_valid_against_a_silent_broker) {
  testing::fake_broker b(testing::behaviour::silent);
  const auto dir = std::filesystem::temp_directory_path() / ("mqttspec-reports-" + b.port());
  std::filesystem::remove_all(dir);
  run_request req;
  req.broker = target{"127.0.0.1", b.port()};
  req.selectors = {"v3.1.1.connect.*", "v5.connect.accept"};
  req.timeout_ms = 100;
  req.jobs = 2;
  req.quiet = true;
  req.report_dir = dir;
  req.paths = {MQTTSPEC_SOURCE_DIR "/conformance/scenarios", MQTTSPEC_SOURCE_DIR "/conformance/statements"};
  std::ostringstream out, err;
  EXPECT_EQ(run_command(req, out, err), 2) << out.str() << err.str();
  for (const char* f : {"junit.xml", "results.json", "statements.csv", "statements.md", "report.html"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  EXPECT_NE(out.str().find("rerun: mqttspec run"), std::string::npos);
  const std::string cmd = "xmllint --noout --schema " MQTTSPEC_SOURCE_DIR "/reports/junit.xsd " +
                          (dir / "junit.xml").string() + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::filesystem::remove_all(dir);
}

TEST(reports, unreachable_broker_is_exit_2_with_reports) {
  std::string port;
  {
    testing::fake_broker b(testing::behaviour::close);
    port = b.port();
  }
  const auto dir = std::filesystem::temp_directory_path() / ("mqttspec-reports-down-" + port);
  run_request req;
  req.broker = target{"127.0.0.1", port};
  req.selectors = {"v3.1.1.connect.accept"};
  req.quiet = true;
  req.report_dir = dir;
  req.paths = {MQTTSPEC_SOURCE_DIR "/conformance/scenarios", MQTTSPEC_SOURCE_DIR "/conformance/statements"};
  std::ostringstream out, err;
  EXPECT_EQ(run_command(req, out, err), 2);
  EXPECT_TRUE(std::filesystem::exists(dir / "junit.xml"));
  std::filesystem::remove_all(dir);
}

TEST(reports, parse_target_forms) {
  EXPECT_EQ(parse_target("localhost:1884")->port, "1884");
  EXPECT_EQ(parse_target("[::1]:1883")->host, "::1");
  EXPECT_EQ(parse_target("broker")->port, "1883");
  EXPECT_FALSE(parse_target("a:0"));
  EXPECT_FALSE(parse_target("a:99999"));
}

TEST(findings, normalization_hides_what_varies_between_scenarios) {
  const auto norm = [](std::string_view s) { return normalize_observation(s); };
  // Topic prefix ("ms" + run token + scenario index), packet ids, payloads (text or bytes).
  EXPECT_EQ(norm(R"(PUBLISH(qos=1, dup=0, id=17, topic="mqttspec/msab12003/r", payload=2 bytes "m1") (dup=0))"),
            R"(PUBLISH(qos=1, dup=0, id=<id>, topic="mqttspec/<prefix>/r", payload=<payload>) (dup=0))");
  EXPECT_EQ(norm(R"(PUBLISH(qos=1, dup=0, id=3, topic="mqttspec/mszz9x01a/r", payload=40 bytes [00 01 ...]) (dup=0))"),
            R"(PUBLISH(qos=1, dup=0, id=<id>, topic="mqttspec/<prefix>/r", payload=<payload>) (dup=0))");
  EXPECT_EQ(norm("PUBACK(id=5, code=0x00 Success) (id=5, expected 3)"),
            "PUBACK(id=<id>, code=0x00 Success) (id=<id>, expected <id>)");
  EXPECT_EQ(norm("PUBLISH(...) (id-not: got 7, expected none of 7 8)"),
            "PUBLISH(...) (id-not: got <id>, expected none of <id>)");
  // Milliseconds and byte offsets.
  EXPECT_EQ(norm("nothing within 2000 ms"), "nothing within <n> ms");
  EXPECT_EQ(norm("closed after only 312 ms"), "closed after only <n> ms");
  EXPECT_EQ(norm("a malformed packet (wildcard character in a Topic Name at byte 29 [v5:MQTT-3.3.2-2])"),
            "a malformed packet (wildcard character in a Topic Name at byte <n> [v5:MQTT-3.3.2-2])");
  // Payload hex, and client ids (quoted with escapes).
  EXPECT_EQ(norm("PUBLISH(...) (payload 68656c6c6f21, expected 00ff00ff)"),
            "PUBLISH(...) (payload <hex>, expected <hex>)");
  EXPECT_EQ(norm(R"(CONNACK(code=0x00 Success, props={Assigned Client Identifier="auto-\"x\"-42"}))"),
            R"(CONNACK(code=0x00 Success, props={Assigned Client Identifier="<client-id>"}))");
  EXPECT_EQ(norm(R"(CONNECT(v5, client_id="msab12003sub", clean_start=1))"),
            R"(CONNECT(v5, client_id="<client-id>", clean_start=1))");
  // What tells one behaviour from another stays: codes, flags, types, small numbers, words.
  for (const char* kept : {"DISCONNECT(code=0x82 Protocol Error)", "codes [0x80], expected [0x00|0x01]",
                           "the connection closed by the broker", "reason 0x87, expected 0x00", "items 12345",
                           "sub: ms"})
    EXPECT_EQ(norm(kept), kept);
}

// Scenarios and results built by hand: the reports read nothing else.
struct fixture {
  std::deque<scenario> scenarios;  // stable addresses for scenario_result::sc
  run_summary run;

  fixture() { run.results.reserve(16); }  // add() hands out references into it

  const scenario& add_scenario(std::string id, std::string statement, level lvl = level::must) {
    scenario sc;
    sc.id = std::move(id);
    sc.title = "title of " + sc.id;
    sc.requirement = "requirement";
    sc.statements = {std::move(statement), "v5:MQTT-9.9.9-9"};
    sc.lvl = lvl;
    sc.version = suite_version::v5;
    sc.section = "3.3";
    sc.file = "x.xml";
    return scenarios.emplace_back(std::move(sc));
  }
  scenario_result& add(const scenario& sc, verdict v, std::string observed, std::string broken = {}) {
    scenario_result r;
    r.sc = &sc;
    r.v = v;
    r.expected = "PUBLISH dup=1 on sub";
    r.observed = std::move(observed);
    r.message = "expected " + r.expected + "; observed " + r.observed;
    r.broken = std::move(broken);
    return run.results.emplace_back(std::move(r));
  }
  // The same DUP defect, as three scenarios with their own prefixes and identifiers observe it.
  void dup_defect(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto& sc = add_scenario("v5.dup." + std::to_string(i), "v5:MQTT-3.3.1-1");
      add(sc, verdict::fail,
          "PUBLISH(qos=1, retain=0, dup=0, id=" + std::to_string(i + 1) + ", topic=\"mqttspec/msab1200" +
              std::to_string(i) + "/t\", payload=2 bytes \"m" + std::to_string(i) + "\") (dup=0, expected 1)");
    }
  }
};

TEST(findings, same_statement_and_behaviour_is_one_finding) {
  fixture fx;
  fx.dup_defect(3);
  const auto f = group_findings(fx.run.results);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].statement, "v5:MQTT-3.3.1-1");
  EXPECT_EQ(f[0].v, verdict::fail);
  ASSERT_EQ(f[0].results.size(), 3u);
  EXPECT_EQ(f[0].results[0]->sc->id, "v5.dup.0");
  EXPECT_EQ(f[0].results[2]->sc->id, "v5.dup.2");
}

TEST(findings, other_statement_or_behaviour_is_another_finding) {
  fixture fx;
  fx.dup_defect(2);
  // Same observation, other statement.
  fx.add(fx.add_scenario("v5.other", "v5:MQTT-4.3.2-1"), verdict::fail,
         R"(PUBLISH(qos=1, retain=0, dup=0, id=9, topic="mqttspec/msab12009/t", payload=2 bytes "m9") )"
         "(dup=0, expected 1)");
  // Same statement, other behaviour.
  fx.add(fx.add_scenario("v5.dup.silent", "v5:MQTT-3.3.1-1"), verdict::fail, "nothing within 2000 ms");
  const auto f = group_findings(fx.run.results);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].results.size(), 2u);  // the widest first
  EXPECT_EQ(f[1].results.front()->sc->id, "v5.other");
  EXPECT_EQ(f[2].results.front()->sc->id, "v5.dup.silent");
}

TEST(findings, errors_and_passes_are_never_findings_non_strict_are) {
  fixture fx;
  const auto& a = fx.add_scenario("v5.a", "v5:MQTT-3.1.0-1");
  fx.add(a, verdict::error, "nothing within 2000 ms");
  fx.add(fx.add_scenario("v5.b", "v5:MQTT-3.1.0-1"), verdict::pass, "");
  fx.add(fx.add_scenario("v5.c", "v5:MQTT-3.1.0-1"), verdict::unsupported, "");
  fx.add(fx.add_scenario("v5.d", "v5:MQTT-3.1.0-1"), verdict::informational, "nothing within 2000 ms");
  EXPECT_TRUE(group_findings(fx.run.results).empty());
  fx.add(fx.add_scenario("v5.e", "v5:MQTT-3.1.0-1", level::should), verdict::non_strict, "nothing within 100 ms");
  fx.add(fx.add_scenario("v5.f", "v5:MQTT-3.1.0-2"), verdict::fail, "nothing within 100 ms");
  const auto f = group_findings(fx.run.results);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].v, verdict::fail);  // fails before non-stricts
  EXPECT_EQ(f[1].v, verdict::non_strict);
  ASSERT_EQ(f[1].results.size(), 1u);
  EXPECT_EQ(f[1].results[0]->sc->id, "v5.e");
}

TEST(findings, broken_overrides_the_scenarios_statement) {
  fixture fx;
  const std::string malformed = "a malformed packet (wildcard character in a Topic Name at byte 12 [v5:MQTT-3.3.2-2])";
  auto& a = fx.add(fx.add_scenario("v5.sub.a", "v5:MQTT-3.8.4-1"), verdict::fail, malformed, "v5:MQTT-3.3.2-2");
  fx.add(fx.add_scenario("v5.retain.b", "v5:MQTT-3.3.1-5"), verdict::fail,
         "a malformed packet (wildcard character in a Topic Name at byte 30 [v5:MQTT-3.3.2-2])", "v5:MQTT-3.3.2-2");
  fx.add(fx.add_scenario("v5.sub.c", "v5:MQTT-3.8.4-1"), verdict::fail, malformed);  // its own statement
  EXPECT_EQ(failed_statement(a), "v5:MQTT-3.3.2-2");
  EXPECT_EQ(failed_statement(fx.run.results.back()), "v5:MQTT-3.8.4-1");
  const auto f = group_findings(fx.run.results);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].statement, "v5:MQTT-3.3.2-2");
  EXPECT_EQ(f[0].results.size(), 2u);
  EXPECT_EQ(f[1].statement, "v5:MQTT-3.8.4-1");
}

// Findings reach every report; the JUnit file keeps one testcase per scenario and still validates.
TEST(findings, in_every_report) {
  fixture fx;
  fx.run.target = "test";
  fx.run.rerun_args = "--target test:1883";
  fx.dup_defect(3);
  fx.add(fx.add_scenario("v5.boom", "v5:MQTT-3.1.0-1"), verdict::error, "no answer");
  catalog cat;
  statement st;
  st.id = "v5:MQTT-3.3.1-1";
  st.label = "MQTT-3.3.1-1";
  st.version = suite_version::v5;
  st.section = "3.3.1";
  st.summary = "DUP flag set on redelivery";
  cat.add(st);

  std::ostringstream json;
  write_json(fx.run, cat, json);
  const auto j = nlohmann::json::parse(json.str());
  ASSERT_EQ(j["findings"].size(), 1u);
  const auto& f = j["findings"][0];
  EXPECT_EQ(f["statement"], "v5:MQTT-3.3.1-1");
  EXPECT_EQ(f["summary"], "DUP flag set on redelivery");
  EXPECT_EQ(f["expected"], "PUBLISH dup=1 on sub");
  EXPECT_EQ(f["verdict"], "fail");
  EXPECT_EQ(f["level"], "MUST");
  EXPECT_EQ(f["scenarios"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"v5.dup.0", "v5.dup.1", "v5.dup.2"}));

  std::ostringstream html;
  write_html(fx.run, cat, html);
  EXPECT_NE(html.str().find("v5:MQTT-3.3.1-1</b> — DUP flag set on redelivery (3 scenarios)"), std::string::npos);
  EXPECT_NE(html.str().find("<a href=\"#sc-v5.dup.1\">"), std::string::npos);
  EXPECT_NE(html.str().find("<details open id=\"sc-v5.dup.1\">"), std::string::npos);

  std::ostringstream tree;
  print_tree(fx.run, tree);
  EXPECT_NE(tree.str().find("\nFindings\n  1. v5:MQTT-3.3.1-1 [fail, 3 scenarios] PUBLISH("), std::string::npos)
      << tree.str();
  EXPECT_NE(tree.str().find("rerun: mqttspec run 'v5.dup.0' --target test:1883\n"), std::string::npos);

  std::ostringstream xml;
  write_junit(fx.run, xml);
  EXPECT_NE(xml.str().find(R"(<failure message="v5:MQTT-3.3.1-1: expected)"), std::string::npos) << xml.str();
  EXPECT_NE(xml.str().find(R"(<property name="finding" value="finding 1 of 1: v5:MQTT-3.3.1-1: )"), std::string::npos);
  EXPECT_NE(xml.str().find("(3 scenarios)"), std::string::npos);
  const auto file = std::filesystem::temp_directory_path() / "mqttspec-findings-junit.xml";
  std::ofstream(file) << xml.str();
  const std::string cmd =
      "xmllint --noout --schema " MQTTSPEC_SOURCE_DIR "/reports/junit.xsd " + file.string() + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace mqttspec::conformance
