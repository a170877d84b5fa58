#pragma once
// Every Session's subscriptions, in a trie keyed by Topic Filter level, and the answer to "who
// gets this PUBLISH?" (§3.3.4 overlapping subscriptions, §4.7 matching, §4.8.2 shared
// subscriptions).
//
// Sessions are named by their Client Identifier. Filters are stored as given; they must have
// passed codec::check_topic_filter for the client's protocol version, and topic names given to
// match() codec::check_topic_name. Deterministic: the same calls in the same order give the same
// deliveries in the same order.
#include "mqttspec/codec/packet.hpp"
#include "mqttspec/codec/types.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace mqttspec::broker {

enum class subscribe_result : std::uint8_t {
  added,     // the Session had no subscription with this filter
  replaced,  // it had one, now replaced (v5:MQTT-3.8.4-3, v3.1.1:MQTT-3.8.4-3); for Retain Handling 1
};

// One subscription of one Session, as stored.
struct subscription_info {
  std::string_view filter;  // exactly as subscribed, "$share/<ShareName>/" prefix included
  codec::subscription_options options;
  std::optional<std::uint32_t> identifier;  // Subscription Identifier (5.0)
  bool shared = false;
};

// One PUBLISH to send: to one Session, for one or more of its subscriptions.
//
// A non-shared delivery merges all of the Session's matching non-shared subscriptions (one copy
// per Session, which §3.3.4 allows):
//  - max_qos is the highest granted QoS among them (v5:MQTT-3.3.4-2, v3.1.1:MQTT-3.3.5-1); the
//    router sends min(message QoS, max_qos) (v5:MQTT-3.8.4-8, v3.1.1:MQTT-3.8.4-6);
//  - subscription_ids holds the Subscription Identifiers of all of them that have one, ascending,
//    each once (v5:MQTT-3.3.4-3, v5:MQTT-3.3.4-4);
//  - No Local is applied per subscription, before merging: a subscription with No Local set does
//    not match messages published by its own Client (v5:MQTT-3.8.3-3), so it contributes neither
//    QoS nor identifier, and the Session gets a delivery only if another subscription matches;
//  - retain_as_published is set if any of them has Retain As Published: that subscriber asked to
//    see the publisher's RETAIN flag (v5:MQTT-3.3.1-13), and a single copy cannot carry two flags.
//    (The stricter alternative, one copy per subscription as v5:MQTT-3.3.4-5 permits, is left to
//    the router if it is ever wanted.)
// A shared delivery is for one shared subscription ("$share/<ShareName>/<filter>"): the message
// goes to exactly one of its members, chosen round-robin (§4.8.2), with that member's options
// and identifier (v5:MQTT-4.8.2-3). It is never merged with the Session's other deliveries, so a
// Session may receive a message once for its own subscriptions and once more for a shared one.
struct delivery {
  std::string_view client_id;
  codec::qos max_qos = codec::qos::at_most_once;
  bool retain_as_published = false;
  bool shared = false;
  std::string_view shared_filter;  // the full "$share/..." filter of a shared delivery, else empty
  std::vector<std::uint32_t> subscription_ids;
};

class subscription_tree {
 public:
  subscription_tree();
  ~subscription_tree();
  subscription_tree(subscription_tree&&) noexcept;
  subscription_tree& operator=(subscription_tree&&) noexcept;
  subscription_tree(const subscription_tree&) = delete;
  subscription_tree& operator=(const subscription_tree&) = delete;

  // Adds, or replaces when this Session already has exactly this filter, a subscription.
  // Replacing keeps a shared member's place in its round-robin. For 5.0 a filter that
  // codec::parse_shared recognizes is a shared subscription; for 3.1.1 and 3.1, which have no
  // shared subscriptions, "$share/..." is an ordinary filter. No Local on a shared subscription
  // is a Protocol Error the session rejects (v5:MQTT-3.8.3-4); if present here it is ignored.
  subscribe_result subscribe(std::string_view client_id, std::string_view filter,
                             const codec::subscription_options& options,
                             std::optional<std::uint32_t> subscription_id = std::nullopt,
                             codec::protocol_version version = codec::protocol_version::v5);

  // Removes the Session's subscription whose filter equals `filter` character for character,
  // wildcards taken literally (v5:MQTT-3.10.4-1, v3.1.1:MQTT-3.10.4-1). False if it had none.
  bool unsubscribe(std::string_view client_id, std::string_view filter);

  // Removes every subscription of the Session (e.g. when it ends); returns how many.
  std::size_t remove_all(std::string_view client_id);

  // Fills `out` (cleared first) with the deliveries for a message published to `topic`:
  // non-shared deliveries one per Session, shared deliveries one per matching shared
  // subscription. `publisher` is the publishing Client's identifier, for No Local; nullopt when
  // the message has no publishing Client. Advances the round-robin of each matching shared
  // subscription, hence not const; the round-robin skips members that `available` says cannot
  // take a message now (e.g. offline), unless no member can. The client_id and shared_filter
  // views in `out` stay valid until the next subscribe, unsubscribe or remove_all.
  using availability = std::function<bool(std::string_view client_id)>;
  void match(std::string_view topic, std::optional<std::string_view> publisher, std::vector<delivery>& out,
             const availability& available = {});
  std::vector<delivery> match(std::string_view topic, std::optional<std::string_view> publisher = std::nullopt,
                              const availability& available = {});

  std::optional<subscription_info> find(std::string_view client_id, std::string_view filter) const;
  // A Session's subscriptions in filter order (bytewise), e.g. to persist the Session. The views
  // stay valid until the next subscribe, unsubscribe or remove_all.
  std::vector<subscription_info> subscriptions_of(std::string_view client_id) const;

  std::size_t size() const noexcept;                               // subscriptions, all Sessions
  bool empty() const noexcept { return size() == 0; }
  std::size_t count(std::string_view client_id) const noexcept;  // subscriptions of one Session
  std::size_t client_count() const noexcept;                       // Sessions with a subscription
  std::size_t shared_subscription_count() const noexcept;          // distinct (ShareName, filter) pairs
  std::size_t node_count() const noexcept;                         // trie nodes, for tests

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mqttspec::broker
