#include "mqttspec/broker/subscription_tree.hpp"

#include "mqttspec/broker/topic_match.hpp"
#include "mqttspec/codec/topic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace mqttspec::broker {
namespace {

using codec::qos;

codec::subscription_options opts(qos q, bool no_local = false, bool rap = false) {
  codec::subscription_options o;
  o.max_qos = q;
  o.no_local = no_local;
  o.retain_as_published = rap;
  return o;
}

// A delivery as plain values, comparable and printable.
using flat = std::tuple<std::string, int, bool, bool, std::string, std::vector<std::uint32_t>>;

flat flatten(const delivery& d) {
  return {std::string(d.client_id), static_cast<int>(d.max_qos), d.retain_as_published, d.shared,
          std::string(d.shared_filter), d.subscription_ids};
}

std::vector<flat> sorted(const std::vector<delivery>& ds) {
  std::vector<flat> out;
  for (const auto& d : ds) out.push_back(flatten(d));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> clients_of(const std::vector<delivery>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.emplace_back(d.client_id);
  std::sort(out.begin(), out.end());
  return out;
}

using names = std::vector<std::string>;

TEST(subscription_tree, empty_tree_matches_nothing) {
  subscription_tree t;
  EXPECT_TRUE(t.match("a").empty());
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.client_count(), 0u);
  EXPECT_EQ(t.node_count(), 0u);
}

TEST(subscription_tree, matches_exact_and_wildcard_filters) {
  subscription_tree t;
  EXPECT_EQ(t.subscribe("c1", "sport/tennis/player1", opts(qos::at_most_once)), subscribe_result::added);
  EXPECT_EQ(t.subscribe("c2", "sport/tennis/+", opts(qos::at_most_once)), subscribe_result::added);
  EXPECT_EQ(t.subscribe("c3", "sport/#", opts(qos::at_most_once)), subscribe_result::added);
  EXPECT_EQ(t.subscribe("c4", "#", opts(qos::at_most_once)), subscribe_result::added);
  EXPECT_EQ(t.subscribe("c5", "+/+", opts(qos::at_most_once)), subscribe_result::added);
  EXPECT_EQ(t.subscribe("c6", "/+", opts(qos::at_most_once)), subscribe_result::added);
  EXPECT_EQ(t.size(), 6u);

  EXPECT_EQ(clients_of(t.match("sport/tennis/player1")), (names{"c1", "c2", "c3", "c4"}));
  EXPECT_EQ(clients_of(t.match("sport/tennis/player2")), (names{"c2", "c3", "c4"}));
  EXPECT_EQ(clients_of(t.match("sport")), (names{"c3", "c4"}));            // 'sport/#' includes the parent
  EXPECT_EQ(clients_of(t.match("sport/")), (names{"c3", "c4", "c5"}));     // an empty level
  EXPECT_EQ(clients_of(t.match("/finance")), (names{"c4", "c5", "c6"}));   // §4.7.1.3 example
  EXPECT_EQ(clients_of(t.match("sport/tennis/player1/ranking")), (names{"c3", "c4"}));
  EXPECT_EQ(clients_of(t.match("news")), (names{"c4"}));
}

// v5:MQTT-4.7.2-1, v3.1.1:MQTT-4.7.2-1
TEST(subscription_tree, wildcards_at_the_first_level_skip_dollar_topics) {
  subscription_tree t;
  t.subscribe("all", "#", opts(qos::at_most_once));
  t.subscribe("plus", "+/monitor/Clients", opts(qos::at_most_once));
  t.subscribe("plus_hash", "+/#", opts(qos::at_most_once));
  t.subscribe("sys", "$SYS/#", opts(qos::at_most_once));
  t.subscribe("sys_plus", "$SYS/monitor/+", opts(qos::at_most_once));
  t.subscribe("shared", "$share/g/#", opts(qos::at_most_once));
  EXPECT_EQ(clients_of(t.match("$SYS/monitor/Clients")), (names{"sys", "sys_plus"}));
  EXPECT_EQ(clients_of(t.match("$SYS")), (names{"sys"}));
  EXPECT_EQ(clients_of(t.match("a/monitor/Clients")), (names{"all", "plus", "plus_hash", "shared"}));
  EXPECT_EQ(clients_of(t.match("a/$SYS")), (names{"all", "plus_hash", "shared"}));
}

// v5:MQTT-3.3.4-2, v3.1.1:MQTT-3.3.5-1, v5:MQTT-3.3.4-3, v5:MQTT-3.3.4-4
TEST(subscription_tree, overlapping_subscriptions_give_one_delivery_with_highest_qos_and_all_ids) {
  subscription_tree t;
  t.subscribe("c", "a/+", opts(qos::at_least_once), 7);
  t.subscribe("c", "a/#", opts(qos::exactly_once), 3);
  t.subscribe("c", "#", opts(qos::at_most_once));      // no identifier
  t.subscribe("c", "a/b", opts(qos::at_most_once), 7);  // the same identifier again
  t.subscribe("d", "a/b", opts(qos::at_least_once), 1);

  auto ds = t.match("a/b");
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(sorted(ds), (std::vector<flat>{
                            {"c", 2, false, false, "", {3, 7}},  // ascending, each once
                            {"d", 1, false, false, "", {1}},
                        }));

  ds = t.match("a");  // only "a/#" and "#"
  EXPECT_EQ(sorted(ds), (std::vector<flat>{{"c", 2, false, false, "", {3}}}));

  ds = t.match("x");  // only "#": no identifiers at all
  EXPECT_EQ(sorted(ds), (std::vector<flat>{{"c", 0, false, false, "", {}}}));
}

// v5:MQTT-3.8.4-3, v3.1.1:MQTT-3.8.4-3
TEST(subscription_tree, same_filter_same_session_replaces) {
  subscription_tree t;
  EXPECT_EQ(t.subscribe("c", "a/+", opts(qos::exactly_once), 5), subscribe_result::added);
  EXPECT_EQ(t.subscribe("c", "a/+", opts(qos::at_most_once, false, true)), subscribe_result::replaced);
  EXPECT_EQ(t.subscribe("d", "a/+", opts(qos::at_least_once)), subscribe_result::added);  // other Session
  EXPECT_EQ(t.subscribe("c", "a/#", opts(qos::at_least_once)), subscribe_result::added);  // other filter
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.count("c"), 2u);

  const auto info = t.find("c", "a/+");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->options, opts(qos::at_most_once, false, true));
  EXPECT_EQ(info->identifier, std::nullopt);  // the new SUBSCRIBE had none
  EXPECT_FALSE(info->shared);

  t.unsubscribe("c", "a/#");
  EXPECT_EQ(sorted(t.match("a/b")), (std::vector<flat>{{"c", 0, true, false, "", {}}, {"d", 1, false, false, "", {}}}));
}

// v5:MQTT-3.10.4-1, v3.1.1:MQTT-3.10.4-1
TEST(subscription_tree, unsubscribe_compares_filters_literally) {
  subscription_tree t;
  t.subscribe("c", "a/+", opts(qos::at_least_once));
  t.subscribe("c", "a/b", opts(qos::at_least_once));
  EXPECT_FALSE(t.unsubscribe("c", "a/c"));   // matched by "a/+", but not the same string
  EXPECT_FALSE(t.unsubscribe("c", "a/#"));
  EXPECT_FALSE(t.unsubscribe("c", "A/B"));
  EXPECT_FALSE(t.unsubscribe("c", "a/b/"));
  EXPECT_FALSE(t.unsubscribe("other", "a/+"));
  EXPECT_EQ(t.size(), 2u);

  EXPECT_TRUE(t.unsubscribe("c", "a/+"));
  EXPECT_FALSE(t.unsubscribe("c", "a/+"));  // already gone
  EXPECT_EQ(clients_of(t.match("a/c")), names{});
  EXPECT_EQ(clients_of(t.match("a/b")), (names{"c"}));
  EXPECT_TRUE(t.unsubscribe("c", "a/b"));
  EXPECT_TRUE(t.match("a/b").empty());
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.client_count(), 0u);
  EXPECT_EQ(t.node_count(), 0u);  // the trie is pruned
}

TEST(subscription_tree, pruning_keeps_nodes_still_in_use) {
  subscription_tree t;
  t.subscribe("c", "a/b/c", opts(qos::at_most_once));
  t.subscribe("c", "a", opts(qos::at_most_once));
  t.subscribe("d", "a/b/c", opts(qos::at_most_once));
  EXPECT_EQ(t.node_count(), 3u);
  t.unsubscribe("c", "a/b/c");
  EXPECT_EQ(t.node_count(), 3u);  // d still uses it
  t.unsubscribe("d", "a/b/c");
  EXPECT_EQ(t.node_count(), 1u);  // "a" stays
  EXPECT_EQ(clients_of(t.match("a")), (names{"c"}));
}

// v5:MQTT-3.8.3-3
TEST(subscription_tree, no_local_applies_per_subscription) {
  subscription_tree t;
  t.subscribe("pub", "a/#", opts(qos::exactly_once, true), 1);  // No Local
  t.subscribe("pub", "a/b", opts(qos::at_least_once), 2);
  t.subscribe("other", "a/#", opts(qos::at_least_once, true), 3);

  // Published by "pub": its No Local subscription does not count, the other one still does.
  EXPECT_EQ(sorted(t.match("a/b", "pub")),
            (std::vector<flat>{{"other", 1, false, false, "", {3}}, {"pub", 1, false, false, "", {2}}}));
  // Only the No Local subscription matches: nothing for "pub".
  EXPECT_EQ(sorted(t.match("a/c", "pub")), (std::vector<flat>{{"other", 1, false, false, "", {3}}}));
  // Published by someone else, or by no Client at all: everything matches.
  EXPECT_EQ(sorted(t.match("a/b", "x")),
            (std::vector<flat>{{"other", 1, false, false, "", {3}}, {"pub", 2, false, false, "", {1, 2}}}));
  EXPECT_EQ(sorted(t.match("a/b")), sorted(t.match("a/b", "x")));
}

TEST(subscription_tree, retain_as_published_if_any_matching_subscription_has_it) {
  subscription_tree t;
  t.subscribe("c", "a/+", opts(qos::at_most_once, false, false));
  t.subscribe("c", "a/b", opts(qos::at_most_once, false, true));
  ASSERT_EQ(t.match("a/b").size(), 1u);
  EXPECT_TRUE(t.match("a/b")[0].retain_as_published);
  EXPECT_FALSE(t.match("a/c")[0].retain_as_published);
}

TEST(subscription_tree, match_reuses_the_output_vector) {
  subscription_tree t;
  t.subscribe("c", "a", opts(qos::at_most_once));
  std::vector<delivery> out(3);
  t.match("a", std::nullopt, out);
  EXPECT_EQ(out.size(), 1u);
  t.match("b", std::nullopt, out);
  EXPECT_TRUE(out.empty());
}

// §4.8.2: one message to exactly one member, round-robin.
TEST(subscription_tree, shared_subscription_delivers_to_one_member_round_robin) {
  subscription_tree t;
  t.subscribe("m1", "$share/g/sport/+", opts(qos::at_least_once), 11);
  t.subscribe("m2", "$share/g/sport/+", opts(qos::exactly_once));
  t.subscribe("m3", "$share/g/sport/+", opts(qos::at_most_once, false, true));
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.shared_subscription_count(), 1u);

  std::vector<flat> got;
  for (int i = 0; i < 6; ++i) {
    const auto ds = t.match("sport/tennis");
    ASSERT_EQ(ds.size(), 1u);
    got.push_back(flatten(ds[0]));
  }
  // v5:MQTT-4.8.2-3: each member with its own granted QoS and options.
  const flat m1{"m1", 1, false, true, "$share/g/sport/+", {11}};
  const flat m2{"m2", 2, false, true, "$share/g/sport/+", {}};
  const flat m3{"m3", 0, true, true, "$share/g/sport/+", {}};
  EXPECT_EQ(got, (std::vector<flat>{m1, m2, m3, m1, m2, m3}));

  EXPECT_TRUE(t.match("sport").empty());
  EXPECT_TRUE(t.match("news/x").empty());
  const auto info = t.find("m1", "$share/g/sport/+");
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->shared);
}

// The round-robin skips members that cannot take a message now, and falls back to plain order
// when none can (the message is then queued for an offline member rather than lost).
TEST(subscription_tree, shared_round_robin_prefers_available_members) {
  subscription_tree t;
  for (const char* m : {"m1", "m2", "m3"}) t.subscribe(m, "$share/g/t", opts(qos::at_least_once));
  std::set<std::string> online{"m1", "m3"};
  const auto available = [&](std::string_view id) { return online.contains(std::string(id)); };
  const auto next = [&] {
    const auto ds = t.match("t", std::nullopt, available);
    EXPECT_EQ(ds.size(), 1u);
    return ds.empty() ? std::string() : std::string(ds[0].client_id);
  };
  EXPECT_EQ(next(), "m1");
  EXPECT_EQ(next(), "m3");  // m2 is offline
  EXPECT_EQ(next(), "m1");
  online = {"m2"};
  EXPECT_EQ(next(), "m2");
  EXPECT_EQ(next(), "m2");
  online.clear();
  EXPECT_EQ(next(), "m3");  // nobody available: the round-robin goes on as if all were
  EXPECT_EQ(next(), "m1");
}

TEST(subscription_tree, shared_round_robin_survives_members_leaving_and_joining) {
  subscription_tree t;
  for (const char* m : {"m1", "m2", "m3", "m4"}) t.subscribe(m, "$share/g/t", opts(qos::at_most_once));
  const auto next = [&] {
    const auto ds = t.match("t");
    EXPECT_EQ(ds.size(), 1u);
    return ds.empty() ? std::string() : std::string(ds[0].client_id);
  };
  EXPECT_EQ(next(), "m1");
  EXPECT_EQ(next(), "m2");
  // m3 is next; removing a member before it keeps m3 next.
  t.unsubscribe("m1", "$share/g/t");
  EXPECT_EQ(next(), "m3");
  t.unsubscribe("m4", "$share/g/t");  // m4 was next: wraps to the first
  EXPECT_EQ(next(), "m2");
  t.subscribe("m5", "$share/g/t", opts(qos::at_most_once));  // joins at the end
  EXPECT_EQ(next(), "m3");
  EXPECT_EQ(next(), "m5");
  // Replacing keeps the member's place.
  EXPECT_EQ(t.subscribe("m3", "$share/g/t", opts(qos::exactly_once)), subscribe_result::replaced);
  EXPECT_EQ(next(), "m2");
  EXPECT_EQ(next(), "m3");
  EXPECT_EQ(t.remove_all("m2"), 1u);
  EXPECT_EQ(t.remove_all("m3"), 1u);
  EXPECT_EQ(next(), "m5");
  EXPECT_EQ(next(), "m5");
  t.unsubscribe("m5", "$share/g/t");
  EXPECT_TRUE(t.match("t").empty());
  EXPECT_EQ(t.shared_subscription_count(), 0u);
  EXPECT_EQ(t.node_count(), 0u);
}

TEST(subscription_tree, shared_and_non_shared_deliveries_are_separate) {
  subscription_tree t;
  t.subscribe("c", "a/b", opts(qos::at_most_once), 1);
  t.subscribe("c", "$share/g1/a/+", opts(qos::at_least_once), 2);
  t.subscribe("c", "$share/g2/a/+", opts(qos::exactly_once), 3);  // another ShareName, same filter
  t.subscribe("d", "$share/g1/a/+", opts(qos::at_most_once));
  t.subscribe("d", "$share/g1/#", opts(qos::at_most_once));      // the same ShareName, another filter
  EXPECT_EQ(t.shared_subscription_count(), 3u);

  // Each shared subscription ($share/g1/a/+, $share/g2/a/+, $share/g1/#) delivers once; the
  // non-shared one once more.
  EXPECT_EQ(sorted(t.match("a/b")), (std::vector<flat>{
                                        {"c", 0, false, false, "", {1}},
                                        {"c", 1, false, true, "$share/g1/a/+", {2}},
                                        {"c", 2, false, true, "$share/g2/a/+", {3}},
                                        {"d", 0, false, true, "$share/g1/#", {}},
                                    }));
  EXPECT_EQ(sorted(t.match("a/b")), (std::vector<flat>{
                                        {"c", 0, false, false, "", {1}},
                                        {"c", 2, false, true, "$share/g2/a/+", {3}},
                                        {"d", 0, false, true, "$share/g1/#", {}},
                                        {"d", 0, false, true, "$share/g1/a/+", {}},
                                    }));
}

TEST(subscription_tree, no_local_is_ignored_on_shared_subscriptions) {
  // Setting it is a Protocol Error the session rejects (v5:MQTT-3.8.3-4); the tree ignores it.
  subscription_tree t;
  t.subscribe("c", "$share/g/a", opts(qos::at_most_once, true));
  EXPECT_EQ(t.match("a", "c").size(), 1u);
}

TEST(subscription_tree, share_prefix_is_literal_before_5_0) {
  subscription_tree t;
  t.subscribe("old", "$share/g/a", opts(qos::at_most_once), std::nullopt, codec::protocol_version::v3_1_1);
  t.subscribe("new", "$share/g/a", opts(qos::at_most_once), std::nullopt, codec::protocol_version::v5);
  EXPECT_EQ(sorted(t.match("$share/g/a")), (std::vector<flat>{{"old", 0, false, false, "", {}}}));
  EXPECT_EQ(sorted(t.match("a")), (std::vector<flat>{{"new", 0, false, true, "$share/g/a", {}}}));
  EXPECT_FALSE(t.find("old", "$share/g/a")->shared);
  EXPECT_EQ(t.shared_subscription_count(), 1u);
}

TEST(subscription_tree, remove_all_and_listing) {
  subscription_tree t;
  t.subscribe("c", "b/#", opts(qos::at_least_once), 9);
  t.subscribe("c", "a", opts(qos::at_most_once));
  t.subscribe("c", "$share/g/x", opts(qos::exactly_once));
  t.subscribe("d", "a", opts(qos::at_most_once));
  EXPECT_EQ(t.client_count(), 2u);

  const auto list = t.subscriptions_of("c");
  ASSERT_EQ(list.size(), 3u);  // in filter order
  EXPECT_EQ(list[0].filter, "$share/g/x");
  EXPECT_TRUE(list[0].shared);
  EXPECT_EQ(list[0].options.max_qos, qos::exactly_once);
  EXPECT_EQ(list[1].filter, "a");
  EXPECT_EQ(list[2].filter, "b/#");
  EXPECT_EQ(list[2].identifier, 9u);
  EXPECT_TRUE(t.subscriptions_of("nobody").empty());

  EXPECT_EQ(t.remove_all("c"), 3u);
  EXPECT_EQ(t.remove_all("c"), 0u);
  EXPECT_EQ(t.count("c"), 0u);
  EXPECT_EQ(t.client_count(), 1u);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.shared_subscription_count(), 0u);
  EXPECT_EQ(clients_of(t.match("a")), (names{"d"}));
  EXPECT_TRUE(t.match("b/c").empty());
  EXPECT_TRUE(t.match("x").empty());
  EXPECT_EQ(t.node_count(), 1u);
}

TEST(subscription_tree, deep_filters_do_not_recurse) {
  subscription_tree t;
  const std::string deep(40000, '/');
  t.subscribe("c", deep, opts(qos::at_most_once));
  t.subscribe("c", deep + "/#", opts(qos::at_most_once));
  t.subscribe("d", deep.substr(0, 20000) + "/+/#", opts(qos::at_most_once));
  EXPECT_EQ(clients_of(t.match(deep)), (names{"c", "d"}));
  EXPECT_TRUE(t.unsubscribe("c", deep));
  // The rest is dismantled by the destructor, also without recursion.
}

TEST(subscription_tree, move_keeps_the_subscriptions) {
  subscription_tree a;
  a.subscribe("c", "x", opts(qos::at_most_once));
  subscription_tree b(std::move(a));
  EXPECT_EQ(clients_of(b.match("x")), (names{"c"}));
  subscription_tree c;
  c = std::move(b);
  EXPECT_EQ(clients_of(c.match("x")), (names{"c"}));
}

// ---------------------------------------------------------------------------------------------
// Differential test: the tree against a brute-force model that loops over every subscription
// with topic_matches, under random subscribe / unsubscribe / remove_all / match sequences.

struct model {
  struct sub {
    std::string client, filter;
    codec::subscription_options options;
    std::optional<std::uint32_t> id;
  };
  struct group {
    std::string share, filter;
    std::vector<std::string> members;  // join order
    std::size_t next = 0;
  };
  std::vector<sub> subs;      // insertion order
  std::vector<group> groups;  // creation order

  static std::optional<codec::shared_filter> shared(const std::string& f) { return codec::parse_shared(f); }

  sub* find(const std::string& client, const std::string& filter) {
    for (auto& s : subs)
      if (s.client == client && s.filter == filter) return &s;
    return nullptr;
  }

  subscribe_result subscribe(const std::string& client, const std::string& filter, codec::subscription_options o,
                             std::optional<std::uint32_t> id) {
    if (sub* s = find(client, filter)) {
      s->options = o;
      s->id = id;
      return subscribe_result::replaced;
    }
    subs.push_back({client, filter, o, id});
    if (auto sh = shared(filter)) {
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const group& x) { return x.share == sh->share_name && x.filter == sh->filter; });
      if (g == groups.end()) {
        groups.push_back({std::string(sh->share_name), std::string(sh->filter), {}, 0});
        g = std::prev(groups.end());
      }
      g->members.push_back(client);
    }
    return subscribe_result::added;
  }

  bool unsubscribe(const std::string& client, const std::string& filter) {
    const auto it = std::find_if(subs.begin(), subs.end(),
                                 [&](const sub& s) { return s.client == client && s.filter == filter; });
    if (it == subs.end()) return false;
    if (auto sh = shared(filter)) {
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const group& x) { return x.share == sh->share_name && x.filter == sh->filter; });
      const auto m = std::find(g->members.begin(), g->members.end(), client);
      const auto index = static_cast<std::size_t>(m - g->members.begin());
      g->members.erase(m);
      if (index < g->next) --g->next;
      if (g->next >= g->members.size()) g->next = 0;
      if (g->members.empty()) groups.erase(g);
    }
    subs.erase(it);
    return true;
  }

  std::size_t remove_all(const std::string& client) {
    std::vector<std::string> filters;
    for (const auto& s : subs)
      if (s.client == client) filters.push_back(s.filter);
    for (const auto& f : filters) unsubscribe(client, f);
    return filters.size();
  }

  std::vector<flat> match(const std::string& topic, std::optional<std::string> publisher) {
    std::map<std::string, flat> per_client;
    for (const auto& s : subs) {
      if (shared(s.filter)) continue;
      if (!topic_matches(s.filter, topic)) continue;
      if (s.options.no_local && publisher == s.client) continue;
      auto [it, fresh] = per_client.try_emplace(s.client, flat{s.client, 0, false, false, "", {}});
      auto& [c, q, rap, sh, sf, ids] = it->second;
      q = std::max(q, static_cast<int>(s.options.max_qos));
      rap = rap || s.options.retain_as_published;
      if (s.id && std::find(ids.begin(), ids.end(), *s.id) == ids.end()) ids.push_back(*s.id);
    }
    std::vector<flat> out;
    for (auto& [client, f] : per_client) {
      auto& ids = std::get<5>(f);
      std::sort(ids.begin(), ids.end());
      out.push_back(f);
    }
    for (auto& g : groups) {
      if (!topic_matches(g.filter, topic)) continue;
      const std::string& member = g.members[g.next];
      g.next = (g.next + 1) % g.members.size();
      const std::string full = "$share/" + g.share + "/" + g.filter;
      const sub* s = find(member, full);
      std::vector<std::uint32_t> ids;
      if (s->id) ids.push_back(*s->id);
      out.push_back({member, static_cast<int>(s->options.max_qos), s->options.retain_as_published, true, full, ids});
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST(subscription_tree, agrees_with_brute_force_matching) {
  std::mt19937 rng(4242);  // fixed seed: deterministic
  const auto below = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  const std::vector<std::string> name_levels = {"a", "b", "", "$s", "c"};
  const std::vector<std::string> filter_levels = {"a", "b", "", "$s", "+", "+"};
  const std::vector<std::string> clients = {"c0", "c1", "c2", "c3", "c4", "c5"};
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
  const auto make_filter = [&] {
    std::string f = make(filter_levels, true);
    if (below(3) == 0) f = "$share/" + std::string(below(2) == 0 ? "g1" : "g2") + "/" + f;
    return f;
  };

  subscription_tree tree;
  model m;
  std::vector<delivery> out;
  std::size_t nonempty = 0, shared_seen = 0;
  for (int step = 0; step < 6000; ++step) {
    const std::size_t op = below(10);
    const std::string client = clients[below(clients.size())];
    if (op < 4) {
      const std::string filter = make_filter();
      ASSERT_FALSE(codec::check_topic_filter(filter, codec::protocol_version::v5).has_value()) << filter;
      codec::subscription_options o;
      o.max_qos = static_cast<qos>(below(3));
      o.no_local = !codec::parse_shared(filter) && below(4) == 0;
      o.retain_as_published = below(3) == 0;
      const std::optional<std::uint32_t> id =
          below(2) == 0 ? std::nullopt : std::optional<std::uint32_t>(1 + static_cast<std::uint32_t>(below(5)));
      ASSERT_EQ(tree.subscribe(client, filter, o, id), m.subscribe(client, filter, o, id)) << filter;
    } else if (op < 6) {
      // Half the time a filter the client has, half the time a random one.
      std::string filter = make_filter();
      const auto mine = tree.subscriptions_of(client);
      if (!mine.empty() && below(2) == 0) filter = std::string(mine[below(mine.size())].filter);
      ASSERT_EQ(tree.unsubscribe(client, filter), m.unsubscribe(client, filter)) << filter;
    } else if (op == 6 && below(5) == 0) {
      ASSERT_EQ(tree.remove_all(client), m.remove_all(client));
    } else {
      const std::string topic = make(name_levels, false);
      const std::optional<std::string> publisher =
          below(2) == 0 ? std::nullopt : std::optional<std::string>(clients[below(clients.size())]);
      tree.match(topic, publisher ? std::optional<std::string_view>(*publisher) : std::nullopt, out);
      const auto expected = m.match(topic, publisher);
      ASSERT_EQ(sorted(out), expected) << "step " << step << " topic \"" << topic << "\"";
      nonempty += out.empty() ? 0 : 1;
      for (const auto& d : out) shared_seen += d.shared ? 1 : 0;
    }
    ASSERT_EQ(tree.size(), m.subs.size());
    ASSERT_EQ(tree.shared_subscription_count(), m.groups.size());
  }
  EXPECT_GT(nonempty, 500u);
  EXPECT_GT(shared_seen, 200u);
  for (const auto& c : clients) tree.remove_all(c);
  EXPECT_EQ(tree.node_count(), 0u);
}

}  // namespace
}  // namespace mqttspec::broker
