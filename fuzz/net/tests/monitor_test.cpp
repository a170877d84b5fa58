#include "monitor.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace mqttspec::netfuzz {
namespace {

using namespace std::chrono_literals;

std::filesystem::path temp_log(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("netfuzz-monitor-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

// The reference broker, built next to these tests.
const std::string broker = MQTTSPEC_BROKER_BIN;

TEST(Monitor, FreePortsAreUsable) {
  EXPECT_NE(free_port(), 0);
}

TEST(Monitor, SanitizerSummaries) {
  const std::string asan =
      "==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000011 at pc 0x55d0\n"
      "READ of size 1 at 0x602000000011 thread T0\n"
      "SUMMARY: AddressSanitizer: heap-buffer-overflow /src/a.cpp:12 in f(int)\n";
  EXPECT_EQ(sanitizer_summary(asan), "SUMMARY: AddressSanitizer: heap-buffer-overflow /src/a.cpp:12 in f(int)");
  EXPECT_EQ(sanitizer_summary("x\n/src/b.cpp:7:3: runtime error: signed integer overflow: 2147483647 + 1\n"),
            "/src/b.cpp:7:3: runtime error: signed integer overflow: 2147483647 + 1");
  EXPECT_FALSE(sanitizer_summary("mqttspec-broker listening on 127.0.0.1:1883\n"));
}

TEST(Monitor, StartsTheBrokerOnAFreePortAndStopsIt) {
  broker_process p(broker + " --port {port}", temp_log("a.log"));
  std::string error;
  ASSERT_TRUE(p.start(error)) << error;
  EXPECT_NE(p.port(), 0);
  EXPECT_TRUE(p.running());
  EXPECT_FALSE(p.poll());
  const auto st = p.stop();
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->signaled) << st->describe();  // SIGTERM: a clean shutdown
  EXPECT_NE(p.output_tail().find("listening"), std::string::npos);
}

TEST(Monitor, SeesASignal) {
  broker_process p(broker + " --port {port}", temp_log("b.log"));
  std::string error;
  ASSERT_TRUE(p.start(error)) << error;
  ::kill(p.pid(), SIGKILL);  // (a SIGSEGV would become an abort in a sanitizer build)
  std::optional<exit_status> st;
  for (int i = 0; i < 200 && !st; ++i) {
    st = p.poll();
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->signaled);
  EXPECT_EQ(st->value, SIGKILL);
  EXPECT_EQ(st->describe(), "signal 9 (SIGKILL)");
}

TEST(Monitor, ABrokerThatEndsAtOnceCannotStart) {
  broker_process p("false", temp_log("c.log"));
  std::string error;
  EXPECT_FALSE(p.start(error, 2s));
  EXPECT_NE(error.find("exit status 1"), std::string::npos) << error;
}

TEST(Monitor, FindsASanitizerReportWhileTheProcessLives) {
  broker_process p("echo '==1==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000' >&2; exec " + broker +
                       " --port {port}",
                   temp_log("d.log"));
  std::string error;
  ASSERT_TRUE(p.start(error)) << error;
  const auto report = p.sanitizer_report();
  ASSERT_TRUE(report);
  EXPECT_EQ(*report, "ERROR: AddressSanitizer: SEGV on unknown address 0x?");
  p.stop();
}

}  // namespace
}  // namespace mqttspec::netfuzz
