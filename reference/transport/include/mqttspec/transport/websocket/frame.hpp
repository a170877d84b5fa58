#pragma once
// WebSocket frames (RFC 6455 section 5), sans-I/O: an encoder that returns the bytes of one frame,
// and an incremental decoder (bytes in, frame payload parts out). The decoder streams data frame
// payloads as they arrive, so a large frame is never buffered whole; control frames (at most 125
// bytes) come out in one piece. Every rule of section 5 it can check is an error value, never an
// assertion or an exception: the input is the peer's and may be hostile.
#include "mqttspec/codec/result.hpp"
#include "mqttspec/codec/types.hpp"
#include "mqttspec/transport/websocket/errc.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace mqttspec::transport::websocket {

enum class opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

constexpr bool is_control(opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

// Which end this is: clients mask every frame they send, servers never mask (5.1).
enum class role { client, server };

// The bytes of one frame. `mask` set: the payload is masked with it (clients must). `op` is a raw
// 4-bit value so that tests and the conformance runner can also build frames a peer must refuse.
codec::bytes encode_frame(std::uint8_t op, codec::bytes_view payload, bool fin, std::optional<std::uint32_t> mask);
inline codec::bytes encode_frame(opcode op, codec::bytes_view payload, bool fin, std::optional<std::uint32_t> mask) {
  return encode_frame(static_cast<std::uint8_t>(op), payload, fin, mask);
}

// A piece of a frame's payload, unmasked. A data frame may come as several parts (first .. last);
// a control frame always as one.
struct frame_part {
  opcode op{};            // control frames: their own; data frames: the message's (text or binary)
  bool frame_fin = false; // the FIN bit of the frame this part belongs to
  bool first = false;     // the first part of its frame
  bool last = false;      // the last part of its frame
  codec::bytes payload;
  bool message_end() const noexcept { return frame_fin && last; }
};

struct decoder_limits {
  // Largest frame payload accepted. The default carries the largest MQTT packet (256 MiB plus a
  // 5-byte fixed header) in one frame; anything beyond is refused before a byte of it is buffered.
  std::uint64_t max_frame_payload = 268'435'455 + 5;
};

// Frames sent by the peer of `receiver` (a server decodes client frames, which must be masked).
class frame_decoder {
 public:
  explicit frame_decoder(role receiver, decoder_limits limits = {}) : receiver_(receiver), limits_(limits) {}

  void feed(codec::bytes_view data);
  // The next part; errc::need_more when the buffered bytes do not make one yet. After any other
  // error the decoder stays failed (the connection cannot be resynchronised).
  codec::basic_result<frame_part, std::error_code> next();

  // Bytes fed but not yet decoded.
  std::size_t buffered() const noexcept { return buf_.size() - pos_; }

 private:
  std::optional<std::error_code> read_header();  // nullopt: a header was read (or need_more set)
  void compact();

  role receiver_;
  decoder_limits limits_;
  codec::bytes buf_;
  std::size_t pos_ = 0;
  std::error_code failed_;
  // The frame being read.
  bool in_frame_ = false;
  bool fin_ = false;
  opcode op_{};
  std::optional<std::uint32_t> mask_;
  std::uint64_t remaining_ = 0;
  std::uint64_t offset_ = 0;  // payload bytes of this frame already handed out (mask phase)
  // A fragmented data message in progress: its opcode.
  std::optional<opcode> message_;
};

}  // namespace mqttspec::transport::websocket
