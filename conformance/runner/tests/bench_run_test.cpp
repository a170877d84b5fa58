// `mqttspec bench` end to end: against a broker that drops, duplicates and reorders on purpose
// (the counts must be exactly what it did), and short runs against the embedded reference broker
// (nothing lost at QoS 1 and 2, every workload completes).
#include "bench/engine.hpp"
#include "bench/report.hpp"
#include "bench_fake_broker.hpp"

#include "mqttspec/broker/embedded.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include <unistd.h>

namespace mqttspec::bench {
namespace {

run_target local(const std::string& port, const std::string& label) {
  run_target t;
  t.label = label;
  t.where.host = "127.0.0.1";
  t.where.port = port;
  return t;
}

// One publisher and one subscriber: the broker's message number is the publisher's sequence number.
// The counts are chosen so that the last message gets through: the run then ends as soon as it
// arrives, not after a quiet spell (which a loaded machine could cut short).
options one_pair(unsigned qos, std::uint64_t count) {
  options o;
  o.kind = workload::pairs;
  o.publishers = 1;
  o.qos = qos;
  o.count = count;
  o.window = 50;
  o.drain_timeout = 10;
  return o;
}

TEST(BenchAgainstMisbehavingBroker, CountsDrops) {
  testing::fake_broker b({.drop_every = 10});
  auto r = run_workload(one_pair(1, 1001), local(b.port(), "dropping"), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(b.dropped(), 100u);
  EXPECT_EQ(r.sent, 1001u);
  EXPECT_EQ(r.acknowledged, 1001u);
  EXPECT_EQ(r.expected, 1001u);
  EXPECT_EQ(r.delivered, 901u);
  EXPECT_EQ(r.lost, 100u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(r.reordered, 0u);
  ASSERT_EQ(r.violations.size(), 1u);  // loss at QoS 1
  EXPECT_NE(r.violations[0].find("100 messages lost at QoS 1"), std::string::npos) << r.violations[0];
  EXPECT_EQ(exit_status({r}), 1);
}

TEST(BenchAgainstMisbehavingBroker, QoS0LossIsANoteNotAViolation) {
  testing::fake_broker b({.drop_every = 4});
  auto r = run_workload(one_pair(0, 801), local(b.port(), "dropping"), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.lost, 200u);
  EXPECT_TRUE(r.violations.empty());
  EXPECT_EQ(exit_status({r}), 0);
}

TEST(BenchAgainstMisbehavingBroker, CountsDuplicates) {
  testing::fake_broker b({.dup_every = 7});
  auto r = run_workload(one_pair(1, 700), local(b.port(), "duplicating"), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(b.duplicated(), 100u);
  EXPECT_EQ(r.delivered, 800u);
  EXPECT_EQ(r.duplicates, 100u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.reordered, 0u);
  EXPECT_EQ(r.latency.count(), 700u);  // first arrivals only
  EXPECT_FALSE(r.violations.empty());
}

TEST(BenchAgainstMisbehavingBroker, CountsReordering) {
  testing::fake_broker b({.swap_every = 5});
  auto r = run_workload(one_pair(1, 1000), local(b.port(), "reordering"), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(b.swapped(), 200u);
  EXPECT_EQ(r.delivered, 1000u);
  EXPECT_EQ(r.reordered, 200u);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_FALSE(r.violations.empty());
}

TEST(BenchAgainstMisbehavingBroker, AllAtOnceWithSeveralPublishers) {
  // Fan-in: four publishers interleave at the broker, so the misbehaviours hit them unevenly; the
  // totals must still match what the broker did.
  testing::fake_broker b({.drop_every = 13, .dup_every = 11, .swap_every = 0});
  options o;
  o.kind = workload::fan_in;
  o.publishers = 4;
  o.qos = 1;
  o.count = 2000;
  o.window = 40;
  o.drain_timeout = 2;  // a publisher's last message may be dropped: the run ends after 2 s of quiet
  auto r = run_workload(o, local(b.port(), "misbehaving"), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.expected, 2000u);
  EXPECT_EQ(r.lost, b.dropped());
  EXPECT_EQ(r.duplicates, b.duplicated());
  EXPECT_EQ(r.delivered, 2000u - b.dropped() + b.duplicated());
}

class BenchAgainstReferenceBroker : public ::testing::Test {
 protected:
  broker::embedded_broker broker_;
  run_target target() { return local(std::to_string(broker_.port()), "embedded"); }
};

TEST_F(BenchAgainstReferenceBroker, ShortRunAtQoS1LosesNothing) {
  options o;
  o.kind = workload::pairs;
  o.publishers = 2;
  o.qos = 1;
  o.duration = 1;
  auto r = run_workload(o, target(), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_GT(r.sent, 100u);
  EXPECT_EQ(r.acknowledged, r.sent);
  EXPECT_EQ(r.expected, r.sent);
  EXPECT_EQ(r.delivered, r.sent);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(r.reordered, 0u);
  EXPECT_TRUE(r.violations.empty());
  EXPECT_EQ(r.latency.count(), r.delivered);
  EXPECT_GT(r.sent_rate, 0);
  EXPECT_GT(r.generator_cpu, 0);
  std::ostringstream table;
  print_table(table, {r});
  EXPECT_NE(table.str().find("latency p99"), std::string::npos);
  const auto j = to_json(r);
  EXPECT_EQ(j["lost"], 0);
  EXPECT_TRUE(j["ok"].get<bool>());
}

TEST_F(BenchAgainstReferenceBroker, FanOutQoS2Over311) {
  options o;
  o.kind = workload::fan_out;
  o.subscribers = 3;
  o.qos = 2;
  o.count = 600;
  o.version = codec::protocol_version::v3_1_1;
  auto r = run_workload(o, target(), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.expected, 1800u);
  EXPECT_EQ(r.delivered, 1800u);
  EXPECT_EQ(r.lost + r.duplicates + r.reordered, 0u);
}

TEST_F(BenchAgainstReferenceBroker, SharedSubscriptionSplitsTheMessages) {
  options o;
  o.kind = workload::shared;
  o.publishers = 2;
  o.subscribers = 3;
  o.qos = 1;
  o.count = 900;
  auto r = run_workload(o, target(), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.expected, 900u);  // each message once, to one member
  EXPECT_EQ(r.delivered, 900u);
  EXPECT_EQ(r.lost + r.duplicates, 0u);
}

TEST_F(BenchAgainstReferenceBroker, RetainedStorm) {
  options o;
  o.kind = workload::retained;
  o.topics = 200;
  o.subscribers = 3;
  o.qos = 1;
  auto r = run_workload(o, target(), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.sent, 200u);
  EXPECT_EQ(r.expected, 600u);
  EXPECT_EQ(r.delivered, 600u);
  EXPECT_EQ(r.lost + r.duplicates, 0u);
  // The topics were cleared: a second storm sees only its own messages.
  auto again = run_workload(o, target(), nullptr);
  ASSERT_EQ(again.error, "");
  EXPECT_EQ(again.delivered, 600u);
  EXPECT_EQ(again.foreign, 0u);
}

TEST_F(BenchAgainstReferenceBroker, ConnectStormAndIdle) {
  options o;
  o.kind = workload::connect_storm;
  o.connections = 100;
  o.concurrency = 20;
  auto r = run_workload(o, target(), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.connections, 100u);
  EXPECT_EQ(r.connect_failures, 0u);
  EXPECT_EQ(r.connack.count(), 100u);
  EXPECT_GT(r.connect_rate, 0);

  o.kind = workload::idle;
  o.duration = 0.2;
  auto t = target();
  t.tids = {static_cast<int>(::gettid())};  // memory is read from this process
  auto idle = run_workload(o, t, nullptr);
  ASSERT_EQ(idle.error, "");
  EXPECT_EQ(idle.connections, 100u);
  EXPECT_TRUE(idle.rss_before && idle.rss_after);
  EXPECT_TRUE(idle.memory_per_connection().has_value());
}

// --logins: more clients log in with the user name and password over and over while the pairs'
// messages flow; a broker that checks them counts each login, and the messages are all delivered.
TEST(BenchLogins, ClientsLogInOverAndOverMeanwhile) {
  auto bo = broker::embedded_broker::default_options();
  bo.core.allow_anonymous = false;
  bo.core.authenticate = [](std::string_view user, std::optional<codec::bytes_view> password) {
    return user == "bench" && password && *password == "secret";
  };
  broker::embedded_broker b(bo);
  options o;
  o.kind = workload::pairs;
  o.publishers = 2;
  o.qos = 1;
  o.rate = 200;
  o.duration = 0.5;
  o.logins = 2;
  o.username = "bench";
  o.password = "secret";
  auto r = run_workload(o, local(std::to_string(b.port()), "embedded"), nullptr);
  ASSERT_EQ(r.error, "");
  EXPECT_GT(r.logins, 0u);
  EXPECT_EQ(r.login_failures, 0u);
  EXPECT_EQ(r.login.count(), r.logins);
  EXPECT_GT(r.login_rate, 0);
  EXPECT_EQ(r.delivered, r.sent);
  EXPECT_TRUE(r.violations.empty());
  std::ostringstream table;
  print_table(table, {r});
  EXPECT_NE(table.str().find("login p99"), std::string::npos);
  EXPECT_EQ(to_json(r)["logins"], r.logins);

  o.kind = workload::idle;  // logins go with message traffic only
  EXPECT_NE(o.check(), "");
}

}  // namespace
}  // namespace mqttspec::bench
