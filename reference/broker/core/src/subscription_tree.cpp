#include "mqttspec/broker/subscription_tree.hpp"

#include "mqttspec/broker/detail/level_trie.hpp"
#include "mqttspec/broker/detail/topic_levels.hpp"
#include "mqttspec/codec/topic.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

namespace mqttspec::broker {
namespace {

struct client_record;
struct node_value;
using trie = detail::level_trie<node_value>;
using node = trie::node;

struct stored_subscription {
  codec::subscription_options options;
  std::optional<std::uint32_t> identifier;
  std::string_view filter;      // the full filter: a view of this subscription's key in its record
  std::string_view share_name;  // a view into that key; empty unless shared
  node* where = nullptr;        // the trie node of the filter (without any "$share/<name>/")
};

// A reference from a trie node to one subscription. Both pointers are stable: records live in
// unique_ptrs and subscriptions in std::map nodes.
struct subscriber {
  client_record* client;
  stored_subscription* sub;
};

// One shared subscription: a ShareName and the filter of the node holding it (§4.8.2).
struct shared_group {
  std::string name;
  std::vector<subscriber> members;  // in the order they joined
  std::size_t next = 0;             // the member the next message goes to
};

struct node_value {
  std::vector<subscriber> subscribers;  // non-shared subscriptions whose filter is this node
  std::vector<shared_group> groups;     // shared subscriptions whose filter is this node
  bool empty() const noexcept { return subscribers.empty() && groups.empty(); }
};

struct client_record {
  std::string id;
  std::map<std::string, stored_subscription, std::less<>> subscriptions;  // keyed by the full filter
  // Grouping in match(): the match() call that last gave this Session a non-shared delivery, and
  // that delivery's index in the output. Avoids a map from Session to delivery on the hot path.
  std::uint64_t epoch = 0;
  std::size_t slot = 0;
};

bool higher(codec::qos a, codec::qos b) noexcept {
  return static_cast<std::uint8_t>(a) > static_cast<std::uint8_t>(b);
}

subscription_info info_of(const stored_subscription& s) {
  return subscription_info{s.filter, s.options, s.identifier, !s.share_name.empty()};
}

}  // namespace

struct subscription_tree::impl {
  trie filters;
  // Keys are views of client_record::id (the record is heap-allocated and never moves).
  std::unordered_map<std::string_view, std::unique_ptr<client_record>> clients;
  std::size_t subscriptions = 0;
  std::size_t shared_groups = 0;
  std::uint64_t epoch = 0;
  std::vector<std::pair<node*, detail::level_reader>> stack;  // match() scratch, kept to reuse its memory

  client_record* record(std::string_view client_id) const noexcept {
    const auto it = clients.find(client_id);
    return it == clients.end() ? nullptr : it->second.get();
  }

  // Takes one subscription out of the trie (the caller erases it from its record).
  void detach(stored_subscription& sub) noexcept {
    node& n = *sub.where;
    const auto is_this = [&](const subscriber& s) { return s.sub == &sub; };
    if (sub.share_name.empty()) {
      auto& subs = n.value.subscribers;
      subs.erase(std::find_if(subs.begin(), subs.end(), is_this));
    } else {
      auto& groups = n.value.groups;
      const auto g = std::find_if(groups.begin(), groups.end(),
                                  [&](const shared_group& x) { return x.name == sub.share_name; });
      auto& members = g->members;
      const auto m = std::find_if(members.begin(), members.end(), is_this);
      const auto index = static_cast<std::size_t>(m - members.begin());
      members.erase(m);
      // Keep the round-robin pointing at the member that was next.
      if (index < g->next) --g->next;
      if (g->next >= members.size()) g->next = 0;
      if (members.empty()) {
        groups.erase(g);
        --shared_groups;
      }
    }
    --subscriptions;
    filters.prune(&n);
  }

  // The group's next member in round-robin order that is available, else simply the next one.
  static const subscriber& pick(shared_group& g, const subscription_tree::availability& available) {
    const std::size_t size = g.members.size();
    std::size_t chosen = g.next;
    if (available) {
      for (std::size_t i = 0; i < size; ++i) {
        const std::size_t k = (g.next + i) % size;
        if (available(g.members[k].client->id)) {
          chosen = k;
          break;
        }
      }
    }
    g.next = (chosen + 1) % size;
    return g.members[chosen];
  }

  void collect(node& n, std::optional<std::string_view> publisher, std::vector<delivery>& out,
               const subscription_tree::availability& available) {
    for (const subscriber& s : n.value.subscribers) {
      const codec::subscription_options& o = s.sub->options;
      // v5:MQTT-3.8.3-3: with No Local this subscription does not match its own Client's messages.
      if (o.no_local && publisher && *publisher == s.client->id) continue;
      client_record& c = *s.client;
      if (c.epoch != epoch) {
        c.epoch = epoch;
        c.slot = out.size();
        out.push_back(delivery{c.id, o.max_qos, o.retain_as_published, false, {}, {}});
      } else {
        delivery& d = out[c.slot];
        // v5:MQTT-3.3.4-2, v3.1.1:MQTT-3.3.5-1: the highest QoS of the overlapping subscriptions.
        if (higher(o.max_qos, d.max_qos)) d.max_qos = o.max_qos;
        d.retain_as_published = d.retain_as_published || o.retain_as_published;
      }
      // v5:MQTT-3.3.4-3, v5:MQTT-3.3.4-4: every matching subscription's identifier.
      if (s.sub->identifier) out[c.slot].subscription_ids.push_back(*s.sub->identifier);
    }
    for (shared_group& g : n.value.groups) {
      // §4.8.2: each message matching a shared subscription goes to exactly one of its members.
      const subscriber& m = pick(g, available);
      const codec::subscription_options& o = m.sub->options;
      delivery d{m.client->id, o.max_qos, o.retain_as_published, true, m.sub->filter, {}};
      if (m.sub->identifier) d.subscription_ids.push_back(*m.sub->identifier);
      out.push_back(std::move(d));
    }
  }
};

subscription_tree::subscription_tree() : impl_(std::make_unique<impl>()) {}
subscription_tree::~subscription_tree() = default;
subscription_tree::subscription_tree(subscription_tree&&) noexcept = default;
subscription_tree& subscription_tree::operator=(subscription_tree&&) noexcept = default;

subscribe_result subscription_tree::subscribe(std::string_view client_id, std::string_view filter,
                                              const codec::subscription_options& options,
                                              std::optional<std::uint32_t> subscription_id,
                                              codec::protocol_version version) {
  impl& t = *impl_;
  client_record* rec = t.record(client_id);
  if (rec == nullptr) {
    auto fresh = std::make_unique<client_record>();
    fresh->id = std::string(client_id);
    rec = fresh.get();
    t.clients.emplace(rec->id, std::move(fresh));
  }

  // v5:MQTT-3.8.4-3, v3.1.1:MQTT-3.8.4-3: the same filter in the same Session replaces the
  // subscription; the trie entries point at it, so updating it in place is the whole job.
  if (const auto it = rec->subscriptions.find(filter); it != rec->subscriptions.end()) {
    const bool shared_now = codec::is_v5(version) && codec::parse_shared(filter).has_value();
    if (shared_now == !it->second.share_name.empty()) {
      it->second.options = options;
      it->second.identifier = subscription_id;
      return subscribe_result::replaced;
    }
    // The same string under another version means another thing ("$share/" is literal before
    // 5.0): move the subscription to where it now belongs.
    unsubscribe(client_id, filter);
    subscribe(client_id, filter, options, subscription_id, version);
    return subscribe_result::replaced;
  }

  const auto it = rec->subscriptions.emplace(std::string(filter), stored_subscription{}).first;
  stored_subscription& sub = it->second;
  sub.options = options;
  sub.identifier = subscription_id;
  sub.filter = it->first;
  std::string_view trie_filter = sub.filter;
  if (codec::is_v5(version)) {
    if (const auto shared = codec::parse_shared(sub.filter)) {
      sub.share_name = shared->share_name;
      trie_filter = shared->filter;
    }
  }
  node& n = t.filters.emplace(trie_filter);
  sub.where = &n;
  const subscriber entry{rec, &sub};
  if (sub.share_name.empty()) {
    n.value.subscribers.push_back(entry);
  } else {
    auto& groups = n.value.groups;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const shared_group& x) { return x.name == sub.share_name; });
    if (g == groups.end()) {
      groups.push_back(shared_group{std::string(sub.share_name), {}, 0});
      g = std::prev(groups.end());
      ++t.shared_groups;
    }
    g->members.push_back(entry);
  }
  ++t.subscriptions;
  return subscribe_result::added;
}

bool subscription_tree::unsubscribe(std::string_view client_id, std::string_view filter) {
  impl& t = *impl_;
  const auto c = t.clients.find(client_id);
  if (c == t.clients.end()) return false;
  auto& subs = c->second->subscriptions;
  // v5:MQTT-3.10.4-1, v3.1.1:MQTT-3.10.4-1: compared character by character, no wildcard meaning.
  const auto it = subs.find(filter);
  if (it == subs.end()) return false;
  t.detach(it->second);
  subs.erase(it);
  if (subs.empty()) t.clients.erase(c);
  return true;
}

std::size_t subscription_tree::remove_all(std::string_view client_id) {
  impl& t = *impl_;
  const auto c = t.clients.find(client_id);
  if (c == t.clients.end()) return 0;
  auto& subs = c->second->subscriptions;
  const std::size_t n = subs.size();
  for (auto& entry : subs) t.detach(entry.second);
  t.clients.erase(c);
  return n;
}

void subscription_tree::match(std::string_view topic, std::optional<std::string_view> publisher,
                              std::vector<delivery>& out, const availability& available) {
  using namespace detail;
  impl& t = *impl_;
  out.clear();
  ++t.epoch;
  node* const root = &t.filters.root();
  // v5:MQTT-4.7.2-1, v3.1.1:MQTT-4.7.2-1: '+' and '#' at the first level skip "$..." names.
  const bool dollar = wildcard_blocked_at_first_level(topic);

  // Depth-first over (filter node, name levels still to match); no recursion, since filters can
  // be tens of thousands of levels deep. Each node is reached at most once per call: a node is a
  // filter, and a filter matches a name in at most one way.
  auto& stack = t.stack;
  stack.clear();
  stack.emplace_back(root, level_reader(topic));
  while (!stack.empty()) {
    auto [n, levels] = stack.back();
    stack.pop_back();
    const bool wildcards = !(dollar && n == root);
    // '#' below this node matches the rest of the name, however many levels, or none.
    if (wildcards) {
      if (node* hash = n->hash_child) t.collect(*hash, publisher, out, available);
    }
    if (levels.done()) {
      t.collect(*n, publisher, out, available);
      continue;
    }
    const std::string_view level = levels.next();
    if (wildcards) {
      if (node* plus = n->plus_child) stack.emplace_back(plus, levels);
    }
    // A name level is never "+" or "#"; checking keeps a bad name from reaching a node twice.
    if (!is_wildcard(level)) {
      if (node* exact = n->child(level)) stack.emplace_back(exact, levels);
    }
  }

  for (delivery& d : out) {
    if (d.subscription_ids.size() > 1) {
      std::sort(d.subscription_ids.begin(), d.subscription_ids.end());
      d.subscription_ids.erase(std::unique(d.subscription_ids.begin(), d.subscription_ids.end()),
                               d.subscription_ids.end());
    }
  }
}

std::vector<delivery> subscription_tree::match(std::string_view topic, std::optional<std::string_view> publisher,
                                               const availability& available) {
  std::vector<delivery> out;
  match(topic, publisher, out, available);
  return out;
}

std::optional<subscription_info> subscription_tree::find(std::string_view client_id, std::string_view filter) const {
  const client_record* rec = impl_->record(client_id);
  if (rec == nullptr) return std::nullopt;
  const auto it = rec->subscriptions.find(filter);
  if (it == rec->subscriptions.end()) return std::nullopt;
  return info_of(it->second);
}

std::vector<subscription_info> subscription_tree::subscriptions_of(std::string_view client_id) const {
  std::vector<subscription_info> out;
  if (const client_record* rec = impl_->record(client_id)) {
    out.reserve(rec->subscriptions.size());
    for (const auto& entry : rec->subscriptions) out.push_back(info_of(entry.second));
  }
  return out;
}

std::size_t subscription_tree::size() const noexcept { return impl_->subscriptions; }

std::size_t subscription_tree::count(std::string_view client_id) const noexcept {
  const client_record* rec = impl_->record(client_id);
  return rec == nullptr ? 0 : rec->subscriptions.size();
}

std::size_t subscription_tree::client_count() const noexcept { return impl_->clients.size(); }
std::size_t subscription_tree::shared_subscription_count() const noexcept { return impl_->shared_groups; }
std::size_t subscription_tree::node_count() const noexcept { return impl_->filters.node_count(); }

}  // namespace mqttspec::broker
