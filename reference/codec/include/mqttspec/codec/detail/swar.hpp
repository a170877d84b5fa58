#pragma once
// Eight bytes at a time ("SIMD within a register"): the scans of strings on the decode path
// (UTF-8, wildcards) skip plain ASCII words this way and look at single bytes only near a hit.
#include <cstdint>
#include <cstring>

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

}  // namespace mqttspec::codec::detail
