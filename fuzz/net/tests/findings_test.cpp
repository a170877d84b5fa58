#include "findings.hpp"
#include "generator.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace mqttspec::netfuzz {
namespace {

using codec::protocol_version;

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("netfuzz-findings-" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

finding sample() {
  finding f;
  f.kind = "conformance";
  f.statement = "v5:MQTT-3.3.2-14";
  f.rule = "accepted-invalid";
  f.rule_text = "a Server closes the connection on a packet that breaks this rule";
  f.observation = "the broker answered the PINGREQ sent after a PUBLISH that breaks a rule";
  f.version = protocol_version::v5;
  f.case_number = 42;
  f.count = 7;
  generator_options mutated;
  mutated.mutation_rate = 1;  // so the case has mutated steps and a cleanup
  f.original = generate(protocol_version::v5, 1, 42, mutated);
  f.minimized = prefix(f.original, 1);
  f.replays = f.reproduced = 3;
  f.min_replays = f.min_reproduced = 3;
  f.trace.push_back(trace_entry{0.5, 0, trace_entry::dir::send, codec::from_hex("c000").value(), {}});
  f.trace.push_back(trace_entry{0.7, 0, trace_entry::dir::recv, codec::from_hex("d000").value(), {}});
  f.trace.push_back(trace_entry{0.8, 0, trace_entry::dir::event, {}, "closed by the broker"});
  f.minimized_trace = f.trace;
  return f;
}

TEST(Findings, KeysIgnoreTokensNumbersAndOffsets) {
  const auto a = finding_key("conformance", "v5:MQTT-3.3.4-9", "nfaaaaaaaa/t/1: 4 PUBLISHes, Receive Maximum 3",
                             "nfaaaaaaaa");
  const auto b = finding_key("conformance", "v5:MQTT-3.3.4-9", "nfbbbbbbbb/t/1: 3 PUBLISHes, Receive Maximum 2",
                             "nfbbbbbbbb");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, finding_key("conformance", "v5:MQTT-3.3.4-8", "nfaaaaaaaa/t/1: 4 PUBLISHes, Receive Maximum 3",
                           "nfaaaaaaaa"));
  EXPECT_NE(a, finding_key("crash", "v5:MQTT-3.3.4-9", "nfaaaaaaaa/t/1: 4 PUBLISHes, Receive Maximum 3", "nfaaaaaaaa"));
  EXPECT_EQ(finding_key("conformance", "s", "invalid PUBLISH at byte 12", ""),
            finding_key("conformance", "s", "invalid PUBLISH at byte 30", ""));
}

TEST(Findings, CaseFilesRoundTrip) {
  const auto dir = temp_dir("roundtrip");
  auto f = sample();
  f.before.push_back(generate(protocol_version::v3_1_1, 1, 41));
  save_finding(dir, 3, f);
  EXPECT_EQ(f.file.filename(), "conformance-0003-v5_MQTT-3.3.2-14.case");
  EXPECT_EQ(f.minimized_file.filename(), "conformance-0003-v5_MQTT-3.3.2-14.min.case");
  EXPECT_EQ(f.best_file(), f.minimized_file);
  std::string error;
  auto c = load_case(f.file, error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->kind, "conformance");
  EXPECT_EQ(c->statement, "v5:MQTT-3.3.2-14");
  EXPECT_EQ(c->rule, "accepted-invalid");
  EXPECT_EQ(c->version, protocol_version::v5);
  // The mutated flags and the cleanup travel too; everything a replay needs is there.
  ASSERT_FALSE(f.original.cleanup.empty());
  EXPECT_EQ(c->s, f.original);
  ASSERT_EQ(c->before.size(), 1u);
  EXPECT_EQ(c->before[0], f.before[0]);
  auto m = load_case(f.minimized_file, error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->s, *f.minimized);
  // The file says how to replay it and what the session looked like.
  const auto j = nlohmann::json::parse(read(f.file));
  EXPECT_EQ(j["replayed"], "3/3");
  EXPECT_EQ(j["count"], 7);
  EXPECT_EQ(j["trace"].size(), 3u);
}

TEST(Findings, OldLineBasedCaseFilesStillLoad) {
  const auto dir = temp_dir("old");
  {
    std::ofstream out(dir / "old.case");
    out << "# mqttspec network fuzz finding\nversion 4\nkind conformance\nstatement v3.1.1:MQTT-3.2.0-1\n"
        << "detail x\nreply d000\nsend 10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 63\nsend c0 00\n";
  }
  std::string error;
  auto c = load_case(dir / "old.case", error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->version, protocol_version::v3_1_1);
  EXPECT_EQ(c->statement, "v3.1.1:MQTT-3.2.0-1");
  ASSERT_EQ(c->s.steps.size(), 3u);
  EXPECT_EQ(c->s.steps[0].op, step_op::open);
  EXPECT_EQ(codec::to_hex(c->s.steps[2].data), "c000");
}

TEST(Findings, BrokenCaseFilesAreRefused) {
  const auto dir = temp_dir("broken");
  std::ofstream(dir / "a.case") << "{\"script\": {\"steps\": [{\"op\": \"send\", \"hex\": \"zz\"}]}}";
  std::ofstream(dir / "b.case") << "{ not json";
  std::string error;
  EXPECT_FALSE(load_case(dir / "a.case", error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(load_case(dir / "b.case", error));
  EXPECT_FALSE(load_case(dir / "missing.case", error));
}

// The reports are the conformance runner's: findings grouped by statement and observation, one
// JUnit suite per (version, kind), each case with its wire log and a rerun command.
TEST(Findings, ReportsGroupFindingsLikeTheConformanceReports) {
  const auto dir = temp_dir("reports");
  auto a = sample();
  save_finding(dir, 1, a);
  finding crash;
  crash.kind = "crash";
  crash.rule = "crash";
  crash.rule_text = "the broker process keeps running";
  crash.observation = "the broker process died: signal 6 (SIGABRT)";
  crash.original = generate(protocol_version::v3_1_1, 1, 5);
  crash.version = protocol_version::v3_1_1;
  crash.replays = 3;
  crash.reproduced = 3;
  crash.broker_output = "terminate called";
  save_finding(dir, 2, crash);
  campaign_summary c;
  c.target = "127.0.0.1:1883";
  c.rerun_args = "--target 127.0.0.1:1883";
  c.cases = 100;
  c.seconds = 2;
  const auto error = write_reports(dir, c, {a, crash}, std::filesystem::path(MQTTSPEC_SOURCE_DIR) / "conformance" / "statements");
  ASSERT_FALSE(error) << *error;
  const auto junit = read(dir / "junit.xml");
  EXPECT_NE(junit.find("MQTT v5:conformance"), std::string::npos);
  EXPECT_NE(junit.find("MQTT v3.1.1:crash"), std::string::npos);
  EXPECT_NE(junit.find("mqttspec fuzz --replay"), std::string::npos);
  EXPECT_NE(junit.find("finding 1 of 2"), std::string::npos);
  const auto results = nlohmann::json::parse(read(dir / "results.json"));
  ASSERT_EQ(results["findings"].size(), 2u);
  EXPECT_EQ(results["findings"][0]["statement"], "v5:MQTT-3.3.2-14");
  // The catalog's text for the statement.
  EXPECT_NE(results["findings"][0]["summary"].get<std::string>().find("wildcard"), std::string::npos);
  EXPECT_EQ(results["findings"][1]["statement"], "crash");
  EXPECT_FALSE(results["results"][0]["wire_log"].empty());
  const auto html = read(dir / "report.html");
  EXPECT_NE(html.find("Findings"), std::string::npos);
  EXPECT_NE(html.find("seen 7 times in the campaign; replayed 3/3; minimized"), std::string::npos);
  EXPECT_EQ(html.find("Statement matrix"), std::string::npos);
  const auto nf = nlohmann::json::parse(read(dir / "netfuzz.json"));
  EXPECT_EQ(nf["cases"], 100);
  EXPECT_EQ(nf["cases_per_second"], 50.0);
  ASSERT_EQ(nf["findings"].size(), 2u);
  EXPECT_EQ(nf["findings"][0]["count"], 7);
  EXPECT_EQ(nf["findings"][1]["kind"], "crash");
}

}  // namespace
}  // namespace mqttspec::netfuzz
