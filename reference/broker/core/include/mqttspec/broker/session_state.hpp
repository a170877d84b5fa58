#pragma once
// One MQTT Session as the server keeps it (§4.1): what outlives a network connection.
#include "mqttspec/broker/in_flight.hpp"
#include "mqttspec/broker/message.hpp"
#include "mqttspec/codec/packet.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mqttspec::broker {

struct pending_will {
  message msg;
  std::uint64_t due = 0;  // ms: when the Will Delay Interval ends
};

// What a message weighs against the byte limits: every byte it holds (topic, payload, properties).
inline std::size_t message_bytes(const message& m) noexcept { return m.storage ? m.storage->size() : 0; }

// A deque that allocates at its first element: an empty libstdc++ std::deque already holds ~600
// bytes, which every idle Session would keep. Only what the core uses of a deque.
template <class T>
class lazy_deque {
 public:
  using iterator = typename std::deque<T>::iterator;
  using const_iterator = typename std::deque<T>::const_iterator;

  bool empty() const noexcept { return !d_ || d_->empty(); }
  std::size_t size() const noexcept { return d_ ? d_->size() : 0; }
  iterator begin() noexcept { return d_ ? d_->begin() : iterator(); }
  iterator end() noexcept { return d_ ? d_->end() : iterator(); }
  const_iterator begin() const noexcept { return d_ ? d_->cbegin() : const_iterator(); }
  const_iterator end() const noexcept { return d_ ? d_->cend() : const_iterator(); }
  T& front() { return d_->front(); }
  void push_back(T v) {
    if (!d_) d_ = std::make_unique<std::deque<T>>();
    d_->push_back(std::move(v));
  }
  void pop_front() { d_->pop_front(); }
  iterator erase(iterator it) { return d_->erase(it); }

 private:
  std::unique_ptr<std::deque<T>> d_;
};

struct session_state {
  std::string client_id;
  codec::protocol_version version = codec::protocol_version::v5;
  std::optional<std::uint64_t> connection;  // the connection attached now, if any
  std::uint32_t expiry_interval = 0;        // seconds; 0xFFFFFFFF never expires
  std::optional<std::uint64_t> expires_at;  // ms, while disconnected
  std::uint16_t client_receive_maximum = 65535;  // send quota towards the client (§4.9)

  in_flight_list in_flight;                 // in the order first sent (§4.6)
  lazy_deque<outgoing> queue;               // not yet sent
  std::size_t queued_bytes = 0;             // message_bytes of everything in `queue`
  std::set<std::uint16_t> inbound_qos2;     // PUBREC sent, PUBREL awaited (§4.3.3)
  std::uint16_t last_packet_id = 0;
  std::optional<std::uint64_t> resume_at;   // ms: sending is held back until then (config::resend_delay)

  // On the heap: inline these two took ~950 bytes of every Session, most of which have no Will.
  std::unique_ptr<message> will;              // of the attached connection
  std::uint32_t will_delay = 0;               // seconds
  std::unique_ptr<pending_will> will_pending; // connection gone, delay running

  std::uint64_t next_seq = 1;               // outgoing::seq of the next message queued
  bool stored = false;                      // its storage effects are being emitted (config::storage_effects)
};

}  // namespace mqttspec::broker
