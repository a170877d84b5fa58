#pragma once
// The server side of one network connection, without I/O (§3, §4.13): bytes in, events out.
// It owns the per-connection rules: framing and the Maximum Packet Size, CONNECT first and only
// once, the version of the connection, Keep Alive (×1.5), inbound Topic Aliases, and closing with
// the right CONNACK / DISCONNECT reason code on bad input. Everything that outlives a connection
// (QoS flows, subscriptions, queues, wills) belongs to the broker core, which consumes the
// `deliver` events and answers through send().
#include "mqttspec/codec/codec.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mqttspec::session {

using millis = std::uint64_t;  // time is an input: milliseconds on the caller's monotonic clock

struct server_limits {
  std::size_t maximum_packet_size = codec::max_packet_size;  // inbound, announced in CONNACK (5.0)
  std::uint16_t topic_alias_maximum = 10;                    // inbound aliases the server accepts (5.0)
  millis connect_timeout = 10'000;                           // a connection must CONNECT within this
};

// Behaviours the spec leaves to the server; the defaults are the reference behaviour.
struct server_options {
  // 5.0: a Malformed Packet or Protocol Error is answered with the more specific reason code the
  // spec allows for its cause, where there is one and the CONNACK / DISCONNECT may carry it
  // (§4.13.1, see specific_reason), instead of 0x81 / 0x82.
  bool specific_reason_codes = false;
};

// The machine's own rules whose breach by the peer closes the connection. A packet the codec
// rejects is named by its codec::errc instead.
enum class rule : std::uint8_t {
  first_packet_not_connect,   // v5:MQTT-3.1.0-1, v3.1.1:MQTT-3.1.0-1
  second_connect,             // v5:MQTT-3.1.0-2, v3.1.1:MQTT-3.1.0-2
  packet_before_connack,      // mid-authentication, other than AUTH or DISCONNECT: v5:MQTT-3.1.2-30
  topic_alias_above_maximum,  // v5:MQTT-3.3.2-9
  unknown_topic_alias,        // an alias alone, not set on this connection (§3.3.2.3.4)
  keep_alive_timeout,         // v5:MQTT-3.1.2-22, v3.1.1:MQTT-3.1.2-24
  connect_timeout,            // no CONNECT, or an authentication not finished, within the CONNECT timeout
};
// Why the machine closed, as a type: the codec's error for a packet it rejected, one of the
// machine's rules, or monostate when the close was not the machine's decision (the broker sent a
// refusing CONNACK or a DISCONNECT, the peer disconnected).
using close_cause = std::variant<std::monostate, codec::errc, rule>;

// The 5.0 reason code more specific than Malformed Packet / Protocol Error that a cause has
// (§4.13.1: "or a more specific Reason Code"), if any: 0x90 Topic Name invalid, 0x8F Topic Filter
// invalid, 0x94 Topic Alias invalid. Sent only under server_options::specific_reason_codes.
std::optional<codec::reason_code> specific_reason(const close_cause& cause) noexcept;

// Send these bytes to the peer.
struct transmit {
  codec::bytes data;
};
// A valid packet for the broker core. PUBLISH topic aliases are already resolved (a Topic Alias
// property may remain, the topic is always set); views point into `packet.storage`.
struct deliver {
  codec::owned_packet packet;
};
// Close the connection (after any transmit before it). `reason` is the code sent in the CONNACK /
// DISCONNECT that precedes the close, if one was sent.
struct close {
  std::optional<codec::reason_code> reason;
  std::string statement;  // the statement that required the close, if it was a violation
  std::string why;
  bool by_peer = false;   // the client sent DISCONNECT or the transport closed
  close_cause cause{};    // what broke, as a type (see close_cause)
};
using event = std::variant<transmit, deliver, close>;

enum class state : std::uint8_t { awaiting_connect, connected, closed };

class server_session {
 public:
  explicit server_session(server_limits limits, millis now, server_options options = {});

  // Feeds bytes. Stops after delivering a CONNECT, so that the broker's CONNACK goes out before
  // anything pipelined behind it: call receive({}, now) again once it is sent.
  std::vector<event> receive(codec::bytes_view data, millis now);
  // Sends a packet in the connection's version. A PUBLISH larger than the client's Maximum Packet
  // Size is dropped (v5:MQTT-3.1.2-25) and false is returned; other packets lose their Reason
  // String and User Properties first if that makes them fit (e.g. v5:MQTT-3.2.2-19/-20).
  // A failure CONNACK or a DISCONNECT closes the connection afterwards.
  bool send(const codec::packet& p, millis now, std::vector<event>& out);
  std::vector<event> send(const codec::packet& p, millis now);
  // When to call on_timer next (Keep Alive or CONNECT timeout); nullopt if nothing is due.
  std::optional<millis> deadline() const noexcept;
  std::vector<event> on_timer(millis now);
  // The transport closed under us; returns the close event (once).
  std::vector<event> transport_closed(millis now);

  state current_state() const noexcept { return state_; }
  codec::protocol_version version() const noexcept { return version_; }
  bool connack_sent() const noexcept { return connack_sent_; }
  // Enhanced authentication (5.0 §4.12): after CONNECT, the broker sent an AUTH and awaits the
  // client's answer before its CONNACK; the next frame is read (only AUTH or DISCONNECT may come),
  // then the machine pauses again. The CONNECT timeout keeps running until the CONNACK.
  void expect_auth() noexcept { auth_expected_ = true; }
  // Waiting for the broker's CONNACK (or next AUTH) with input left unread.
  bool paused() const noexcept { return state_ == state::connected && !connack_sent_ && !auth_expected_; }
  // From the CONNECT: Keep Alive in force (the broker may override it with Server Keep Alive).
  void set_keep_alive(std::uint16_t seconds, millis now);
  std::uint16_t keep_alive() const noexcept { return keep_alive_; }
  // The client's limits from its CONNECT (5.0), applied to what we send.
  std::uint32_t client_maximum_packet_size() const noexcept { return client_max_packet_; }

 private:
  void handle_frame(const codec::frame& f, millis now, std::vector<event>& out);
  void handle_connect(const codec::frame& f, millis now, std::vector<event>& out);
  bool resolve_topic_alias(codec::publish& p, std::vector<event>& out);
  void fail(const codec::decode_error& e, std::vector<event>& out);
  void protocol_close(codec::reason_code reason, rule cause, std::string statement, std::string why,
                      std::vector<event>& out);
  // The reason code to send in a packet of type `t` for `cause`: `usual`, or the specific one.
  codec::reason_code close_reason(codec::reason_code usual, const close_cause& cause, codec::packet_type t) const noexcept;
  void finish(close c, std::vector<event>& out);

  server_limits limits_;
  server_options options_;
  codec::framer framer_;
  state state_ = state::awaiting_connect;
  codec::protocol_version version_ = codec::protocol_version::v5;
  bool version_known_ = false;  // a CONNECT named its protocol level
  bool connack_sent_ = false;
  bool auth_expected_ = false;
  millis accepted_at_;
  millis last_received_;
  std::uint16_t keep_alive_ = 0;
  std::uint32_t client_max_packet_ = codec::max_packet_size;
  std::map<std::uint16_t, std::string> inbound_aliases_;  // alias -> topic, this connection only
  std::uint16_t client_alias_maximum_ = 0;                 // from CONNECT: aliases we may use
  std::map<std::string, std::uint16_t, std::less<>> outbound_aliases_;  // topic -> alias we set
};

}  // namespace mqttspec::session
