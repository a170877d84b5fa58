#pragma once
// A storage::backend in memory: applies storage effects to tables like the SQLite store's, and
// gives them back as a snapshot. The model the core's persistence tests restore from.
#include "mqttspec/broker/storage.hpp"

#include <map>
#include <set>
#include <string>
#include <utility>

namespace mqttspec::broker::testing {

class memory_store final : public storage::backend {
 public:
  std::optional<std::string> load(storage::snapshot& out) override {
    out = snapshot();
    return std::nullopt;
  }
  std::optional<std::string> write(std::span<const storage::effect> effects, std::uint64_t now) override {
    for (const auto& e : effects) apply(e);
    last_alive = now;
    ++writes;
    return std::nullopt;
  }
  std::optional<std::string> tick(std::uint64_t now) override {
    last_alive = now;
    return std::nullopt;
  }
  std::string describe() const override { return "memory"; }

  void apply(const storage::effect& e) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, storage::put_session>) {
            sessions[x.session.client_id] = x.session;
          } else if constexpr (std::is_same_v<T, storage::delete_session>) {
            sessions.erase(x.client_id);
            std::erase_if(subscriptions, [&](const auto& kv) { return kv.first.first == x.client_id; });
            std::erase_if(messages, [&](const auto& kv) { return kv.first.first == x.client_id; });
            std::erase_if(inbound, [&](const auto& k) { return k.first == x.client_id; });
          } else if constexpr (std::is_same_v<T, storage::put_subscription>) {
            subscriptions[{x.subscription.client_id, x.subscription.filter}] = x.subscription;
          } else if constexpr (std::is_same_v<T, storage::delete_subscription>) {
            subscriptions.erase({x.client_id, x.filter});
          } else if constexpr (std::is_same_v<T, storage::put_message>) {
            messages[{x.message.client_id, x.message.item.seq}] = x.message;
          } else if constexpr (std::is_same_v<T, storage::update_message>) {
            auto it = messages.find({x.client_id, x.seq});
            if (it != messages.end()) {
              it->second.stage = x.stage;
              it->second.packet_id = x.packet_id;
            }
          } else if constexpr (std::is_same_v<T, storage::delete_message>) {
            messages.erase({x.client_id, x.seq});
          } else if constexpr (std::is_same_v<T, storage::put_inbound>) {
            inbound.insert({x.inbound.client_id, x.inbound.packet_id});
          } else if constexpr (std::is_same_v<T, storage::delete_inbound>) {
            inbound.erase({x.client_id, x.packet_id});
          } else if constexpr (std::is_same_v<T, storage::put_retained>) {
            retained[std::string(x.retained.msg.publish.topic)] = x.retained;
          } else {
            retained.erase(x.topic);
          }
        },
        e);
  }

  storage::snapshot snapshot() const {
    storage::snapshot s;
    for (const auto& [k, v] : sessions) s.sessions.push_back(v);
    for (const auto& [k, v] : subscriptions) s.subscriptions.push_back(v);
    for (const auto& [k, v] : messages) s.messages.push_back(v);
    for (const auto& [id, pid] : inbound) s.inbound.push_back({id, pid});
    for (const auto& [k, v] : retained) s.retained.push_back(v);
    s.last_alive = last_alive;
    return s;
  }

  std::map<std::string, storage::session_record> sessions;
  std::map<std::pair<std::string, std::string>, storage::subscription_record> subscriptions;
  std::map<std::pair<std::string, std::uint64_t>, storage::message_record> messages;
  std::set<std::pair<std::string, std::uint16_t>> inbound;
  std::map<std::string, storage::retained_record> retained;
  std::optional<std::uint64_t> last_alive;
  std::size_t writes = 0;
};

}  // namespace mqttspec::broker::testing
