#pragma once
// Eight bytes at a time ("SIMD within a register"), sixteen for longer strings: the scans of strings
// on the decode path (UTF-8, wildcards) skip plain ASCII this way and look at single bytes only
// near a hit.
#include <bit>
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
inline std::uint64_t load4(const char* p) noexcept {
  std::uint32_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Each returns a word whose byte high bits mark the bytes of interest. Exact for "any": a false
// mark only ever sits above a true one (the borrow of the zero-byte test runs upwards).
inline std::uint64_t zero_bytes(std::uint64_t w) noexcept { return (w - byte_ones) & ~w & byte_highs; }
// NUL or not ASCII: the bytes the UTF-8 check must look at.
inline std::uint64_t utf8_suspects(std::uint64_t w) noexcept { return (w & byte_highs) | zero_bytes(w); }
// '+' (0x2B) or '#' (0x23): the two differ only in bit 3, so one comparison finds both.
inline std::uint64_t wildcard_bytes(std::uint64_t w) noexcept {
  return zero_bytes((w & ~(byte_ones * 0x08)) ^ (byte_ones * 0x23));
}

// Bytes [i, i + 8) of `s` as a word, byte k of the word being s[i + k]; bytes past the end of `s`
// read as zero (i < s.size()). Never reads outside `s`: a short tail is the string's last word
// shifted down, and a string under 8 bytes is put together from overlapping loads of its own bytes.
inline std::uint64_t word_at(std::string_view s, std::size_t i) noexcept {
  const char* p = s.data();
  const std::size_t n = s.size();
  if (n - i >= 8) return load8(p + i);
  if (n >= 8) return load8(p + n - 8) >> (8 * (8 - (n - i)));
  // n < 8, so i == 0 (callers step by 8 from 0)
  const auto byte = [&](std::size_t k) { return std::uint64_t{static_cast<unsigned char>(p[k])} << (8 * k); };
  if (n >= 4) return load4(p) | load4(p + n - 4) << (8 * (n - 4));
  return byte(0) | byte(n / 2) | byte(n - 1);
}

// Lowest marked byte of a non-zero mark word (marks as returned by the tests above).
inline std::size_t first_mark(std::uint64_t marks) noexcept {
  return static_cast<std::size_t>(std::countr_zero(marks)) / 8;
}

// What a scan of a string found: bytes the UTF-8 check must look at (NUL, non-ASCII) and
// wildcards a topic check must look at. A string with neither needs no further check. In a header
// so the compiler may inline it; forcing it inline everywhere was slower (SUBSCRIBE-10 88 -> 119 ns).
struct text_scan {
  bool needs_utf8_check = false;
  bool has_wildcard = false;
};

// Sixteen bytes at a time for strings of 16 bytes or more (GCC/Clang vector extensions: SSE2 or
// NEON, no intrinsics). Lanes compare to all-ones or zero, so "any" is an OR of the two halves.
using bytes16 = signed char __attribute__((vector_size(16)));
using words2 = std::uint64_t __attribute__((vector_size(16)));

inline bytes16 load16(const char* p) noexcept {
  bytes16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline bool any_lane(bytes16 v) noexcept {
  const auto w = reinterpret_cast<words2>(v);
  return (w[0] | w[1]) != 0;
}

// Whole words only, and no byte-at-a-time tail: the last word overlaps the one before it (looking
// at a byte twice does not change an "any"), and a string shorter than 8 bytes is one word_at.
inline text_scan scan_text(std::string_view s) noexcept {
  const char* p = s.data();
  const std::size_t n = s.size();
  if (n >= 16) {
    bytes16 suspects{}, wildcards{};
    const auto take = [&](bytes16 b) {
      suspects |= b < 1;  // signed: NUL, and 0x80 and above (negative), in one comparison
      wildcards |= (b & ~0x08) == 0x23;
    };
    for (std::size_t i = 0; i < n - 16; i += 16) take(load16(p + i));
    take(load16(p + n - 16));
    return {any_lane(suspects), any_lane(wildcards)};
  }
  std::uint64_t suspects = 0, wildcards = 0;
  if (n >= 8) {
    const auto take = [&](std::uint64_t w) {
      suspects |= utf8_suspects(w);
      wildcards |= wildcard_bytes(w);
    };
    take(load8(p));
    take(load8(p + n - 8));
  } else if (n > 0) {
    // word_at's zero padding would read as NUL, so only the string's own bytes count as suspects;
    // it never reads as a wildcard.
    const auto w = word_at(s, 0);
    suspects = utf8_suspects(w) & (byte_highs >> (8 * (8 - n)));
    wildcards = wildcard_bytes(w);
  }
  return {suspects != 0, wildcards != 0};
}

}  // namespace mqttspec::codec::detail
