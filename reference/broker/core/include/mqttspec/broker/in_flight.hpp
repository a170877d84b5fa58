#pragma once
// What a Session sends: a message waiting to go out, and the outbound QoS 1/2 messages in flight
// with what the send loop asks of them, each in O(1) so that a large Receive Maximum stays cheap.
#include "mqttspec/broker/message.hpp"
#include "mqttspec/codec/packet.hpp"

#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

namespace mqttspec::broker {

// A message waiting to be sent to one Session.
struct outgoing {
  message msg;
  codec::qos qos_level = codec::qos::at_most_once;
  bool retain = false;
  std::vector<std::uint32_t> subscription_ids;
  std::uint64_t received_at = 0;  // ms, for Message Expiry
  std::uint64_t seq = 0;          // the Session's count of messages queued, names it in storage effects
};

// An outbound QoS 1/2 message the client has not fully acknowledged.
struct inflight {
  enum class stage : std::uint8_t { awaiting_puback, awaiting_pubrec, awaiting_pubcomp };
  std::uint16_t packet_id = 0;
  stage at = stage::awaiting_puback;
  bool transmitted = true;  // false after a reconnect until resent within the Receive Maximum
  outgoing item;
};

// A Session's messages in flight in the order first sent (§4.6), indexed by packet identifier
// (unique among them: v5:MQTT-2.2.1-4, v3.1.1:MQTT-2.3.1-4). It counts the entries transmitted on
// the current connection (the send quota's use) and keeps its place in the resends after a
// reconnection, rather than scanning for either. `transmitted` changes only through it.
class in_flight_list {
  using entries = std::list<inflight>;  // stable iterators for the index

 public:
  in_flight_list() = default;
  // The index and the resend position point into the list: not copied or moved.
  in_flight_list(const in_flight_list&) = delete;
  in_flight_list& operator=(const in_flight_list&) = delete;

  entries::const_iterator begin() const noexcept { return entries_.begin(); }
  entries::const_iterator end() const noexcept { return entries_.end(); }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }

  bool in_use(std::uint16_t packet_id) const { return index_.contains(packet_id); }
  inflight* find(std::uint16_t packet_id);
  // Transmitted on the current connection and not yet acknowledged: what counts against the
  // client's Receive Maximum (§4.9).
  std::size_t transmitted() const noexcept { return transmitted_; }
  // The first entry, in order, not transmitted since the reconnection; nullptr when none is left.
  inflight* next_to_resend() noexcept { return resend_ == entries_.end() ? nullptr : &*resend_; }

  // Appends `f` unless its identifier is in use already (then false, and nothing changes).
  bool push_back(inflight f);
  void erase(std::uint16_t packet_id);
  void mark_transmitted(inflight& f);
  // A new connection: everything is to be resent, in order (v5:MQTT-4.4.0-1).
  void mark_all_untransmitted() noexcept;

 private:
  void skip_transmitted() noexcept;

  entries entries_;
  std::unordered_map<std::uint16_t, entries::iterator> index_;
  std::size_t transmitted_ = 0;
  entries::iterator resend_ = entries_.end();  // the first entry not transmitted
};

}  // namespace mqttspec::broker
