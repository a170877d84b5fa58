#pragma once
// One end of an open WebSocket connection carrying MQTT, sans-I/O: bytes from the peer in; MQTT
// bytes, bytes to send and the end of the connection out. It answers pings, echoes a close, and
// fails the connection (close frame, then `closed`) on a protocol error or on a text frame, since
// MQTT travels only in binary frames (MQTT-6.0.0-1). MQTT packets and frames need not line up
// (MQTT-6.0.0-2): `data` is a plain byte stream for the MQTT framer.
#include "mqttspec/transport/websocket/frame.hpp"

#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace mqttspec::transport::websocket {

struct endpoint_options {
  role self = role::server;
  decoder_limits limits;
  // Masking keys for the frames a client sends (5.3 wants them unpredictable); the caller brings
  // the randomness so that this class stays deterministic. Unused by a server.
  std::function<std::uint32_t()> mask_key;
};

// Payload bytes of binary messages, in order (consecutive frames of one receive() joined).
struct data {
  codec::bytes bytes;
};
// Bytes to send to the peer (a pong, a close frame), in order with the caller's own frames.
struct transmit {
  codec::bytes bytes;
};
// The connection is over: after sending what came before, close the transport. `error` is empty
// when the peer closed it normally (its close frame was answered).
struct closed {
  std::uint16_t code = 1005;  // the peer's status code, or ours when we failed the connection
  std::string reason;
  std::error_code error;
  std::string describe() const;
};
using event = std::variant<data, transmit, closed>;

class endpoint {
 public:
  explicit endpoint(endpoint_options o);

  // Frames from the peer. After `closed` nothing more comes out of it.
  std::vector<event> receive(codec::bytes_view bytes);

  // One binary frame holding `payload` (an MQTT packet, several, or a part of one).
  codec::bytes wrap(codec::bytes_view payload) { return frame(opcode::binary, payload, true); }
  // Any frame, masked as this role requires; `op` is raw so that a tester can send what a peer
  // must refuse (text, reserved opcodes).
  codec::bytes frame(std::uint8_t op, codec::bytes_view payload, bool fin);
  codec::bytes frame(opcode op, codec::bytes_view payload, bool fin) { return frame(static_cast<std::uint8_t>(op), payload, fin); }
  // Our close frame (once; later calls return nothing). After it, sending data is a protocol error.
  codec::bytes close(std::uint16_t code, std::string_view reason = {});

  bool close_sent() const noexcept { return close_sent_; }
  bool is_closed() const noexcept { return done_; }

 private:
  void fail(std::error_code e, std::vector<event>& out);
  void on_control(const frame_part& p, std::vector<event>& out);

  endpoint_options o_;
  frame_decoder decoder_;
  bool close_sent_ = false;
  bool done_ = false;
};

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF).
bool is_utf8(std::string_view s) noexcept;

}  // namespace mqttspec::transport::websocket
