// topic.hpp: Topic Name and Topic Filter syntax (§4.7) and shared subscriptions (5.0 §4.8.2).
#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace mqttspec::codec;

namespace {

constexpr auto v311 = protocol_version::v3_1_1;
constexpr auto v5 = protocol_version::v5;

struct topic_row {
  std::string_view text;
  std::optional<errc> code;  // nullopt: valid
  std::size_t offset = 0;
};

std::string describe(const std::optional<topic_problem>& p) {
  if (!p) return "valid";
  return make_error_code(p->code).message() + " at " + std::to_string(p->offset);
}

}  // namespace

TEST(topic, names) {
  const topic_row rows[] = {
      {"a", std::nullopt},
      {"a/b/c", std::nullopt},
      {"/", std::nullopt},          // two empty levels
      {"//a//", std::nullopt},
      {"$SYS/broker", std::nullopt},
      {" ", std::nullopt},          // spaces are characters
      {"sport/tennis player1", std::nullopt},
      {"\xc3\xa9/\xe2\x82\xac", std::nullopt},
      {"", errc::empty_topic_name, 0},  // MQTT-4.7.3-1
      {"+", errc::wildcard_in_topic_name, 0},
      {"#", errc::wildcard_in_topic_name, 0},
      {"a/+", errc::wildcard_in_topic_name, 2},
      {"a/b#", errc::wildcard_in_topic_name, 3},
      {"a+b", errc::wildcard_in_topic_name, 1},
  };
  for (const auto& r : rows) {
    const auto p = check_topic_name(r.text);
    if (!r.code) {
      EXPECT_FALSE(p) << "\"" << r.text << "\": " << describe(p);
      continue;
    }
    ASSERT_TRUE(p) << "\"" << r.text << "\" accepted";
    EXPECT_EQ(p->code, *r.code) << "\"" << r.text << "\": " << describe(p);
    EXPECT_EQ(p->offset, r.offset) << "\"" << r.text << "\"";
  }
}

TEST(topic, filters_in_both_versions) {
  const topic_row rows[] = {
      {"#", std::nullopt},
      {"+", std::nullopt},
      {"+/+", std::nullopt},
      {"/+", std::nullopt},
      {"+/", std::nullopt},
      {"a/#", std::nullopt},
      {"/#", std::nullopt},
      {"a/+/b", std::nullopt},
      {"+/tennis/#", std::nullopt},
      {"sport/tennis/player1/#", std::nullopt},
      {"$SYS/#", std::nullopt},
      {"//", std::nullopt},
      {"", errc::empty_topic_filter, 0},  // MQTT-4.7.3-1
      {"a/#/b", errc::misplaced_multi_level_wildcard, 2},
      {"a#", errc::misplaced_multi_level_wildcard, 1},
      {"#/", errc::misplaced_multi_level_wildcard, 0},
      {"sport/tennis#", errc::misplaced_multi_level_wildcard, 12},
      {"a/b+", errc::misplaced_single_level_wildcard, 3},
      {"+a", errc::misplaced_single_level_wildcard, 0},
      {"a+/b", errc::misplaced_single_level_wildcard, 1},
      {"sport+", errc::misplaced_single_level_wildcard, 5},
  };
  for (auto v : {v311, v5}) {
    for (const auto& r : rows) {
      const auto p = check_topic_filter(r.text, v);
      if (!r.code) {
        EXPECT_FALSE(p) << "\"" << r.text << "\" " << to_string(v) << ": " << describe(p);
        continue;
      }
      ASSERT_TRUE(p) << "\"" << r.text << "\" accepted in " << to_string(v);
      EXPECT_EQ(p->code, *r.code) << "\"" << r.text << "\": " << describe(p);
      EXPECT_EQ(p->offset, r.offset) << "\"" << r.text << "\"";
    }
  }
}

TEST(topic, shared_subscriptions_in_5_0) {
  // §4.8.2: "$share/" ShareName (non-empty, no '/', '+', '#') "/" TopicFilter.
  for (std::string_view ok : {"$share/g/a", "$share/g/#", "$share/g/+/x", "$share/group-1/a/b",
                              "$share/g//", "$share/g/$SYS/x", "$sharex/a", "$SHARE/g/a"})
    EXPECT_FALSE(check_topic_filter(ok, v5)) << ok << ": " << describe(check_topic_filter(ok, v5));

  const std::pair<std::string_view, std::vector<errc>> bad[] = {
      {"$share/", {errc::empty_share_name, errc::invalid_shared_subscription}},
      {"$share//a", {errc::empty_share_name}},
      {"$share/g+/a", {errc::invalid_shared_subscription}},
      {"$share/g#/a", {errc::invalid_shared_subscription}},
      {"$share/+/a", {errc::invalid_shared_subscription}},
      {"$share/g", {errc::invalid_shared_subscription}},
      {"$share/g/", {errc::invalid_shared_subscription, errc::empty_topic_filter}},
  };
  for (const auto& [text, codes] : bad) {
    const auto p = check_topic_filter(text, v5);
    ASSERT_TRUE(p) << text << " accepted";
    EXPECT_NE(std::find(codes.begin(), codes.end(), p->code), codes.end()) << text << ": " << describe(p);
  }
  // The filter after the share name obeys the ordinary rules; offsets count from the start.
  const auto inner = check_topic_filter("$share/g/a#", v5);
  ASSERT_TRUE(inner);
  EXPECT_EQ(inner->code, errc::misplaced_multi_level_wildcard);
  EXPECT_EQ(inner->offset, 10u);
}

TEST(topic, share_prefix_is_ordinary_in_3_1_1) {
  for (std::string_view ok : {"$share/", "$share//a", "$share/g", "$share/g/", "$share/g/#"})
    EXPECT_FALSE(check_topic_filter(ok, v311)) << ok << ": " << describe(check_topic_filter(ok, v311));
  // ... but the wildcard rules still hold.
  const auto p = check_topic_filter("$share/g+/a", v311);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->code, errc::misplaced_single_level_wildcard);
  EXPECT_EQ(p->offset, 8u);
}

TEST(topic, parse_shared) {
  const auto s = parse_shared("$share/consumers/sensors/+/temp");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->share_name, "consumers");
  EXPECT_EQ(s->filter, "sensors/+/temp");
  const auto h = parse_shared("$share/g/#");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->share_name, "g");
  EXPECT_EQ(h->filter, "#");
  EXPECT_FALSE(parse_shared("a/b"));
  EXPECT_FALSE(parse_shared("$SHARE/g/a")) << "the prefix is case-sensitive";
  EXPECT_FALSE(parse_shared("$sharex/g/a"));
  EXPECT_FALSE(parse_shared("share/g/a"));
}

namespace {

// The rules of §4.7.1 read one byte at a time, as the spec states them: the oracle for the
// word-at-a-time checks, which must find the same first problem at the same offset.
std::optional<topic_problem> name_by_bytes(std::string_view s) {
  if (s.empty()) return topic_problem{errc::empty_topic_name, 0};
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '+' || s[i] == '#') return topic_problem{errc::wildcard_in_topic_name, i};
  return std::nullopt;
}

std::optional<topic_problem> filter_by_bytes(std::string_view s) {
  if (s.empty()) return topic_problem{errc::empty_topic_filter, 0};
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool starts_level = i == 0 || s[i - 1] == '/';
    const bool ends_level = i + 1 == s.size() || s[i + 1] == '/';
    if (s[i] == '#' && !(starts_level && i + 1 == s.size()))
      return topic_problem{errc::misplaced_multi_level_wildcard, i};
    if (s[i] == '+' && !(starts_level && ends_level)) return topic_problem{errc::misplaced_single_level_wildcard, i};
  }
  return std::nullopt;
}

bool same(const std::optional<topic_problem>& a, const std::optional<topic_problem>& b) {
  return a.has_value() == b.has_value() && (!a || (a->code == b->code && a->offset == b->offset));
}

}  // namespace

// Every length up to 24 (whole words, tails, strings under 8 bytes) with wildcards, separators,
// and the bytes next to '+' and '#' in value, at random places: 20,000 strings, a fixed seed.
TEST(topic, word_at_a_time_checks_agree_with_the_rules_byte_by_byte) {
  const std::string alphabet = "ab/+#*$,\x22\x24\x2a\x2c";
  std::uint32_t state = 12345;
  const auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (int round = 0; round < 20'000; ++round) {
    std::string s(next() % 25, 'a');
    for (char& c : s) c = alphabet[(next() >> 8) % alphabet.size()];
    EXPECT_TRUE(same(check_topic_name(s), name_by_bytes(s))) << s;
    if (!s.starts_with("$share/")) {
      EXPECT_TRUE(same(check_topic_filter(s, v5), filter_by_bytes(s))) << s;
    }
    EXPECT_TRUE(same(check_topic_filter(s, v311), filter_by_bytes(s))) << s;
  }
}
