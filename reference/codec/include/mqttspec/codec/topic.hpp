#pragma once
// Syntax of Topic Names and Topic Filters (§4.7, and §4.8.2 for shared subscriptions in 5.0).
// The broker's matcher relies on these checks having passed.
#include "mqttspec/codec/errc.hpp"
#include "mqttspec/codec/types.hpp"

#include <optional>
#include <string_view>

namespace mqttspec::codec {

struct topic_problem {
  errc code;
  std::size_t offset;  // within the topic string
};

// A Topic Name: non-empty, no '+' or '#'. (UTF-8 rules are the string decoder's.)
std::optional<topic_problem> check_topic_name(std::string_view name) noexcept;
// A Topic Filter: non-empty, '#' only as a whole last level, '+' only as a whole level; in 5.0 a
// "$share/" prefix must be followed by a non-empty ShareName without '/', '+', '#', then '/' and
// a filter.
std::optional<topic_problem> check_topic_filter(std::string_view filter, protocol_version v) noexcept;

// Splits "$share/<name>/<filter>" (5.0); nullopt for an ordinary filter.
struct shared_filter {
  std::string_view share_name;
  std::string_view filter;
};
std::optional<shared_filter> parse_shared(std::string_view filter) noexcept;

}  // namespace mqttspec::codec
