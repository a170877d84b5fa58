#include "mqttspec/conformance/shard.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace mqttspec::conformance {
namespace {

std::optional<unsigned> number(std::string_view s) {
  unsigned v = 0;
  if (s.empty() || s.size() > 4) return std::nullopt;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<shard_spec> parse_shard(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto k = number(text.substr(0, slash));
  const auto n = number(text.substr(slash + 1));
  if (!k || !n || *n < 1 || *n > 1000 || *k < 1 || *k > *n) return std::nullopt;
  return shard_spec{*k, *n};
}

std::string to_string(const shard_spec& s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

std::vector<const scenario*> take_shard(const std::vector<const scenario*>& selected, shard_spec s) {
  std::vector<const scenario*> by_id = selected;
  std::sort(by_id.begin(), by_id.end(), [](const scenario* a, const scenario* b) { return a->id < b->id; });
  std::set<const scenario*> mine;
  for (std::size_t i = s.index - 1; i < by_id.size(); i += s.count) mine.insert(by_id[i]);
  std::vector<const scenario*> out;
  for (const auto* sc : selected)
    if (mine.count(sc)) out.push_back(sc);
  return out;
}

}  // namespace mqttspec::conformance
