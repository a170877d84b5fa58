#pragma once
// Durable state as the broker core sees it: the storage effects it emits when a Session that
// outlives its connection, or a retained message, changes (config::storage_effects), and the
// snapshot a shell gives back to broker::restore after a restart. The core does no I/O: a shell
// writes the effects (mqttspec_broker_store: SQLite) before it carries out the actions queued
// with them, so a PUBACK or PUBREC never leaves before the message it acknowledges is stored.
//
// What is durable: Sessions whose Session Expiry Interval is not 0 (3.1.1: Clean Session 0),
// with their subscriptions, their queued and in-flight QoS 1/2 messages (packet identifiers and
// stage), the QoS 2 packet identifiers they sent PUBREC for, their Will (with its delay), and
// every retained message. QoS 0 messages and connections are not. Times are the core's
// milliseconds; a shell that persists runs the core on a wall clock so that they stay meaningful
// across restarts (Session and Message Expiry then count the downtime).
#include "mqttspec/broker/message.hpp"
#include "mqttspec/broker/session_state.hpp"
#include "mqttspec/codec/packet.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace mqttspec::broker::storage {

// A Session's own fields (its subscriptions, messages and QoS 2 identifiers are records of their own).
struct session_record {
  std::string client_id;
  codec::protocol_version version = codec::protocol_version::v5;
  std::uint32_t expiry_interval = 0;        // seconds; 0xFFFFFFFF never expires
  bool connected = false;                   // a connection was attached when this was written
  std::optional<std::uint64_t> expires_at;  // ms, while disconnected
  std::optional<message> will;              // of the attached connection, or pending (will_due set)
  std::uint32_t will_delay = 0;             // seconds
  std::optional<std::uint64_t> will_due;    // ms: a pending Will goes out then
};

struct subscription_record {
  std::string client_id;
  std::string filter;  // as subscribed, "$share/..." included
  codec::subscription_options options;
  std::optional<std::uint32_t> identifier;
};

// A QoS 1/2 message for one Session: queued (no stage) or in flight with its packet identifier.
struct message_record {
  std::string client_id;
  outgoing item;  // item.seq orders a Session's messages (§4.6)
  std::optional<inflight::stage> stage;
  std::uint16_t packet_id = 0;
};

// A QoS 2 packet identifier the Session's client published with: PUBREC sent, PUBREL awaited.
struct inbound_record {
  std::string client_id;
  std::uint16_t packet_id = 0;
};

struct retained_record {
  message msg;  // its topic is the key
  std::uint64_t stored_at = 0;
};

// The effects, each idempotent. Deleting a Session deletes its subscriptions, messages and QoS 2
// identifiers too.
struct put_session { session_record session; };
struct delete_session { std::string client_id; };
struct put_subscription { subscription_record subscription; };
struct delete_subscription { std::string client_id; std::string filter; };
struct put_message { message_record message; };
// A queued message went in flight, or an in-flight one moved on (PUBREC -> PUBCOMP awaited).
struct update_message {
  std::string client_id;
  std::uint64_t seq = 0;
  std::uint16_t packet_id = 0;
  inflight::stage stage = inflight::stage::awaiting_puback;
};
struct delete_message { std::string client_id; std::uint64_t seq = 0; };
struct put_inbound { inbound_record inbound; };
struct delete_inbound { std::string client_id; std::uint16_t packet_id = 0; };
struct put_retained { retained_record retained; };
struct delete_retained { std::string topic; };

using effect = std::variant<put_session, delete_session, put_subscription, delete_subscription, put_message,
                            update_message, delete_message, put_inbound, delete_inbound, put_retained, delete_retained>;

// Everything stored, as read back at startup. Messages are in (client_id, seq) order.
struct snapshot {
  std::vector<session_record> sessions;
  std::vector<subscription_record> subscriptions;
  std::vector<message_record> messages;
  std::vector<inbound_record> inbound;
  std::vector<retained_record> retained;
  // The last time the broker that wrote the file was known to be running (ms): the Sessions that
  // still had a connection then count as disconnected from that moment.
  std::optional<std::uint64_t> last_alive;
};

// What broker::restore did, for the startup log.
struct restore_report {
  std::size_t sessions = 0;                 // restored
  std::size_t messages = 0;                 // queued or in flight, restored
  std::size_t retained = 0;                 // restored
  std::size_t expired_sessions = 0;         // ended at restore: their expiry passed while the broker was down
  std::size_t expired_messages = 0;         // queued or retained messages whose Message Expiry passed
  std::size_t wills_published = 0;          // Wills whose delay ended (or had none) while the broker was down
  std::size_t orphans = 0;                  // records of a Session the snapshot does not hold, ignored
};

// Where a shell keeps them (mqttspec_broker_store's SQLite file, or a test's fake). Errors are
// messages for the operator, naming the file and what is wrong with it.
class backend {
 public:
  virtual ~backend() = default;
  // What was stored, read once at startup; an error for a damaged or foreign file.
  virtual std::optional<std::string> load(snapshot& out) = 0;
  // Writes the effects in one transaction, durable as the backend promises, before it returns;
  // also records `now` as snapshot::last_alive.
  virtual std::optional<std::string> write(std::span<const effect> effects, std::uint64_t now) = 0;
  // About once a second: records `now` as snapshot::last_alive, and flushes what is not on disk yet.
  virtual std::optional<std::string> tick(std::uint64_t now) = 0;
  virtual std::string describe() const = 0;  // for the startup log
};

}  // namespace mqttspec::broker::storage
