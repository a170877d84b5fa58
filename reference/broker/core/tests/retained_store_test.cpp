#include "mqttspec/broker/retained_store.hpp"

#include "mqttspec/broker/topic_match.hpp"
#include "mqttspec/codec/topic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace mqttspec::broker {
namespace {

codec::publish retained(std::string_view topic, std::string_view payload, codec::qos q = codec::qos::at_least_once) {
  codec::publish p;
  p.retain = true;
  p.qos_level = q;
  p.topic = topic;
  p.payload = payload;
  return p;
}

std::vector<std::string> topics_of(const std::vector<const retained_message*>& ms) {
  std::vector<std::string> out;
  for (const auto* m : ms) out.emplace_back(m->message.publish.topic);
  std::sort(out.begin(), out.end());
  return out;
}

using names = std::vector<std::string>;

// v5:MQTT-3.3.1-5, v3.1.1:MQTT-3.3.1-5
TEST(retained_store, set_stores_and_replaces_one_message_per_topic) {
  retained_store s;
  EXPECT_EQ(s.set(retained("a/b", "one"), 100), retain_result::stored);
  EXPECT_EQ(s.set(retained("a/c", "two"), 200), retain_result::stored);
  EXPECT_EQ(s.set(retained("a/b", "three", codec::qos::at_most_once), 300), retain_result::replaced);
  EXPECT_EQ(s.size(), 2u);

  const retained_message* m = s.find("a/b");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->message.publish.payload, "three");
  EXPECT_EQ(m->message.publish.qos_level, codec::qos::at_most_once);
  EXPECT_TRUE(m->message.publish.retain);
  EXPECT_EQ(m->stored_at_ms, 300u);
  EXPECT_EQ(s.find("a"), nullptr);  // an inner node holds no message
  EXPECT_EQ(s.find("a/b/c"), nullptr);
  EXPECT_EQ(s.find("A/B"), nullptr);
}

// v5:MQTT-3.3.1-6, v5:MQTT-3.3.1-7, v3.1.1:MQTT-3.3.1-10, v3.1.1:MQTT-3.3.1-11
TEST(retained_store, empty_payload_erases_and_is_never_stored) {
  retained_store s;
  EXPECT_EQ(s.set(retained("a/b", ""), 1), retain_result::unchanged);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.find("a/b"), nullptr);
  EXPECT_EQ(s.node_count(), 0u);  // not even an empty node is left behind

  s.set(retained("a/b", "x"), 2);
  s.set(retained("a/b/c", "y"), 3);
  EXPECT_EQ(s.set(retained("a/b", ""), 4), retain_result::erased);
  EXPECT_EQ(s.find("a/b"), nullptr);
  EXPECT_NE(s.find("a/b/c"), nullptr);
  EXPECT_EQ(topics_of(s.match("#")), (names{"a/b/c"}));

  // The owned-message overload follows the same rule.
  EXPECT_EQ(s.set(make_message(retained("a/b/c", "")), 5), retain_result::erased);
  EXPECT_EQ(s.set(make_message(retained("a/b/c", "")), 6), retain_result::unchanged);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.node_count(), 0u);
}

TEST(retained_store, erase) {
  retained_store s;
  s.set(retained("x", "1"), 0);
  EXPECT_FALSE(s.erase("y"));
  EXPECT_FALSE(s.erase("x/y"));
  EXPECT_TRUE(s.erase("x"));
  EXPECT_FALSE(s.erase("x"));
  EXPECT_TRUE(s.empty());
}

TEST(retained_store, stored_messages_own_their_bytes) {
  retained_store s;
  {
    auto topic = std::make_unique<std::string>("own/topic");
    auto payload = std::make_unique<std::string>("payload bytes");
    codec::publish p = retained(*topic, *payload);
    std::string content_type = "text/plain";
    p.props.content_type = content_type;
    s.set(p, 0);
    topic->assign(topic->size(), 'X');
    payload->assign(payload->size(), 'X');
    content_type.assign(content_type.size(), 'X');
  }  // the source bytes are gone (ASan would flag any view into them)
  const retained_message* m = s.find("own/topic");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->message.publish.topic, "own/topic");
  EXPECT_EQ(m->message.publish.payload, "payload bytes");
  EXPECT_EQ(m->message.publish.props.content_type, "text/plain");
}

TEST(retained_store, match_by_filter) {
  retained_store s;
  for (const char* t : {"sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
                        "sport/tennis/player2", "sport/golf", "/finance", "finance", "a//b", "$SYS/monitor/Clients",
                        "$SYS", "a/$SYS"}) {
    s.set(retained(t, "x"), 0);
  }
  EXPECT_EQ(topics_of(s.match("sport/tennis/player1/#")),
            (names{"sport/tennis/player1", "sport/tennis/player1/ranking"}));
  EXPECT_EQ(topics_of(s.match("sport/#")), (names{"sport", "sport/", "sport/golf", "sport/tennis",
                                                  "sport/tennis/player1", "sport/tennis/player1/ranking",
                                                  "sport/tennis/player2"}));
  EXPECT_EQ(topics_of(s.match("sport/tennis/+")), (names{"sport/tennis/player1", "sport/tennis/player2"}));
  EXPECT_EQ(topics_of(s.match("sport/+")), (names{"sport/", "sport/golf", "sport/tennis"}));
  EXPECT_EQ(topics_of(s.match("+")), (names{"finance", "sport"}));
  EXPECT_EQ(topics_of(s.match("+/+")), (names{"/finance", "a/$SYS", "sport/", "sport/golf", "sport/tennis"}));
  EXPECT_EQ(topics_of(s.match("/+")), (names{"/finance"}));
  EXPECT_EQ(topics_of(s.match("a/+/b")), (names{"a//b"}));
  EXPECT_EQ(topics_of(s.match("a//b")), (names{"a//b"}));
  EXPECT_EQ(topics_of(s.match("sport/tennis")), (names{"sport/tennis"}));
  EXPECT_EQ(topics_of(s.match("sport/tennis/player3")), names{});
  EXPECT_EQ(topics_of(s.match("Sport/#")), names{});
  // v5:MQTT-4.7.2-1, v3.1.1:MQTT-4.7.2-1
  EXPECT_EQ(topics_of(s.match("#")).size(), 11u);  // everything but the two "$SYS" topics
  EXPECT_EQ(topics_of(s.match("+/monitor/Clients")), names{});
  EXPECT_EQ(topics_of(s.match("+/#")).size(), 11u);
  EXPECT_EQ(topics_of(s.match("$SYS/#")), (names{"$SYS", "$SYS/monitor/Clients"}));
  EXPECT_EQ(topics_of(s.match("$SYS/monitor/+")), (names{"$SYS/monitor/Clients"}));
  EXPECT_EQ(topics_of(s.match("a/+")), (names{"a/$SYS"}));
  EXPECT_EQ(topics_of(s.match("")), names{});

  EXPECT_EQ(s.all().size(), 13u);
  std::vector<const retained_message*> out(5);
  s.match("finance", out);
  EXPECT_EQ(topics_of(out), (names{"finance"}));
}

// Message Expiry: time is an input.
TEST(retained_store, expiry) {
  retained_store s;
  codec::publish p = retained("e/short", "x");
  p.props.message_expiry_interval = 10;
  s.set(p, 1'000);
  p.topic = "e/long";
  p.props.message_expiry_interval = 100;
  s.set(p, 1'000);
  s.set(retained("e/never", "x"), 1'000);
  s.set(retained("e/short/child", "x"), 1'000);

  const retained_message* m = s.find("e/short");
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->expired(10'999));
  EXPECT_TRUE(m->expired(11'000));
  EXPECT_EQ(remaining_expiry_interval(m->message.publish, m->stored_at_ms, 5'000), 6u);  // v5:MQTT-3.3.2-6

  EXPECT_EQ(s.erase_expired(10'999), 0u);
  EXPECT_EQ(s.erase_expired(11'000), 1u);  // v5:MQTT-3.3.2-5
  EXPECT_EQ(topics_of(s.match("e/#")), (names{"e/long", "e/never", "e/short/child"}));
  EXPECT_EQ(s.erase_expired(1'000'000'000), 1u);
  EXPECT_EQ(topics_of(s.all()), (names{"e/never", "e/short/child"}));
  EXPECT_EQ(s.size(), 2u);
}

TEST(retained_store, expire_a_whole_chain) {
  retained_store s;
  codec::publish p = retained("a", "x");
  p.props.message_expiry_interval = 1;
  for (const char* t : {"a", "a/b", "a/b/c", "a/d"}) {
    p.topic = t;
    s.set(p, 0);
  }
  EXPECT_EQ(s.erase_expired(1'000), 4u);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.node_count(), 0u);
}

TEST(retained_store, deep_topics_do_not_recurse) {
  retained_store s;
  const std::string deep(40000, '/');
  s.set(retained(deep, "x"), 0);
  s.set(retained(deep.substr(0, 30000) + "/a", "y"), 0);
  EXPECT_EQ(s.match("#").size(), 2u);
  EXPECT_EQ(s.match(deep).size(), 1u);
  EXPECT_EQ(s.match(deep.substr(0, 30000) + "/+").size(), 1u);
  EXPECT_EQ(s.all().size(), 2u);
  EXPECT_TRUE(s.erase(deep));
  // The rest is dismantled by the destructor, also without recursion.
}

TEST(retained_store, move_keeps_the_messages) {
  retained_store a;
  a.set(retained("x", "1"), 0);
  retained_store b(std::move(a));
  EXPECT_NE(b.find("x"), nullptr);
  retained_store c;
  c = std::move(b);
  EXPECT_EQ(c.size(), 1u);
}

// The store's walk against topic_matches over every stored topic, for many generated filters.
TEST(retained_store, agrees_with_brute_force_matching) {
  std::mt19937 rng(777);  // fixed seed: deterministic
  const auto below = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  const std::vector<std::string> name_levels = {"a", "b", "", "$s", "c"};
  const std::vector<std::string> filter_levels = {"a", "b", "", "$s", "+", "+"};
  const auto make = [&](const std::vector<std::string>& levels, bool filter) {
    std::string s;
    do {
      s.clear();
      const std::size_t n = 1 + below(4);
      for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) s += '/';
        s += (filter && i == n - 1 && below(4) == 0) ? std::string("#") : levels[below(levels.size())];
      }
    } while (s.empty());
    return s;
  };

  retained_store store;
  std::map<std::string, std::string> model;  // topic -> payload
  std::size_t matched = 0;
  for (int step = 0; step < 5000; ++step) {
    const std::size_t op = below(10);
    if (op < 4) {
      const std::string topic = make(name_levels, false);
      const std::string payload = below(5) == 0 ? "" : "p" + std::to_string(step);
      store.set(retained(topic, payload), static_cast<std::uint64_t>(step));
      if (payload.empty())
        model.erase(topic);
      else
        model[topic] = payload;
    } else {
      const std::string filter = make(filter_levels, true);
      ASSERT_FALSE(codec::check_topic_filter(filter, codec::protocol_version::v5).has_value()) << filter;
      names expected;
      for (const auto& [topic, payload] : model)
        if (topic_matches(filter, topic)) expected.push_back(topic);
      const auto got = store.match(filter);
      ASSERT_EQ(topics_of(got), expected) << "filter \"" << filter << "\"";
      for (const auto* m : got) ASSERT_EQ(m->message.publish.payload, model[std::string(m->message.publish.topic)]);
      matched += got.size();
    }
    ASSERT_EQ(store.size(), model.size());
  }
  EXPECT_GT(matched, 1000u);
  EXPECT_EQ(store.all().size(), model.size());
}

}  // namespace
}  // namespace mqttspec::broker
