#pragma once
// An Application Message the broker keeps beyond the life of the frame it arrived in (retained
// messages, queued deliveries, wills).
#include "mqttspec/codec/packet.hpp"
#include "mqttspec/codec/types.hpp"

#include <cstdint>
#include <memory>
#include <optional>

namespace mqttspec::broker {

// `publish`'s views (topic, payload and every string or binary property, user properties
// included) point into `storage`, so a message is self-contained: copies share the bytes, and the
// views stay valid for as long as any copy lives.
struct message {
  std::shared_ptr<const codec::bytes> storage;
  codec::publish publish;
};

// Deep-copies `p` into a message: every view of `p` is copied into one new buffer (sized exactly,
// in one allocation) and the returned publish points into it. Non-view fields (flags, QoS, packet
// id, numeric properties, Subscription Identifiers) are copied as they are; nothing is
// normalized or dropped, so the caller decides what to strip before forwarding (e.g. the Topic
// Alias, which belongs to one connection: v5:MQTT-3.3.2-7).
message make_message(const codec::publish& p);

// Message Expiry (§3.3.2.3.3). Time is an input: `received_ms` is when the broker received the
// message and `now_ms` the caller's current time, both in milliseconds on the same clock.
//
// True when the message has a Message Expiry Interval and at least that many seconds have passed
// since it was received (v5:MQTT-3.3.2-5). A message without the property never expires.
bool is_expired(const codec::publish& p, std::uint64_t received_ms, std::uint64_t now_ms) noexcept;

// The Message Expiry Interval to put in a PUBLISH sent now: the received value minus the whole
// seconds the message has waited (v5:MQTT-3.3.2-6); never 0 unless expired; nullopt when the
// message has no Message Expiry Interval. A clock that went backwards counts as no wait.
std::optional<std::uint32_t> remaining_expiry_interval(const codec::publish& p, std::uint64_t received_ms,
                                                       std::uint64_t now_ms) noexcept;

}  // namespace mqttspec::broker
