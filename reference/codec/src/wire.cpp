#include "mqttspec/codec/wire.hpp"

#include "mqttspec/codec/detail/swar.hpp"

namespace mqttspec::codec {

std::optional<utf8_problem> check_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    if (n - i >= 8 && !detail::utf8_suspects(detail::load8(s.data() + i))) {  // fast path: 8 ASCII bytes
      i += 8;
      continue;
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (c == 0) return utf8_problem{errc::utf8_null, i};
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1Fu; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0Fu; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07u; }
    else return utf8_problem{errc::malformed_utf8, i};  // stray continuation, overlong lead, > U+10FFFF lead
    if (n - i < len) return utf8_problem{errc::malformed_utf8, i};
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0u) != 0x80u) return utf8_problem{errc::malformed_utf8, i};
      cp = (cp << 6) | (p[i + k] & 0x3Fu);
    }
    // Reject overlong 3/4-byte forms and code points above U+10FFFF.
    if ((len == 3 && cp < 0x800u) || (len == 4 && (cp < 0x10000u || cp > 0x10FFFFu)))
      return utf8_problem{errc::malformed_utf8, i};
    if (cp >= 0xD800u && cp <= 0xDFFFu) return utf8_problem{errc::utf8_surrogate, i};
    i += len;
  }
  return std::nullopt;
}

void wire_writer::varint(std::uint32_t v, std::size_t width) {
  put_varint(v, width, [this](std::uint8_t b) { u8(b); });
}

bytes build(const raw_frame& f) {
  bytes out;
  wire_writer w(out);
  w.u8(f.first_byte);
  if (!f.length_bytes_override.empty()) {
    w.raw(f.length_bytes_override);
  } else {
    w.varint(f.remaining_length.value_or(static_cast<std::uint32_t>(f.body.size())), f.length_width);
  }
  w.raw(f.body);
  return out;
}

}  // namespace mqttspec::codec
