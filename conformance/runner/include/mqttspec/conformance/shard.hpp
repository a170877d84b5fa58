#pragma once
// `mqttspec run --shard K/N`: a stable split of the selected scenarios over N CI jobs, so that a
// matrix of jobs plays the suite in parallel and `mqttspec merge` joins their results.json.
#include "mqttspec/conformance/scenario.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqttspec::conformance {

struct shard_spec {
  unsigned index = 1;  // 1-based: 1..count
  unsigned count = 1;
};

// "K/N" with 1 <= K <= N <= 1000; nullopt otherwise.
std::optional<shard_spec> parse_shard(std::string_view text);
std::string to_string(const shard_spec& s);  // "K/N"

// The scenarios of shard K of N: the selection sorted by id, then every N-th from the (K-1)-th on,
// returned in their original order. Depends only on the set of ids selected (not on load order,
// threads or the machine), so every job of a matrix agrees, each scenario is in exactly one shard
// and the shards' sizes differ by at most one.
std::vector<const scenario*> take_shard(const std::vector<const scenario*>& selected, shard_spec s);

}  // namespace mqttspec::conformance
