// Scripts played against the embedded reference broker, over TCP, TLS and WebSocket. The
// reference broker is conformant by design: a finding here is a false alarm of the oracle (or a
// bug of the broker, equally worth a failing test).
#include "generator.hpp"
#include "player.hpp"

#include "mqttspec/broker/embedded.hpp"
#include "mqttspec/transport/tls.hpp"

#include <asio/ssl.hpp>
#include <gtest/gtest.h>

namespace mqttspec::netfuzz {
namespace {

using namespace std::chrono_literals;
using codec::protocol_version;

// Generous: a sanitizer build on a loaded machine is slow, and a timeout here is no finding.
play_options patient() {
  play_options o;
  o.reply_timeout = 10s;
  return o;
}

struct target_fixture {
  target_fixture() : target_fixture(broker::embedded_broker::default_options(), false) {}
  target_fixture(broker::server_options o, bool websocket) : b(std::move(o)) {
    t.port = std::to_string(websocket ? b.ws_port() : b.port());
    if (websocket) t.ws_path = "/mqtt";
    eps = asio::ip::tcp::resolver(io).resolve(t.host, t.port);
  }
  std::string describe(const play_result& r, const script& s) {
    std::string out = r.found ? r.found->statement + ": " + r.found->observation + "\n" : "";
    for (const auto& l : trace_lines(r.trace, s.version)) out += l + "\n";
    return out;
  }
  broker::embedded_broker b;
  net_target t;
  asio::io_context io;
  asio::ip::tcp::resolver::results_type eps;
};

TEST(Player, ValidWalksFindNothingAndNeverWait) {
  target_fixture f;
  generator_options g;
  g.mutation_rate = 0;
  const auto o = patient();
  std::size_t steps = 0;
  for (auto v : {protocol_version::v3_1_1, protocol_version::v5}) {
    for (std::uint64_t n = 0; n < 150; ++n) {
      const auto s = generate(v, 21, n, g);
      const auto r = play(f.io, f.t, f.eps, s, o);
      ASSERT_FALSE(r.found) << "case " << n << "\n" << f.describe(r, s);
      EXPECT_EQ(r.timeouts, 0u) << "case " << n << "\n" << f.describe(r, s);
      EXPECT_EQ(r.open_failures, 0u);
      EXPECT_EQ(r.steps, s.steps.size() + s.cleanup.size());
      steps += r.steps;
    }
  }
  EXPECT_GT(steps, 2000u);
}

// Mutated scripts: the reference broker closes on every packet that breaks a rule, so the
// oracle has nothing to say either.
TEST(Player, MutatedWalksFindNothingOnTheReferenceBroker) {
  target_fixture f;
  const auto o = patient();
  for (auto v : {protocol_version::v3_1_1, protocol_version::v5})
    for (std::uint64_t n = 0; n < 250; ++n) {
      const auto s = generate(v, 22, n);
      const auto r = play(f.io, f.t, f.eps, s, o);
      ASSERT_FALSE(r.found) << "case " << n << "\n" << f.describe(r, s);
    }
}

// The cleanup of each script clears what it retained: a subscriber to everything afterwards gets
// no retained message from any of the scripts.
TEST(Player, ScriptsLeaveNoRetainedMessagesBehind) {
  target_fixture f;
  generator_options g;
  g.mutation_rate = 0;
  std::size_t retained = 0;
  for (auto v : {protocol_version::v3_1_1, protocol_version::v5})
    for (std::uint64_t n = 0; n < 100; ++n) {
      const auto s = generate(v, 31, n, g);
      for (const auto& st : s.steps)
        if (st.op == step_op::send && !st.data.empty() && (static_cast<std::uint8_t>(st.data[0]) & 0xF1) == 0x31) ++retained;
      ASSERT_FALSE(play(f.io, f.t, f.eps, s, patient()).found);
    }
  EXPECT_GT(retained, 10u);
  script probe_all;
  probe_all.version = protocol_version::v5;
  probe_all.steps.push_back(open_step(0));
  probe_all.steps.push_back(send_step(0, probe_connect(protocol_version::v5, "nfcheck")));
  codec::subscribe sub{.packet_id = 1, .subscriptions = {{"#", {}}}};
  probe_all.steps.push_back(send_step(0, codec::encode(sub, protocol_version::v5).value()));
  const auto r = play(f.io, f.t, f.eps, probe_all, patient());
  ASSERT_FALSE(r.found);
  for (const auto& e : r.trace)
    if (e.d == trace_entry::dir::recv) {
      auto d = codec::decode(codec::bytes_view(e.data), protocol_version::v5);
      ASSERT_TRUE(d);
      EXPECT_FALSE(std::holds_alternative<codec::publish>(d.value())) << codec::to_string(d.value());
    }
}

TEST(Player, ATraceRecordsBothDirections) {
  target_fixture f;
  generator_options g;
  g.mutation_rate = 0;
  const auto s = generate(protocol_version::v5, 1, 1, g);
  const auto r = play(f.io, f.t, f.eps, s, patient());
  std::size_t sent = 0, received = 0;
  for (const auto& e : r.trace) {
    sent += e.d == trace_entry::dir::send;
    received += e.d == trace_entry::dir::recv;
  }
  EXPECT_GT(sent, 2u);
  EXPECT_GT(received, 2u);
  const auto lines = trace_lines(r.trace, s.version);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front().find("c0"), std::string::npos);
}

TEST(Player, AnAbortStopsThePlay) {
  target_fixture f;
  std::atomic<bool> abort{true};
  play_options o;
  o.abort = &abort;
  const auto r = play(f.io, f.t, f.eps, generate(protocol_version::v5, 1, 2), o);
  EXPECT_TRUE(r.aborted);
  EXPECT_EQ(r.steps, 0u);
}

TEST(Player, ProbesTellALiveBrokerFromAClosedPort) {
  target_fixture f;
  EXPECT_TRUE(probe(f.io, f.t, f.eps, protocol_version::v5, "probe", 10s));
  EXPECT_TRUE(probe(f.io, f.t, f.eps, protocol_version::v3_1_1, "probe", 10s));
  net_target closed;
  closed.port = "1";
  const auto eps = asio::ip::tcp::resolver(f.io).resolve(closed.host, closed.port);
  EXPECT_FALSE(probe(f.io, closed, eps, protocol_version::v5, "probe", 500ms));
}

TEST(Player, PlaysOverWebSocketAndTls) {
  const auto id = transport::make_self_signed("localhost");
  auto o = broker::embedded_broker::default_options();
  o.ws_port = 0;
  o.tls = transport::make_server_context({{"", id.cert_pem}, {"", id.key_pem}, {}}).value();
  target_fixture f(o, true);
  transport::tls_client_options c;
  c.ca.pem = id.cert_pem;
  f.t.tls = transport::make_client_context(c).value();
  EXPECT_EQ(f.t.display().substr(0, 6), "wss://");
  generator_options g;
  g.mutation_rate = 0.5;
  for (std::uint64_t n = 0; n < 40; ++n) {
    const auto s = generate(protocol_version::v5, 9, n, g);
    const auto r = play(f.io, f.t, f.eps, s, patient());
    ASSERT_FALSE(r.found) << f.describe(r, s);
    EXPECT_EQ(r.open_failures, 0u) << f.describe(r, s);
  }
  // The certificate must name the host unless verification is off.
  f.t.host = "127.0.0.2";
  f.eps = asio::ip::tcp::resolver(f.io).resolve("127.0.0.1", f.t.port);
  EXPECT_FALSE(probe(f.io, f.t, f.eps, protocol_version::v5, "probe", 10s));
  f.t.tls_verify = false;
  EXPECT_TRUE(probe(f.io, f.t, f.eps, protocol_version::v5, "probe", 10s));
}

}  // namespace
}  // namespace mqttspec::netfuzz
