#pragma once
// The level-by-level rules of Topic matching (§4.7), shared by every matcher in broker core:
// topic_matches (one filter against one name), subscription_tree::match (a trie of filters walked
// by a name) and retained_store::match (a trie of names walked by a filter). Each of them splits
// with level_reader and asks only these predicates, so the meaning of '+', '#' and '$' is written
// down once.
//
// Inputs are assumed to have passed codec::check_topic_name / codec::check_topic_filter; nothing
// here validates. Nothing is normalized either: levels compare byte for byte
// (v5:MQTT-4.7.3-4, v3.1.1:MQTT-4.7.3-4).
#include <cstddef>
#include <string_view>

namespace mqttspec::broker::detail {

// Splits a Topic Name or Topic Filter into its levels without allocating. Every '/' separates two
// levels and levels may be empty: "a//b" -> "a", "", "b"; "/a" -> "", "a"; "a/" -> "a", "";
// "" -> "" (one empty level). Copying a reader copies its position, which the trie walks rely on.
class level_reader {
 public:
  constexpr level_reader() noexcept = default;
  constexpr explicit level_reader(std::string_view topic) noexcept : rest_(topic), done_(false) {}

  // True once the last level has been read.
  constexpr bool done() const noexcept { return done_; }

  // The next level; call only while !done().
  constexpr std::string_view next() noexcept {
    const std::size_t slash = rest_.find('/');
    if (slash == std::string_view::npos) {
      done_ = true;
      return rest_;
    }
    const std::string_view level = rest_.substr(0, slash);
    rest_.remove_prefix(slash + 1);
    return level;
  }

 private:
  std::string_view rest_;
  bool done_ = true;
};

inline constexpr std::string_view single_level_wildcard = "+";
inline constexpr std::string_view multi_level_wildcard = "#";

// '+' matches exactly one level, whatever it holds (including an empty level).
constexpr bool is_single_level_wildcard(std::string_view level) noexcept { return level == single_level_wildcard; }
// '#' matches its own level and every level below, and also the parent level: "a/#" matches "a".
constexpr bool is_multi_level_wildcard(std::string_view level) noexcept { return level == multi_level_wildcard; }
constexpr bool is_wildcard(std::string_view level) noexcept {
  return is_single_level_wildcard(level) || is_multi_level_wildcard(level);
}

// v5:MQTT-4.7.2-1, v3.1.1:MQTT-4.7.2-1: a Topic Filter whose first level is a wildcard never
// matches a Topic Name that begins with '$' ("#" does not match "$SYS/x", "+/x" does not match
// "$SYS/x"); "$SYS/#" does. Pass the whole name or just its first level: the answer is the same.
constexpr bool wildcard_blocked_at_first_level(std::string_view name) noexcept {
  return !name.empty() && name.front() == '$';
}

}  // namespace mqttspec::broker::detail
