// Durability in the core: which storage effects it emits, and restore() from what they stored
// (a memory model of the store): Sessions, subscriptions, queued and in-flight messages, QoS 2
// identifiers, retained messages and Wills come back, and expiry counts the downtime.
#include "broker_harness.hpp"
#include "memory_store.hpp"

#include <memory>

namespace mqttspec::broker {
namespace {

using codec::qos;
using codec::reason_code;
using testing::connect;
using testing::harness;
using testing::make_publish;
using testing::subscribe;
constexpr auto v5 = codec::protocol_version::v5;
constexpr auto v311 = codec::protocol_version::v3_1_1;

config durable_config() {
  config c;
  c.storage_effects = true;
  return c;
}

// A broker whose effects go to a memory store, and that can be killed and restarted on it.
struct durable {
  explicit durable(config c = durable_config()) : cfg(std::move(c)), h(std::make_unique<harness>(cfg)) {}

  // What the shell does after each turn: write what the core stored.
  void flush() {
    if (!h->core.has_storage()) return;  // as the shell: no effects, no write
    const auto effects = h->core.take_storage();
    ASSERT_FALSE(store.write(effects, h->now));
  }
  // SIGKILL after the last flush, then a new broker `downtime` ms later on the same store.
  void restart(millis downtime) {
    flush();
    const auto t = h->now + downtime;
    h = std::make_unique<harness>(cfg);
    h->now = t;
    report = h->core.restore(store.snapshot(), t);
    flush();
  }

  config cfg;
  testing::memory_store store;
  std::unique_ptr<harness> h;
  storage::restore_report report;
};

codec::connect persistent(std::string_view id, codec::protocol_version v, std::uint32_t expiry = 600) {
  auto c = harness::connect_packet(id, v, false);
  if (v == v5) c.props.session_expiry_interval = expiry;
  return c;
}

template <class T>
std::vector<const T*> effects_of(const std::vector<storage::effect>& all) {
  std::vector<const T*> out;
  for (const auto& e : all)
    if (const auto* x = std::get_if<T>(&e)) out.push_back(x);
  return out;
}

class durable_both : public ::testing::TestWithParam<codec::protocol_version> {};
INSTANTIATE_TEST_SUITE_P(broker, durable_both, ::testing::Values(v311, v5),
                         [](const auto& i) { return i.param == v5 ? "v5" : "v311"; });

TEST(broker_persistence, effects_only_with_the_option) {
  harness h;  // default config
  connect(h, "keep", persistent("keep", v5));
  subscribe(h, "keep", "t", qos::at_least_once);
  connect(h, "pub", harness::connect_packet("pub", v5));
  h.send("pub", make_publish("t", "m", qos::at_least_once, 1, true));
  EXPECT_FALSE(h.core.has_storage());
  EXPECT_TRUE(h.core.take_storage().empty());
}

TEST(broker_persistence, effects_of_durable_sessions_and_retained_messages) {
  harness h(durable_config());
  connect(h, "keep", persistent("keep", v5));
  auto e = h.core.take_storage();
  ASSERT_EQ(effects_of<storage::put_session>(e).size(), 1u);
  EXPECT_TRUE(effects_of<storage::put_session>(e)[0]->session.connected);
  EXPECT_EQ(effects_of<storage::put_session>(e)[0]->session.expiry_interval, 600u);

  connect(h, "tmp", harness::connect_packet("tmp", v5));  // expiry 0: not durable
  subscribe(h, "tmp", "t", qos::at_least_once);
  EXPECT_TRUE(h.core.take_storage().empty());

  subscribe(h, "keep", "t", qos::exactly_once);
  e = h.core.take_storage();
  ASSERT_EQ(effects_of<storage::put_subscription>(e).size(), 1u);
  EXPECT_EQ(effects_of<storage::put_subscription>(e)[0]->subscription.filter, "t");

  connect(h, "pub", harness::connect_packet("pub", v5));
  h.send("pub", make_publish("t", "m", qos::at_least_once, 1, true));
  e = h.core.take_storage();
  // The message for "keep" is stored, then sent (in flight); nothing for "tmp"; the retained one.
  ASSERT_EQ(effects_of<storage::put_message>(e).size(), 1u);
  const auto put = effects_of<storage::put_message>(e)[0]->message;  // a copy: `e` is reused below
  EXPECT_EQ(put.client_id, "keep");
  EXPECT_EQ(put.item.msg.publish.payload, "m");
  EXPECT_FALSE(put.stage);
  ASSERT_EQ(effects_of<storage::update_message>(e).size(), 1u);
  EXPECT_EQ(effects_of<storage::update_message>(e)[0]->seq, put.item.seq);
  ASSERT_EQ(effects_of<storage::put_retained>(e).size(), 1u);
  codec::owned_packet k;
  const auto got = h.take_one<codec::publish>("keep", k);
  EXPECT_EQ(effects_of<storage::update_message>(e)[0]->packet_id, got.packet_id);

  h.send("keep", codec::puback{got.packet_id, reason_code::success, {}});
  e = h.core.take_storage();
  ASSERT_EQ(effects_of<storage::delete_message>(e).size(), 1u);
  EXPECT_EQ(effects_of<storage::delete_message>(e)[0]->seq, put.item.seq);

  h.send("pub", make_publish("t", "", qos::at_most_once, 0, true));  // clears the retained message
  EXPECT_EQ(effects_of<storage::delete_retained>(h.core.take_storage()).size(), 1u);

  h.send("keep", codec::unsubscribe{2, {}, {"t"}});
  EXPECT_EQ(effects_of<storage::delete_subscription>(h.core.take_storage()).size(), 1u);

  // A clean start ends the stored Session.
  connect(h, "keep2", harness::connect_packet("keep", v5));
  EXPECT_EQ(effects_of<storage::delete_session>(h.core.take_storage()).size(), 1u);
}

TEST(broker_persistence, qos0_is_not_stored) {
  harness h(durable_config());
  connect(h, "keep", persistent("keep", v5));
  subscribe(h, "keep", "t", qos::at_most_once);
  connect(h, "pub", harness::connect_packet("pub", v5));
  h.core.take_storage();
  h.send("pub", make_publish("t", "m", qos::at_least_once, 1));  // delivered at the granted QoS 0
  EXPECT_TRUE(h.core.take_storage().empty());
}

TEST_P(durable_both, restart_restores_in_flight_and_queued_messages_in_order) {
  auto cfg = durable_config();
  cfg.send_quota = 2;
  durable d(cfg);
  auto& h0 = *d.h;
  connect(h0, "sub", persistent("sub", GetParam()));
  subscribe(h0, "sub", "t/#", qos::exactly_once);
  connect(h0, "pub", harness::connect_packet("pub", GetParam()));
  for (int i = 1; i <= 5; ++i)
    h0.send("pub", make_publish("t/x", std::to_string(i), i % 2 ? qos::at_least_once : qos::exactly_once,
                                static_cast<std::uint16_t>(i)));
  auto first = h0.take("sub");
  ASSERT_EQ(first.size(), 2u);  // two in flight (send quota), three queued
  std::vector<std::uint16_t> ids;
  for (const auto& p : first) ids.push_back(std::get<codec::publish>(p.value).packet_id);
  // The second (QoS 2) got as far as PUBREC -> PUBREL.
  h0.send("sub", codec::pubrec{ids[1], reason_code::success, {}});
  codec::owned_packet k;
  EXPECT_EQ(h0.take_one<codec::pubrel>("sub", k).packet_id, ids[1]);

  d.restart(1'000);
  EXPECT_EQ(d.report.sessions, 1u);
  EXPECT_EQ(d.report.messages, 5u);
  auto& h = *d.h;
  EXPECT_TRUE(connect(h, "sub", persistent("sub", GetParam())).session_present);
  auto again = h.take("sub");
  // First the in-flight ones, as they were: the PUBLISH again with DUP, the PUBREL again.
  ASSERT_EQ(again.size(), 2u);
  const auto& resent = std::get<codec::publish>(again[0].value);
  EXPECT_TRUE(resent.dup);
  EXPECT_EQ(resent.packet_id, ids[0]);
  EXPECT_EQ(resent.payload, "1");
  EXPECT_EQ(std::get<codec::pubrel>(again[1].value).packet_id, ids[1]);
  h.send("sub", codec::puback{ids[0], reason_code::success, {}});
  h.send("sub", codec::pubcomp{ids[1], reason_code::success, {}});
  // Then the queue, in order, with fresh identifiers.
  std::vector<std::string> payloads;
  for (int round = 0; round < 3 && payloads.size() < 3; ++round) {
    for (const auto& p : h.take("sub")) {
      if (const auto* rel = std::get_if<codec::pubrel>(&p.value)) {
        h.send("sub", codec::pubcomp{rel->packet_id, reason_code::success, {}});
        continue;
      }
      const auto& pub = std::get<codec::publish>(p.value);
      payloads.emplace_back(pub.payload);
      EXPECT_FALSE(pub.dup);
      if (pub.qos_level == qos::at_least_once) h.send("sub", codec::puback{pub.packet_id, reason_code::success, {}});
      else h.send("sub", codec::pubrec{pub.packet_id, reason_code::success, {}});
    }
  }
  EXPECT_EQ(payloads, (std::vector<std::string>{"3", "4", "5"}));
}

TEST_P(durable_both, qos2_identifiers_of_a_publisher_survive_a_restart) {
  durable d;
  connect(*d.h, "sub", persistent("sub", GetParam()));
  subscribe(*d.h, "sub", "q", qos::exactly_once);
  connect(*d.h, "pub", persistent("pub", GetParam()));
  d.h->send("pub", make_publish("q", "once", qos::exactly_once, 7));
  codec::owned_packet k;
  EXPECT_EQ(d.h->take_one<codec::pubrec>("pub", k).packet_id, 7);
  EXPECT_EQ(d.h->take("sub").size(), 1u);

  d.restart(500);
  auto& h = *d.h;
  EXPECT_TRUE(connect(h, "pub", persistent("pub", GetParam())).session_present);
  auto p = make_publish("q", "once", qos::exactly_once, 7);
  p.dup = true;  // the PUBREC was lost with the connection: the publisher sends it again
  h.send("pub", p);
  EXPECT_EQ(h.take_one<codec::pubrec>("pub", k).packet_id, 7);
  h.send("pub", codec::pubrel{7, reason_code::success, {}});
  EXPECT_EQ(h.take_one<codec::pubcomp>("pub", k).code, reason_code::success);  // the identifier was known
  connect(h, "sub", persistent("sub", GetParam()));
  auto got = h.take("sub");
  ASSERT_EQ(got.size(), 1u);  // the copy in flight before the restart, once
  EXPECT_TRUE(std::get<codec::publish>(got[0].value).dup);
}

TEST_P(durable_both, subscriptions_and_retained_messages_survive) {
  durable d;
  connect(*d.h, "sub", persistent("sub", GetParam()));
  subscribe(*d.h, "sub", "a/+", qos::at_least_once);
  subscribe(*d.h, "sub", "b", qos::at_least_once);
  d.h->send("sub", codec::unsubscribe{3, {}, {"b"}});
  d.h->drop("sub");
  connect(*d.h, "pub", harness::connect_packet("pub", GetParam()));
  d.h->send("pub", make_publish("r/1", "kept", qos::at_least_once, 1, true));
  d.restart(100);
  EXPECT_EQ(d.report.retained, 1u);
  auto& h = *d.h;
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  h.send("pub", make_publish("a/1", "to a", qos::at_least_once, 1));
  h.send("pub", make_publish("b", "to b", qos::at_least_once, 2));
  connect(h, "sub", persistent("sub", GetParam()));
  auto got = h.take("sub");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::get<codec::publish>(got[0].value).payload, "to a");
  connect(h, "late", harness::connect_packet("late", GetParam()));
  subscribe(h, "late", "r/#", qos::at_least_once);
  codec::owned_packet k;
  EXPECT_EQ(h.take_one<codec::publish>("late", k).payload, "kept");
}

TEST(broker_persistence, session_expiry_counts_the_downtime) {
  for (millis downtime : {5'000u, 20'000u}) {
    durable d;
    connect(*d.h, "s", persistent("s", v5, 10));
    d.h->drop("s");  // expires 10 s from now
    d.restart(downtime);
    const bool expired = downtime > 10'000;
    EXPECT_EQ(d.report.expired_sessions, expired ? 1u : 0u) << downtime;
    EXPECT_EQ(d.store.sessions.contains("s"), !expired) << downtime;
    EXPECT_EQ(connect(*d.h, "s", persistent("s", v5, 10)).session_present, !expired) << downtime;
    d.flush();
    EXPECT_TRUE(d.store.sessions.contains("s"));  // stored again by the reconnection
  }
}

TEST(broker_persistence, a_connection_cut_by_the_crash_counts_from_the_last_sign_of_life) {
  durable d;
  connect(*d.h, "s", persistent("s", v5, 10));
  d.flush();                 // last_alive = now
  d.h->now += 100'000;       // the broker ran on, writing nothing, then died: unknown to the store
  d.restart(5'000);          // 105 s after the last sign of life: expired
  EXPECT_EQ(d.report.expired_sessions, 1u);
  EXPECT_TRUE(d.store.sessions.empty());
}

TEST(broker_persistence, message_expiry_counts_the_downtime) {
  durable d;
  connect(*d.h, "sub", persistent("sub", v5));
  subscribe(*d.h, "sub", "t", qos::at_least_once);
  d.h->drop("sub");
  connect(*d.h, "pub", harness::connect_packet("pub", v5));
  auto short_lived = make_publish("t", "short", qos::at_least_once, 1);
  short_lived.props.message_expiry_interval = 5;
  auto long_lived = make_publish("t", "long", qos::at_least_once, 2);
  long_lived.props.message_expiry_interval = 60;
  auto retained = make_publish("r", "ret", qos::at_least_once, 3, true);
  retained.props.message_expiry_interval = 5;
  d.h->send("pub", short_lived);
  d.h->send("pub", long_lived);
  d.h->send("pub", retained);
  d.restart(10'000);
  EXPECT_EQ(d.report.expired_messages, 2u);  // the short one queued, and the retained one
  EXPECT_EQ(d.report.retained, 0u);
  EXPECT_TRUE(d.store.retained.empty());
  auto& h = *d.h;
  connect(h, "sub", persistent("sub", v5));
  auto got = h.take("sub");
  ASSERT_EQ(got.size(), 1u);
  const auto& p = std::get<codec::publish>(got[0].value);
  EXPECT_EQ(p.payload, "long");
  EXPECT_EQ(p.props.message_expiry_interval, 50u);  // 60 less the 10 s the broker was down
}

TEST(broker_persistence, wills_of_connections_cut_by_the_crash) {
  for (millis downtime : {2'000u, 10'000u}) {
    durable d;
    connect(*d.h, "watcher", persistent("watcher", v5));
    subscribe(*d.h, "watcher", "will/#", qos::at_least_once);
    d.h->drop("watcher");
    auto c = persistent("dev", v5);
    codec::will_message w;
    w.topic = "will/dev";
    w.payload = "gone";
    w.qos_level = qos::at_least_once;
    w.props.will_delay_interval = 5;
    c.will = w;
    connect(*d.h, "dev", c);
    d.restart(downtime);  // "dev" was connected: its Will starts at the crash, 5 s delay
    EXPECT_EQ(d.report.wills_published, downtime > 5'000 ? 1u : 0u) << downtime;
    d.h->advance(6'000);  // a Will still pending goes out when its delay ends
    connect(*d.h, "watcher", persistent("watcher", v5));
    auto got = d.h->take("watcher");
    ASSERT_EQ(got.size(), 1u) << downtime;
    EXPECT_EQ(std::get<codec::publish>(got[0].value).payload, "gone");
  }
}

// Both were connected when the broker died: the Will of one is queued for the other, which is not
// connected any more either (nothing is "sent" to a connection of the previous run).
TEST(broker_persistence, a_will_published_at_restore_reaches_a_session_cut_by_the_same_crash) {
  durable d;
  connect(*d.h, "watcher", persistent("watcher", v5));
  subscribe(*d.h, "watcher", "will/#", qos::at_least_once);
  auto c = persistent("dev", v5);  // "dev" < "watcher": restored and detached first
  codec::will_message w;
  w.topic = "will/dev";
  w.payload = "gone";
  w.qos_level = qos::at_least_once;
  c.will = w;
  connect(*d.h, "dev", c);
  d.restart(1'000);
  EXPECT_EQ(d.report.wills_published, 1u);
  EXPECT_EQ(d.h->core.stats().messages_dropped, 0u);
  EXPECT_TRUE(connect(*d.h, "watcher", persistent("watcher", v5)).session_present);
  auto got = d.h->take("watcher");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::get<codec::publish>(got[0].value).payload, "gone");
}

TEST(broker_persistence, a_reconnection_with_expiry_0_unstores_the_session) {
  durable d;
  connect(*d.h, "s", persistent("s", v5));
  d.h->drop("s");
  d.flush();
  EXPECT_TRUE(d.store.sessions.contains("s"));
  auto c = harness::connect_packet("s", v5, false);  // resumes it, but it ends with this connection
  EXPECT_TRUE(connect(*d.h, "s", c).session_present);
  d.flush();
  EXPECT_FALSE(d.store.sessions.contains("s"));
  d.restart(0);
  EXPECT_EQ(d.report.sessions, 0u);
}

// A damaged store that holds one packet identifier twice in flight for a Session: the first keeps
// it, the second is sent again as a new message with an identifier of its own (v5:MQTT-2.2.1-4).
TEST(broker_persistence, a_packet_identifier_stored_twice_in_flight_is_used_once) {
  durable d;
  connect(*d.h, "sub", persistent("sub", v5));
  subscribe(*d.h, "sub", "t", qos::at_least_once);
  connect(*d.h, "pub", harness::connect_packet("pub", v5));
  d.h->send("pub", make_publish("t", "1", qos::at_least_once, 1));
  d.h->send("pub", make_publish("t", "2", qos::at_least_once, 2));
  ASSERT_EQ(d.h->take("sub").size(), 2u);
  d.flush();
  ASSERT_EQ(d.store.messages.size(), 2u);
  const auto first_id = d.store.messages.begin()->second.packet_id;
  std::next(d.store.messages.begin())->second.packet_id = first_id;

  d.restart(1'000);
  EXPECT_EQ(d.report.messages, 2u);
  auto& h = *d.h;
  EXPECT_TRUE(connect(h, "sub", persistent("sub", v5)).session_present);
  auto again = h.take("sub");
  ASSERT_EQ(again.size(), 2u);
  const auto& resent = std::get<codec::publish>(again[0].value);
  EXPECT_EQ(resent.payload, "1");
  EXPECT_TRUE(resent.dup);
  EXPECT_EQ(resent.packet_id, first_id);
  const auto& fresh = std::get<codec::publish>(again[1].value);
  EXPECT_EQ(fresh.payload, "2");
  EXPECT_FALSE(fresh.dup);
  EXPECT_NE(fresh.packet_id, first_id);
}

}  // namespace
}  // namespace mqttspec::broker
