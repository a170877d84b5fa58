// The shell and a storage backend: what the core stored is written before the packets queued with
// it leave (a PUBACK never overtakes its message's write), the core runs on wall-clock time, what
// the backend held is restored before the broker listens, and a backend that cannot load stops the
// start with its message.
#include "mqttspec/broker/server.hpp"

#include "loopback_client.hpp"
#include "memory_store.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>

namespace mqttspec::broker::test {
namespace {

using codec::qos;
using codec::reason_code;

// The memory model behind a lock (the broker writes on its thread, the test reads on its own).
class locked_store final : public storage::backend {
 public:
  std::optional<std::string> load(storage::snapshot& out) override {
    std::lock_guard lock(mutex);
    if (!load_error.empty()) return load_error;
    return model.load(out);
  }
  std::optional<std::string> write(std::span<const storage::effect> effects, std::uint64_t now) override {
    std::lock_guard lock(mutex);
    return model.write(effects, now);
  }
  std::optional<std::string> tick(std::uint64_t now) override {
    std::lock_guard lock(mutex);
    return model.tick(now);
  }
  std::string describe() const override { return "memory"; }

  std::size_t messages_for(const std::string& client_id) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& [key, m] : model.messages) n += key.first == client_id;
    return n;
  }
  std::optional<std::uint64_t> last_alive() {
    std::lock_guard lock(mutex);
    return model.last_alive;
  }

  std::mutex mutex;
  ::mqttspec::broker::testing::memory_store model;
  std::string load_error;
};

codec::connect persistent(std::string_view id) {
  codec::connect c;
  c.version = codec::protocol_version::v5;
  c.client_id = id;
  c.clean_start = false;
  c.props.session_expiry_interval = 600;
  return c;
}

server_options with(std::shared_ptr<locked_store> store) {
  auto o = embedded_broker::default_options();
  o.store = std::move(store);
  return o;
}

TEST(broker_persistence_shell, a_message_is_stored_before_its_puback_leaves) {
  auto store = std::make_shared<locked_store>();
  embedded_broker b(with(store));
  loopback_client sub(b.port(), codec::protocol_version::v5);
  sub.send(persistent("sub"));
  ASSERT_TRUE(sub.expect<codec::connack>());
  codec::subscribe s;
  s.packet_id = 1;
  s.subscriptions.push_back({"t", {qos::at_least_once, false, false, {}}});
  sub.send(s);
  ASSERT_TRUE(sub.expect<codec::suback>());
  sub.send(codec::disconnect{});
  ASSERT_TRUE(sub.expect_closed());

  loopback_client pub(b.port(), codec::protocol_version::v5);
  codec::connect c;
  c.client_id = "pub";
  pub.send(c);
  ASSERT_TRUE(pub.expect<codec::connack>());
  for (std::uint16_t id = 1; id <= 20; ++id) {
    codec::publish p;
    p.topic = "t";
    p.payload = "m";
    p.qos_level = qos::at_least_once;
    p.packet_id = id;
    pub.send(p);
    const auto ack = pub.expect<codec::puback>();
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->packet_id, id);
    EXPECT_EQ(store->messages_for("sub"), id);  // written before the PUBACK was sent
  }
  // The core's clock is the wall clock: the store's last sign of life is now, not the uptime.
  const auto wall = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count());
  ASSERT_TRUE(store->last_alive());
  EXPECT_LE(wall - *store->last_alive(), 10'000u);
}

TEST(broker_persistence_shell, restored_before_it_listens) {
  auto store = std::make_shared<locked_store>();
  {
    embedded_broker b(with(store));
    loopback_client sub(b.port(), codec::protocol_version::v5);
    sub.send(persistent("sub"));
    ASSERT_TRUE(sub.expect<codec::connack>());
    codec::subscribe s;
    s.packet_id = 1;
    s.subscriptions.push_back({"t", {qos::at_least_once, false, false, {}}});
    sub.send(s);
    ASSERT_TRUE(sub.expect<codec::suback>());
    codec::publish p;
    p.topic = "t";
    p.payload = "while away";
    p.qos_level = qos::at_least_once;
    p.packet_id = 1;
    sub.send(codec::disconnect{});
    ASSERT_TRUE(sub.expect_closed());
    loopback_client pub(b.port(), codec::protocol_version::v5);
    codec::connect c;
    c.client_id = "pub";
    pub.send(c);
    ASSERT_TRUE(pub.expect<codec::connack>());
    pub.send(p);
    ASSERT_TRUE(pub.expect<codec::puback>());
  }
  embedded_broker again(with(store));  // a new broker on the same store
  loopback_client sub(again.port(), codec::protocol_version::v5);
  sub.send(persistent("sub"));
  const auto ack = sub.expect<codec::connack>();
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->session_present);
  const auto got = sub.expect<codec::publish>();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->payload, "while away");
}

TEST(broker_persistence_shell, a_load_error_stops_the_start) {
  auto store = std::make_shared<locked_store>();
  store->load_error = "broker.db: the persistence file is damaged";
  try {
    embedded_broker b(with(store));
    FAIL() << "started on a store that cannot load";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "broker.db: the persistence file is damaged");
  }
}

}  // namespace
}  // namespace mqttspec::broker::test
