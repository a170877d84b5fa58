#pragma once
// Primitive wire data types (§1.5): integers, Variable Byte Integers, UTF-8 strings, binary data.
// The writer is shared by the encoder and by anyone who hand-builds (even malformed) packets.
#include "mqttspec/codec/errc.hpp"
#include "mqttspec/codec/types.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace mqttspec::codec {

// Number of bytes the minimal Variable Byte Integer encoding of `v` takes (1..4), 0 if too large.
// Inline: the framer and the decoder ask it for every packet.
constexpr std::size_t varint_size(std::uint32_t v) noexcept {
  return v < 128u ? 1 : v < 16'384u ? 2 : v < 2'097'152u ? 3 : v < 268'435'456u ? 4 : 0;
}

// The bytes of a Variable Byte Integer (§1.5.5), low 7 bits first, each to `put`: in `width`
// bytes (1..4, which may be non-minimal on purpose), or in the fewest when width is 0.
template <class Put>
constexpr void put_varint(std::uint32_t v, std::size_t width, Put&& put) {
  const std::size_t n = width ? width : varint_size(v);
  for (std::size_t k = 0; k < n; ++k) {
    auto b = static_cast<std::uint8_t>(v & 0x7Fu);
    v >>= 7;
    if (k + 1 < n) b |= 0x80u;
    put(b);
  }
}

// UTF-8 check of §1.5.4 / §1.5.3: well-formed, no surrogates, no U+0000. U+FEFF is an ordinary
// character. Returns the offending errc and its offset within `s`, or nullopt when valid.
struct utf8_problem {
  errc code;
  std::size_t offset;
};
std::optional<utf8_problem> check_utf8(std::string_view s) noexcept;

// Appends wire primitives to a byte string.
class wire_writer {
 public:
  explicit wire_writer(bytes& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { u8(static_cast<std::uint8_t>(v >> 8)); u8(static_cast<std::uint8_t>(v)); }
  void u32(std::uint32_t v) { u16(static_cast<std::uint16_t>(v >> 16)); u16(static_cast<std::uint16_t>(v)); }
  // Minimal encoding unless `width` (1..4) forces a longer, non-minimal one.
  void varint(std::uint32_t v, std::size_t width = 0);
  // Two-byte length prefix then the bytes; the caller ensures size <= 65535.
  void string(std::string_view s) { u16(static_cast<std::uint16_t>(s.size())); raw(s); }
  void raw(bytes_view b) { out_.append(b); }

 private:
  bytes& out_;
};

// A deliberately hand-made frame, for sending malformed input on purpose: any first byte, any
// (even wrong) remaining length, in any (even non-minimal or over-long) number of bytes.
struct raw_frame {
  std::uint8_t first_byte = 0;
  bytes body;
  std::optional<std::uint32_t> remaining_length;  // default: body.size()
  std::size_t length_width = 0;                   // default: minimal
  bytes length_bytes_override;                    // if set, written verbatim instead of the length
};
bytes build(const raw_frame& f);

}  // namespace mqttspec::codec
