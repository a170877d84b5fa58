#include "fake_broker.hpp"
#include "mqttspec/conformance/commands.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace mqttspec::conformance {
namespace {

// A whole `run` against a broker that never answers: it must finish, fail, and still write every
// report, with a JUnit file that validates against reports/junit.xsd.
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
  EXPECT_EQ(run_command(req, out, err), 1) << out.str() << err.str();
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

}  // namespace
}  // namespace mqttspec::conformance
