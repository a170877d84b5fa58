#pragma once
// Eight bytes at a time ("SIMD within a register"): the scans of strings on the decode path
// (UTF-8, wildcards) skip plain ASCII words this way and look at single bytes only near a hit.
#include <cstdint>
#include <cstring>
#include <string_view>

namespace mqttspec::codec::detail {

inline constexpr std::uint64_t byte_ones = 0x0101010101010101u;
inline constexpr std::uint64_t byte_highs = 0x8080808080808080u;

inline std::uint64_t load8(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}
// Exact for "any": false positives only occur in bytes above a true zero byte.
inline bool has_zero_byte(std::uint64_t w) noexcept { return ((w - byte_ones) & ~w & byte_highs) != 0; }
inline bool has_byte(std::uint64_t w, unsigned char c) noexcept { return has_zero_byte(w ^ (byte_ones * c)); }
inline bool all_ascii_nonzero(std::uint64_t w) noexcept { return (w & byte_highs) == 0 && !has_zero_byte(w); }

// What a scan of a string found: bytes the UTF-8 check must look at (NUL, non-ASCII) and
// wildcards a topic check must look at. A string with neither needs no further check. Inline, so
// that the common all-ASCII string costs no call.
struct text_scan {
  bool needs_utf8_check = false;
  bool has_wildcard = false;
};

inline text_scan scan_text(std::string_view s) noexcept {
  text_scan out;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const auto w = load8(s.data() + i);
    out.needs_utf8_check |= !all_ascii_nonzero(w);
    out.has_wildcard |= has_byte(w, '+') || has_byte(w, '#');
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out.needs_utf8_check |= c == 0 || c >= 0x80;
    out.has_wildcard |= c == '+' || c == '#';
  }
  return out;
}

}  // namespace mqttspec::codec::detail
