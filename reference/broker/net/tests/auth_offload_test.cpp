// Authentication work runs off the broker's I/O thread: while one client's login is held up in its
// password check or SCRAM step, an already-connected client still gets its PINGREQ and PUBLISH
// answered. The work is held by a gate the test opens, so the order is certain however loaded the
// machine: with the work on the I/O thread, the other client would get nothing until it opened.
#include "mqttspec/broker/scram_method.hpp"
#include "mqttspec/broker/server.hpp"

#include "loopback_client.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

namespace mqttspec::broker::test {
namespace {

using codec::reason_code;
namespace scram = auth::scram;
constexpr auto v5 = codec::protocol_version::v5;

// Holds authentication work (on the broker's threads) until the test opens it.
class gate {
 public:
  void pass() {
    std::unique_lock lock(mutex_);
    ++arrived_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  bool wait_for_work(milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return arrived_ > 0; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  bool open_ = false;
};

// Opens the gate before the broker is destroyed, so that a failing test does not hang its thread.
struct opens_at_exit {
  gate& g;
  ~opens_at_exit() { g.open(); }
};

codec::connect connect_packet(std::string_view client_id) {
  codec::connect c;
  c.version = v5;
  c.client_id = client_id;
  return c;
}

// The client that is already connected gets a PINGREQ and a QoS 1 PUBLISH answered.
void round_trips(loopback_client& c) {
  c.send(codec::pingreq{});
  EXPECT_TRUE(c.expect<codec::pingresp>());
  codec::publish p;
  p.topic = "t";
  p.qos_level = codec::qos::at_least_once;
  p.packet_id = 1;
  p.payload = "while another logs in";
  c.send(p);
  const auto ack = c.expect<codec::puback>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->packet_id, 1);
}

// `slow` sends `login`, whose authentication work waits at the gate: meanwhile a client that is
// already connected gets its round trips answered and `slow` hears nothing. Then the gate opens.
void expect_login_does_not_stall(std::uint16_t port, gate& g, loopback_client& slow, const codec::connect& login) {
  loopback_client fast(port, v5);
  fast.send(connect_packet("fast"));
  ASSERT_TRUE(fast.expect<codec::connack>());
  slow.send(login);
  ASSERT_TRUE(g.wait_for_work(patience));  // the login is in its authentication work
  round_trips(fast);
  EXPECT_EQ(slow.next(milliseconds(0)).what, arrival::kind::timeout);  // still in it
  g.open();
}

TEST(broker_auth_offload, a_password_check_does_not_stall_other_clients) {
  gate g;
  // The password file's PBKDF2 (100 000 iterations), for one user; everyone else passes at once.
  const std::string salt = "salt of the slow user";
  const auto expected = scram::derive_credentials("secret", salt, 100'000).stored_key;
  auto options = embedded_broker::default_options();
  options.core.authenticate = [&](std::string_view user, std::optional<codec::bytes_view> password) {
    if (user != "slow") return true;
    g.pass();
    return password && scram::derive_credentials(*password, salt, 100'000).stored_key == expected;
  };
  embedded_broker b(options);
  opens_at_exit opener{g};

  loopback_client slow(b.port(), v5);
  auto c = connect_packet("slow");
  c.user_name = "slow";
  c.password = "secret";
  ASSERT_NO_FATAL_FAILURE(expect_login_does_not_stall(b.port(), g, slow, c));
  const auto ack = slow.expect<codec::connack>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->code, reason_code::success);
}

TEST(broker_auth_offload, a_scram_step_does_not_stall_other_clients) {
  gate g;
  auto options = embedded_broker::default_options();
  // SCRAM-SHA-256 whose every step waits at the gate first.
  options.core.enhanced_auth[std::string(scram::method_name)] = [&g, inner = make_scram_sha256({{"user", "pencil"}})] {
    auto exchange = inner();
    return auth_exchange([&g, exchange](std::string_view data) {
      g.pass();
      return exchange(data);
    });
  };
  embedded_broker b(options);
  opens_at_exit opener{g};

  loopback_client slow(b.port(), v5);
  const auto first_text = scram::make_client_first("user", "client-nonce");
  auto c = connect_packet("slow");
  c.props.authentication_method = scram::method_name;
  c.props.authentication_data = first_text;
  ASSERT_NO_FATAL_FAILURE(expect_login_does_not_stall(b.port(), g, slow, c));  // in its first SCRAM step
  // The rest of the exchange goes through as ever.
  const auto challenge = slow.expect<codec::auth>();
  ASSERT_TRUE(challenge);
  const auto server = scram::parse_server_first(challenge->props.authentication_data.value_or(""));
  ASSERT_TRUE(server);
  const auto answer = scram::make_client_final(*scram::parse_client_first(first_text), *server, "pencil");
  ASSERT_TRUE(answer);
  codec::auth a;
  a.code = reason_code::continue_authentication;
  a.props.authentication_method = scram::method_name;
  a.props.authentication_data = answer->message;
  slow.send(a);
  const auto ack = slow.expect<codec::connack>();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->code, reason_code::success);
  EXPECT_EQ(ack->props.authentication_data.value_or(""), answer->expected_server_final);
}

}  // namespace
}  // namespace mqttspec::broker::test
