#pragma once
// Retained messages (§3.3.1.3), one per Topic Name, in a trie keyed by name level so that a
// subscription's filter finds its retained messages without a scan of every topic.
#include "mqttspec/broker/message.hpp"
#include "mqttspec/codec/packet.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace mqttspec::broker {

struct retained_message {
  broker::message message;
  std::uint64_t stored_at_ms = 0;  // when it was stored, on the caller's clock; for Message Expiry

  bool expired(std::uint64_t now_ms) const noexcept { return is_expired(message.publish, stored_at_ms, now_ms); }
};

enum class retain_result : std::uint8_t {
  stored,    // the topic had no retained message
  replaced,  // the topic's retained message was replaced
  erased,    // empty payload: the topic's retained message was removed
  unchanged, // empty payload and the topic had no retained message
};

class retained_store {
 public:
  retained_store();
  ~retained_store();
  retained_store(retained_store&&) noexcept;
  retained_store& operator=(retained_store&&) noexcept;
  retained_store(const retained_store&) = delete;
  retained_store& operator=(const retained_store&) = delete;

  // For a PUBLISH with RETAIN=1 (the caller checks the flag: a RETAIN=0 message must leave the
  // store alone, v5:MQTT-3.3.1-8, v3.1.1:MQTT-3.3.1-12). A non-empty payload replaces the topic's
  // retained message (v5:MQTT-3.3.1-5, v3.1.1:MQTT-3.3.1-5, v3.1.1:MQTT-3.3.1-7); an empty one
  // removes it and is never stored (v5:MQTT-3.3.1-6, v5:MQTT-3.3.1-7, v3.1.1:MQTT-3.3.1-10,
  // v3.1.1:MQTT-3.3.1-11). The first overload deep-copies `p` (make_message); the second takes
  // an already owned message. `now_ms` is kept as stored_at_ms.
  retain_result set(const codec::publish& p, std::uint64_t now_ms);
  retain_result set(message m, std::uint64_t now_ms);

  // Removes the topic's retained message; false if it had none.
  bool erase(std::string_view topic);

  // The retained message of exactly this topic, or nullptr.
  const retained_message* find(std::string_view topic) const noexcept;

  // Fills `out` (cleared first) with every retained message whose topic matches `filter`, the
  // same matching as topic_matches (§4.7, the '$' rule included: v5:MQTT-4.7.2-1,
  // v3.1.1:MQTT-4.7.2-1). `filter` is an ordinary filter: for a shared subscription the caller
  // decides, and passes the part after "$share/<ShareName>/" if anything. Expired messages are
  // included; check retained_message::expired or call erase_expired first. Order is unspecified
  // but deterministic. Pointers stay valid until the next set, erase or erase_expired.
  void match(std::string_view filter, std::vector<const retained_message*>& out) const;
  std::vector<const retained_message*> match(std::string_view filter) const;

  // Every retained message (e.g. to persist them), in unspecified but deterministic order.
  std::vector<const retained_message*> all() const;

  // Removes every message whose Message Expiry Interval has passed (v5:MQTT-3.3.2-5); returns how many.
  std::size_t erase_expired(std::uint64_t now_ms);

  std::size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  std::size_t node_count() const noexcept;  // trie nodes, for tests

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mqttspec::broker
