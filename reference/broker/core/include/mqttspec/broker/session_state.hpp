#pragma once
// One MQTT Session as the server keeps it (§4.1): what outlives a network connection.
#include "mqttspec/broker/in_flight.hpp"
#include "mqttspec/broker/message.hpp"
#include "mqttspec/codec/packet.hpp"

#include <cstdint>
#include <deque>
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

struct session_state {
  std::string client_id;
  codec::protocol_version version = codec::protocol_version::v5;
  std::optional<std::uint64_t> connection;  // the connection attached now, if any
  std::uint32_t expiry_interval = 0;        // seconds; 0xFFFFFFFF never expires
  std::optional<std::uint64_t> expires_at;  // ms, while disconnected
  std::uint16_t client_receive_maximum = 65535;  // send quota towards the client (§4.9)

  in_flight_list in_flight;                 // in the order first sent (§4.6)
  std::deque<outgoing> queue;               // not yet sent
  std::size_t queued_bytes = 0;             // message_bytes of everything in `queue`
  std::set<std::uint16_t> inbound_qos2;     // PUBREC sent, PUBREL awaited (§4.3.3)
  std::uint16_t last_packet_id = 0;
  std::optional<std::uint64_t> resume_at;   // ms: sending is held back until then (config::resend_delay)

  std::optional<message> will;              // of the attached connection
  std::uint32_t will_delay = 0;             // seconds
  std::optional<pending_will> will_pending; // connection gone, delay running

  std::uint64_t next_seq = 1;               // outgoing::seq of the next message queued
  bool stored = false;                      // its storage effects are being emitted (config::storage_effects)
};

}  // namespace mqttspec::broker
