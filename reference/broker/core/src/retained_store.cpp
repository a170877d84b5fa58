#include "mqttspec/broker/retained_store.hpp"

#include "mqttspec/broker/detail/level_trie.hpp"
#include "mqttspec/broker/detail/topic_levels.hpp"

#include <optional>
#include <utility>

namespace mqttspec::broker {
namespace {

struct slot {
  std::optional<retained_message> entry;
  bool empty() const noexcept { return !entry.has_value(); }
};

using trie = detail::level_trie<slot>;
using node = trie::node;

// Calls f(node&) on n and every node below it, without recursion.
template <class Node, class F>
void for_each_below(Node& n, F&& f) {
  std::vector<Node*> stack{&n};
  while (!stack.empty()) {
    Node* x = stack.back();
    stack.pop_back();
    f(*x);
    for (auto& c : x->children) stack.push_back(c.second.get());
  }
}

}  // namespace

struct retained_store::impl {
  trie topics;
  std::size_t count = 0;
};

retained_store::retained_store() : impl_(std::make_unique<impl>()) {}
retained_store::~retained_store() = default;
retained_store::retained_store(retained_store&&) noexcept = default;
retained_store& retained_store::operator=(retained_store&&) noexcept = default;

retain_result retained_store::set(const codec::publish& p, std::uint64_t now_ms) {
  // v5:MQTT-3.3.1-6, v3.1.1:MQTT-3.3.1-10: an empty payload only removes; nothing to copy.
  if (p.payload.empty()) return erase(p.topic) ? retain_result::erased : retain_result::unchanged;
  return set(make_message(p), now_ms);
}

retain_result retained_store::set(message m, std::uint64_t now_ms) {
  const std::string_view topic = m.publish.topic;
  // v5:MQTT-3.3.1-6, v5:MQTT-3.3.1-7, v3.1.1:MQTT-3.3.1-10, v3.1.1:MQTT-3.3.1-11: an empty
  // payload removes the retained message and is never kept itself.
  if (m.publish.payload.empty()) return erase(topic) ? retain_result::erased : retain_result::unchanged;
  // v5:MQTT-3.3.1-5, v3.1.1:MQTT-3.3.1-5: one retained message per topic, the latest.
  node& n = impl_->topics.emplace(topic);
  const bool had = n.value.entry.has_value();
  n.value.entry.emplace(retained_message{std::move(m), now_ms});
  if (had) return retain_result::replaced;
  ++impl_->count;
  return retain_result::stored;
}

bool retained_store::erase(std::string_view topic) {
  node* n = impl_->topics.find(topic);
  if (n == nullptr || !n->value.entry) return false;
  n->value.entry.reset();
  --impl_->count;
  impl_->topics.prune(n);
  return true;
}

const retained_message* retained_store::find(std::string_view topic) const noexcept {
  const node* n = impl_->topics.find(topic);
  return n != nullptr && n->value.entry ? &*n->value.entry : nullptr;
}

void retained_store::match(std::string_view filter, std::vector<const retained_message*>& out) const {
  using namespace detail;
  out.clear();
  if (filter.empty()) return;  // as topic_matches: an empty filter matches nothing
  const node* const root = &impl_->topics.root();
  const auto emit = [&](const node& n) {
    if (n.value.entry) out.push_back(&*n.value.entry);
  };
  // v5:MQTT-4.7.2-1, v3.1.1:MQTT-4.7.2-1: a wildcard as the first filter level skips the
  // topics whose first level begins with '$'.
  const auto reachable = [&](const node& parent, const node& child, std::string_view filter_level) {
    return !(&parent == root && is_wildcard(filter_level) && wildcard_blocked_at_first_level(child.level));
  };

  // Depth-first over (name node, filter levels still to match), without recursion. Below a '#'
  // every node matches: it is revisited with a reader over "#" alone, so one loop does both.
  std::vector<std::pair<const node*, level_reader>> stack;
  stack.emplace_back(root, level_reader(filter));
  while (!stack.empty()) {
    auto [n, levels] = stack.back();
    stack.pop_back();
    if (levels.done()) {
      emit(*n);
      continue;
    }
    const std::string_view level = levels.next();
    if (is_multi_level_wildcard(level)) {
      emit(*n);  // the parent: "a/#" matches "a" (the root holds nothing)
      for (const auto& c : n->children) {
        if (reachable(*n, *c.second, level)) stack.emplace_back(c.second.get(), level_reader(multi_level_wildcard));
      }
    } else if (is_single_level_wildcard(level)) {
      for (const auto& c : n->children) {
        if (reachable(*n, *c.second, level)) stack.emplace_back(c.second.get(), levels);
      }
    } else if (const node* c = n->child(level)) {
      stack.emplace_back(c, levels);
    }
  }
}

std::vector<const retained_message*> retained_store::match(std::string_view filter) const {
  std::vector<const retained_message*> out;
  match(filter, out);
  return out;
}

std::vector<const retained_message*> retained_store::all() const {
  std::vector<const retained_message*> out;
  out.reserve(impl_->count);
  for_each_below(impl_->topics.root(), [&](const node& n) {
    if (n.value.entry) out.push_back(&*n.value.entry);
  });
  return out;
}

std::size_t retained_store::erase_expired(std::uint64_t now_ms) {
  std::vector<node*> expired;
  for_each_below(impl_->topics.root(), [&](node& n) {
    if (n.value.entry && n.value.entry->expired(now_ms)) expired.push_back(&n);
  });
  // A node still holding a message is never pruned, so the pointers not yet handled stay valid.
  for (node* n : expired) {
    n->value.entry.reset();
    --impl_->count;
    impl_->topics.prune(n);
  }
  return expired.size();
}

std::size_t retained_store::size() const noexcept { return impl_->count; }
std::size_t retained_store::node_count() const noexcept { return impl_->topics.node_count(); }

}  // namespace mqttspec::broker
