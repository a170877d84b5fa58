#pragma once
// A trie keyed by topic level, used by subscription_tree (keyed by filter levels) and
// retained_store (keyed by name levels). It only stores and prunes; the matching walks live with
// their users and follow the rules in topic_levels.hpp.
//
// Topics can have tens of thousands of levels ("/////..." within a 64 KiB string), so nothing here
// recurses: lookups loop, and destruction dismantles the tree with an explicit stack.
#include "mqttspec/broker/detail/topic_levels.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mqttspec::broker::detail {

// Lets unordered_map<std::string, ...> be searched with a std::string_view (no temporary string).
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class Value>
struct trie_node {
  using child_map = std::unordered_map<std::string, std::unique_ptr<trie_node>, string_hash, std::equal_to<>>;

  child_map children;
  trie_node* parent = nullptr;
  std::string_view level;  // this node's level: a view of its key in parent->children (keys never move)
  // The children whose level is "+" and "#" (also in `children`), kept at hand because every
  // step of a subscription match looks for them. Always null in a trie of Topic Names.
  trie_node* plus_child = nullptr;
  trie_node* hash_child = nullptr;
  Value value{};

  trie_node* child(std::string_view l) const noexcept {
    const auto it = children.find(l);
    return it == children.end() ? nullptr : it->second.get();
  }
};

// Value must be default-constructible and have `bool empty() const`: a node whose value is empty
// and which has no children is removed by prune().
template <class Value>
class level_trie {
 public:
  using node = trie_node<Value>;

  level_trie() : root_(std::make_unique<node>()) {}
  ~level_trie() { dismantle(std::move(root_)); }
  level_trie(level_trie&& other) noexcept : root_(std::exchange(other.root_, nullptr)), nodes_(other.nodes_) {
    other.nodes_ = 0;
  }
  level_trie& operator=(level_trie&& other) noexcept {
    if (this != &other) {
      dismantle(std::move(root_));
      root_ = std::exchange(other.root_, nullptr);
      nodes_ = std::exchange(other.nodes_, 0);
    }
    return *this;
  }
  level_trie(const level_trie&) = delete;
  level_trie& operator=(const level_trie&) = delete;

  // The root stands for the empty prefix; it holds no value of its own in practice, since every
  // topic has at least one level. A moved-from trie has no root and must not be used.
  node& root() noexcept { return *root_; }
  const node& root() const noexcept { return *root_; }

  // The node whose path is exactly the levels of topic, or nullptr.
  node* find(std::string_view topic) const noexcept {
    node* n = root_.get();
    level_reader levels(topic);
    while (n != nullptr && !levels.done()) n = n->child(levels.next());
    return n;
  }

  // The node for topic, creating the missing nodes along its path.
  node& emplace(std::string_view topic) {
    node* n = root_.get();
    level_reader levels(topic);
    while (!levels.done()) {
      const std::string_view l = levels.next();
      if (node* c = n->child(l)) {
        n = c;
        continue;
      }
      auto [it, inserted] = n->children.emplace(std::string(l), std::make_unique<node>());
      node* c = it->second.get();
      c->parent = n;
      c->level = it->first;
      if (is_single_level_wildcard(l)) n->plus_child = c;
      if (is_multi_level_wildcard(l)) n->hash_child = c;
      ++nodes_;
      n = c;
    }
    return *n;
  }

  // Removes n and then each ancestor while it is empty and childless. Never removes the root.
  void prune(node* n) noexcept {
    while (n != nullptr && n != root_.get() && n->value.empty() && n->children.empty()) {
      node* parent = n->parent;
      if (parent->plus_child == n) parent->plus_child = nullptr;
      if (parent->hash_child == n) parent->hash_child = nullptr;
      const auto it = parent->children.find(n->level);
      parent->children.erase(it);  // destroys n
      --nodes_;
      n = parent;
    }
  }

  // Nodes below the root; for tests and statistics.
  std::size_t node_count() const noexcept { return nodes_; }

 private:
  static void dismantle(std::unique_ptr<node> top) noexcept {
    if (!top) return;
    std::vector<std::unique_ptr<node>> stack;
    stack.push_back(std::move(top));
    while (!stack.empty()) {
      std::unique_ptr<node> n = std::move(stack.back());
      stack.pop_back();
      for (auto& entry : n->children) stack.push_back(std::move(entry.second));
      // n is destroyed here with only empty child pointers left: no recursion.
    }
  }

  std::unique_ptr<node> root_;
  std::size_t nodes_ = 0;
};

}  // namespace mqttspec::broker::detail
