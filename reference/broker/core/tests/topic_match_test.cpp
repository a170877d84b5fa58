// topic_matches against a table written from §4.7 of both standards, plus a differential check
// against a deliberately naive matcher.
#include "mqttspec/broker/topic_match.hpp"

#include "mqttspec/broker/detail/topic_levels.hpp"
#include "mqttspec/codec/topic.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mqttspec::broker {
namespace {

struct row {
  std::string_view filter;
  std::string_view name;
  bool matches;
  std::string_view why;
};

// Every example of §4.7 (3.1.1 and 5.0 give the same ones), then the edges around them.
constexpr row spec_examples[] = {
    // §4.7.1.2 multi-level wildcard
    {"sport/tennis/player1/#", "sport/tennis/player1", true, "4.7.1.2: '#' includes the parent"},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true, "4.7.1.2"},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true, "4.7.1.2"},
    {"sport/#", "sport", true, "4.7.1.2: 'sport/#' also matches the singular 'sport'"},
    {"#", "sport", true, "4.7.1.2: '#' on its own matches every message"},
    {"#", "sport/tennis/player1", true, "4.7.1.2"},
    {"#", "/", true, "4.7.1.2"},
    {"sport/tennis/player1/#", "sport/tennis/player2", false, "4.7.1.2"},
    {"sport/tennis/player1/#", "sport/tennis", false, "4.7.1.2: only the direct parent"},
    // §4.7.1.3 single-level wildcard
    {"sport/tennis/+", "sport/tennis/player1", true, "4.7.1.3"},
    {"sport/tennis/+", "sport/tennis/player2", true, "4.7.1.3"},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false, "4.7.1.3: one level only"},
    {"sport/+", "sport", false, "4.7.1.3: 'sport/+' does not match 'sport'"},
    {"sport/+", "sport/", true, "4.7.1.3: but matches 'sport/' (an empty level)"},
    {"+", "sport", true, "4.7.1.3"},
    {"+/tennis/#", "sport/tennis", true, "4.7.1.3"},
    {"+/tennis/#", "sport/tennis/player1/ranking", true, "4.7.1.3"},
    {"+/tennis/#", "sport/golf", false, "4.7.1.3"},
    {"sport/+/player1", "sport/tennis/player1", true, "4.7.1.3"},
    {"sport/+/player1", "sport/tennis/player2", false, "4.7.1.3"},
    {"+/+", "/finance", true, "4.7.1.3: '/finance' matches '+/+'"},
    {"/+", "/finance", true, "4.7.1.3: ... and '/+'"},
    {"+", "/finance", false, "4.7.1.3: ... but not '+'"},
    // §4.7.2 topics beginning with $
    {"#", "$SYS/broker/clients", false, "v5:MQTT-4.7.2-1, v3.1.1:MQTT-4.7.2-1"},
    {"#", "$SYS", false, "v5:MQTT-4.7.2-1"},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false, "v5:MQTT-4.7.2-1: 4.7.2 example"},
    {"$SYS/#", "$SYS/monitor/Clients", true, "4.7.2 example"},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true, "4.7.2 example"},
    // §4.7.3 topic semantics
    {"ACCOUNTS", "Accounts", false, "4.7.3: case sensitive"},
    {"Accounts", "ACCOUNTS", false, "4.7.3"},
    {"Accounts payable", "Accounts payable", true, "4.7.3: spaces are ordinary characters"},
    {"/finance", "finance", false, "4.7.3: a leading '/' makes a distinct topic"},
    {"finance", "/finance", false, "4.7.3"},
    {"/", "/", true, "4.7.3: '/' is a valid topic"},
    // §4.8.2 (5.0) shared subscriptions: the filter part after $share/<ShareName>/ is ordinary
    {"sport/tennis/+", "sport/tennis/player1", true, "4.8.2: '$share/consumer1/sport/tennis/+'"},
};

constexpr row dollar_rows[] = {
    {"+", "$SYS", false, "v5:MQTT-4.7.2-1"},
    {"+/#", "$SYS/a", false, "v5:MQTT-4.7.2-1"},
    {"+/+", "$SYS/a", false, "v5:MQTT-4.7.2-1"},
    {"#", "$", false, "v5:MQTT-4.7.2-1: '$' alone"},
    {"+", "$", false, "v5:MQTT-4.7.2-1"},
    {"#", "$share/g/a", false, "v5:MQTT-4.7.2-1: any '$' name, not only $SYS"},
    {"#", "$foo", false, "v5:MQTT-4.7.2-1"},
    {"$SYS", "$SYS", true, "literal '$' levels match"},
    {"$SYS/#", "$SYS", true, "'#' includes the parent, also under '$SYS'"},
    {"$SYS/+", "$SYS/a", true, ""},
    {"$SYS/+", "$SYS", false, ""},
    {"$SYS/#", "$SYS/a/b/c", true, ""},
    {"$SYS/#", "$SYSX/a", false, ""},
    {"$+/#", "$SYS/a", false, "'$+' is not a wildcard (and not a valid filter anyway)"},
    {"a/+", "a/$SYS", true, "the rule is about the first level only"},
    {"a/#", "a/$SYS/b", true, "the rule is about the first level only"},
    {"+/$SYS", "a/$SYS", true, ""},
    {"#", "a$", true, "'$' elsewhere in the first level does not count"},
    {"+", "x$SYS", true, ""},
    {"/#", "/$SYS", true, "an empty first level does not begin with '$'"},
    {"+/+", "/$SYS", true, ""},
    {"$SYS/monitor/Clients", "$SYS/monitor/Clients", true, ""},
    {"$SYS/monitor/Clients", "$sys/monitor/Clients", false, "case sensitive"},
};

constexpr row level_rows[] = {
    // exact
    {"a", "a", true, ""},
    {"a", "b", false, ""},
    {"a", "a/b", false, ""},
    {"a/b", "a", false, ""},
    {"a/b", "a/b", true, ""},
    {"a/b/c", "a/b/c", true, ""},
    {"a/b/c", "a/b/d", false, ""},
    {"abc", "ab", false, "prefix of a level"},
    {"ab", "abc", false, ""},
    {"a/bc", "a/b", false, ""},
    // empty levels
    {"a//b", "a//b", true, "empty middle level"},
    {"a//b", "a/b", false, ""},
    {"a/b", "a//b", false, ""},
    {"a/+/b", "a//b", true, "'+' matches an empty level"},
    {"+/+/+", "a//b", true, ""},
    {"+/+", "a//b", false, ""},
    {"/a", "/a", true, "empty first level"},
    {"/a", "a", false, ""},
    {"+/a", "/a", true, ""},
    {"a/", "a/", true, "empty last level"},
    {"a/", "a", false, ""},
    {"a", "a/", false, ""},
    {"a/+", "a/", true, ""},
    {"a/#", "a/", true, ""},
    {"a/#", "a//", true, ""},
    {"/", "//", false, ""},
    {"//", "//", true, ""},
    {"+/+/+", "//", true, ""},
    {"+", "/", false, "'/' has two (empty) levels"},
    {"+/+", "/", true, ""},
    {"#", "//", true, ""},
    {"/#", "/", true, ""},
    {"/#", "//a", true, ""},
    // '+'
    {"+", "a", true, ""},
    {"+", "a/b", false, ""},
    {"+/b", "a/b", true, ""},
    {"+/b", "a/c", false, ""},
    {"a/+", "a/b", true, ""},
    {"a/+", "a/b/c", false, ""},
    {"a/+/c", "a/b/c", true, ""},
    {"a/+/c", "a/b/d", false, ""},
    {"+/+/+", "a/b/c", true, ""},
    {"+/+/+", "a/b", false, ""},
    {"+/+/+", "a/b/c/d", false, ""},
    {"a/+/+", "a/b", false, ""},
    // '#'
    {"#", "a", true, ""},
    {"#", "a/b/c", true, ""},
    {"a/#", "a", true, "the parent"},
    {"a/#", "a/b", true, ""},
    {"a/#", "a/b/c/d/e", true, ""},
    {"a/#", "b", false, ""},
    {"a/#", "ab", false, ""},
    {"a/#", "ab/c", false, ""},
    {"a/b/#", "a", false, "only the direct parent"},
    {"a/b/#", "a/b", true, ""},
    {"a/b/#", "a/c", false, ""},
    {"+/#", "a", true, "'+' then the parent rule"},
    {"+/#", "a/b/c", true, ""},
    {"+/b/#", "a/b", true, ""},
    {"+/b/#", "a/c/b", false, ""},
    {"a/+/#", "a", false, ""},
    {"a/+/#", "a/b", true, ""},
    // no normalization (v5:MQTT-4.7.3-4): bytes compare as they are
    {"caf\xc3\xa9", "cafe\xcc\x81", false, "v5:MQTT-4.7.3-4: NFC vs NFD"},
    {"caf\xc3\xa9", "caf\xc3\xa9", true, ""},
    {"a b", "a  b", false, ""},
    {"a/b ", "a/b", false, "no trimming"},
    {"\xef\xbf\xbf", "\xef\xbf\xbf", true, "a non-character is an ordinary character here"},
    {"A/+", "a/b", false, "no case folding"},
    // literal '$share' in a name or an ordinary filter
    {"$share/g/a", "$share/g/a", true, "as an ordinary (3.1.1) filter it compares literally"},
    {"a", "$share/g/a", false, ""},
    // empty strings are not topics
    {"", "a", false, "empty filter"},
    {"a", "", false, "empty name"},
    {"#", "", false, ""},
};

void check_rows(std::span<const row> rows) {
  for (const row& r : rows) {
    SCOPED_TRACE(::testing::Message() << "filter \"" << r.filter << "\" name \"" << r.name << "\" (" << r.why << ")");
    EXPECT_EQ(topic_matches(r.filter, r.name), r.matches);
  }
}

TEST(topic_match, spec_examples) { check_rows(spec_examples); }
TEST(topic_match, dollar_topics) { check_rows(dollar_rows); }
TEST(topic_match, levels) { check_rows(level_rows); }

// The tables hold only inputs the codec accepts (the matcher's precondition), apart from the rows
// that try the empty strings or a not-quite-wildcard level on purpose.
TEST(topic_match, table_inputs_are_valid_topics) {
  for (std::span<const row> rows : {std::span<const row>(spec_examples), std::span<const row>(dollar_rows),
                                    std::span<const row>(level_rows)}) {
    for (const row& r : rows) {
      if (r.filter.empty() || r.name.empty() || r.filter == "$+/#") continue;
      SCOPED_TRACE(::testing::Message() << "filter \"" << r.filter << "\" name \"" << r.name << "\"");
      EXPECT_FALSE(codec::check_topic_filter(r.filter, codec::protocol_version::v3_1_1).has_value());
      EXPECT_FALSE(codec::check_topic_filter(r.filter, codec::protocol_version::v5).has_value());
      EXPECT_FALSE(codec::check_topic_name(r.name).has_value());
    }
  }
}

TEST(topic_match, level_reader_splits_every_slash) {
  const auto split = [](std::string_view t) {
    std::vector<std::string> out;
    detail::level_reader r(t);
    while (!r.done()) out.emplace_back(r.next());
    return out;
  };
  using v = std::vector<std::string>;
  EXPECT_EQ(split("a"), (v{"a"}));
  EXPECT_EQ(split("a/b"), (v{"a", "b"}));
  EXPECT_EQ(split("a//b"), (v{"a", "", "b"}));
  EXPECT_EQ(split("/a"), (v{"", "a"}));
  EXPECT_EQ(split("a/"), (v{"a", ""}));
  EXPECT_EQ(split("/"), (v{"", ""}));
  EXPECT_EQ(split(""), (v{""}));
  EXPECT_TRUE(detail::level_reader().done());
}

// An independent, naive matcher: split both into vectors, then compare level by level.
bool naive_matches(const std::string& filter, const std::string& name) {
  const auto split = [](const std::string& s) {
    std::vector<std::string> out(1);
    for (char c : s) {
      if (c == '/')
        out.emplace_back();
      else
        out.back() += c;
    }
    return out;
  };
  if (filter.empty() || name.empty()) return false;
  if (name[0] == '$' && (filter[0] == '+' || filter[0] == '#')) return false;
  const auto f = split(filter);
  const auto n = split(name);
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;
    if (i >= n.size()) return false;
    if (f[i] != "+" && f[i] != n[i]) return false;
  }
  return f.size() == n.size();
}

TEST(topic_match, agrees_with_a_naive_matcher) {
  std::mt19937 rng(20240601);  // fixed seed: the test is deterministic
  const std::vector<std::string> name_levels = {"a", "b", "", "$s", "ab"};
  const std::vector<std::string> filter_levels = {"a", "b", "", "$s", "ab", "+", "+"};
  const auto pick = [&](const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  };
  const auto make = [&](const std::vector<std::string>& from, bool may_end_with_hash) {
    std::string s;
    const int levels = std::uniform_int_distribution<int>(1, 4)(rng);
    for (int i = 0; i < levels; ++i) {
      if (i > 0) s += '/';
      if (may_end_with_hash && i == levels - 1 && rng() % 3 == 0)
        s += '#';
      else
        s += pick(from);
    }
    return s;
  };
  int matched = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string filter = make(filter_levels, true);
    const std::string name = make(name_levels, false);
    if (filter.empty() || name.empty()) continue;
    const bool expected = naive_matches(filter, name);
    matched += expected ? 1 : 0;
    ASSERT_EQ(topic_matches(filter, name), expected) << "filter \"" << filter << "\" name \"" << name << "\"";
  }
  EXPECT_GT(matched, 1000);  // the generator does produce matches
}

TEST(topic_match, deep_topics) {
  std::string name(40000, '/');  // 40001 empty levels
  std::string filter = name;
  EXPECT_TRUE(topic_matches(filter, name));
  EXPECT_TRUE(topic_matches("#", name));
  filter.back() = '#';  // "/…/#"
  EXPECT_TRUE(topic_matches(filter, name));
  EXPECT_FALSE(topic_matches(filter.substr(0, 20000) + "/a", name));
}

}  // namespace
}  // namespace mqttspec::broker
