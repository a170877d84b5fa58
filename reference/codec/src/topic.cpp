#include "mqttspec/codec/topic.hpp"

#include "mqttspec/codec/detail/swar.hpp"

namespace mqttspec::codec {

std::optional<topic_problem> check_topic_name(std::string_view name) noexcept {
  if (name.empty()) return topic_problem{errc::empty_topic_name, 0};
  for (std::size_t i = 0; i < name.size(); i += 8) {
    // The lowest mark is always a true one: no need to look at the byte.
    if (const auto marks = detail::wildcard_bytes(detail::word_at(name, i)))
      return topic_problem{errc::wildcard_in_topic_name, i + detail::first_mark(marks)};
  }
  return std::nullopt;
}

namespace {

// Wildcards must fill a whole level; '#' must be the last level. `base` offsets reported positions.
// Only the wildcards are looked at, found eight bytes at a time.
[[gnu::always_inline]] inline std::optional<topic_problem> check_filter_levels(std::string_view f,
                                                                          std::size_t base) noexcept {
  for (std::size_t i = 0; i < f.size(); i += 8) {
    for (auto marks = detail::wildcard_bytes(detail::word_at(f, i)); marks != 0; marks &= marks - 1) {
      const std::size_t at = i + detail::first_mark(marks);
      const char c = f[at];
      if (c != '+' && c != '#') continue;  // a mark above a true one may be false
      const bool starts_level = at == 0 || f[at - 1] == '/';
      const bool ends_level = at + 1 == f.size() || f[at + 1] == '/';
      if (c == '#' && !(starts_level && at + 1 == f.size()))
        return topic_problem{errc::misplaced_multi_level_wildcard, base + at};
      if (c == '+' && !(starts_level && ends_level))
        return topic_problem{errc::misplaced_single_level_wildcard, base + at};
    }
  }
  return std::nullopt;
}

constexpr std::string_view share_prefix = "$share/";

}  // namespace

std::optional<shared_filter> parse_shared(std::string_view filter) noexcept {
  if (!filter.starts_with(share_prefix)) return std::nullopt;
  auto rest = filter.substr(share_prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return shared_filter{rest, {}};
  return shared_filter{rest.substr(0, slash), rest.substr(slash + 1)};
}

std::optional<topic_problem> check_topic_filter(std::string_view filter, protocol_version v) noexcept {
  if (filter.empty()) return topic_problem{errc::empty_topic_filter, 0};
  if (is_v5(v)) {
    if (auto shared = parse_shared(filter)) {  // v5:MQTT-4.8.2-1, v5:MQTT-4.8.2-2
      const std::size_t name_at = share_prefix.size();
      if (shared->share_name.empty()) return topic_problem{errc::empty_share_name, name_at};
      if (auto i = shared->share_name.find_first_of("+#"); i != std::string_view::npos)
        return topic_problem{errc::invalid_shared_subscription, name_at + i};
      if (shared->filter.empty() && filter.size() == name_at + shared->share_name.size())
        return topic_problem{errc::invalid_shared_subscription, filter.size()};
      const std::size_t filter_at = name_at + shared->share_name.size() + 1;
      if (shared->filter.empty()) return topic_problem{errc::empty_topic_filter, filter_at};
      return check_filter_levels(shared->filter, filter_at);
    }
  }
  return check_filter_levels(filter, 0);
}

}  // namespace mqttspec::codec
