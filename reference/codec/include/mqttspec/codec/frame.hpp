#pragma once
// Framing (§2.1): splits a byte stream into complete control packets. Works from the fixed header
// alone: a frame whose announced size exceeds the limit is refused before its body is buffered.
#include "mqttspec/codec/errc.hpp"
#include "mqttspec/codec/result.hpp"
#include "mqttspec/codec/types.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace mqttspec::codec {

// The largest remaining length a 4-byte Variable Byte Integer can hold (§1.5.5).
inline constexpr std::uint32_t max_remaining_length = 268'435'455;
// Default maximum packet size: the largest packet the protocol allows.
inline constexpr std::size_t max_packet_size = max_remaining_length + 5;

struct frame {
  std::uint8_t first_byte = 0;     // packet type << 4 | flags
  std::size_t header_size = 0;     // 1 + length bytes
  bool minimal_length = true;      // the remaining length used the fewest bytes (5.0 requires it)
  bytes_view bytes;                // the whole frame, fixed header included

  std::uint8_t type_bits() const noexcept { return first_byte >> 4; }
  std::uint8_t flags() const noexcept { return first_byte & 0x0F; }
  bytes_view body() const noexcept { return bytes.substr(header_size); }
};

// Result of looking at the front of a buffer: a complete frame, errc::need_more, or an error.
using frame_result = basic_result<frame, decode_error>;

// Pure: looks for one frame at the start of `data`. Never reads past `data`.
frame_result parse_frame(bytes_view data, std::size_t max_size = max_packet_size) noexcept;

// Incremental framer over a stream fed in arbitrary chunks.
class framer {
 public:
  framer() = default;
  explicit framer(std::size_t max_size) : max_size_(max_size) {}
  void set_max_size(std::size_t n) noexcept { max_size_ = n; }
  std::size_t max_size() const noexcept { return max_size_; }

  void feed(bytes_view data);
  // The next complete frame, errc::need_more, or a framing error (after which the stream is
  // unusable and the connection is to be closed). The frame's bytes stay valid until the next
  // call to feed() or next().
  frame_result next();
  std::size_t buffered() const noexcept { return buf_.size() - start_; }

 private:
  std::size_t max_size_ = max_packet_size;
  std::string buf_;
  std::size_t start_ = 0;
};

}  // namespace mqttspec::codec
