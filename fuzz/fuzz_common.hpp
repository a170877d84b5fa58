#pragma once
// Helpers shared by the in-process fuzz targets: reading the input as a little stream of choices,
// and a failure macro that works the same under libFuzzer and the replay driver.
#include "mqttspec/codec/codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace mqttspec::fuzz {

// An oracle failure: print what broke and abort, so libFuzzer saves the input as a crash and
// the replay driver fails its ctest.
[[noreturn]] inline void fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}
#define MQTTSPEC_FUZZ_CHECK(cond, what)                                   \
  do {                                                                    \
    if (!(cond)) ::mqttspec::fuzz::fail(__FILE__, __LINE__, (what));      \
  } while (0)

// Consumes the input front to back; past the end every read yields zeros / empty, so any input
// is a valid program.
class input_reader {
 public:
  input_reader(const std::uint8_t* data, std::size_t size)
      : data_(reinterpret_cast<const char*>(data), size) {}
  explicit input_reader(std::string_view s) : data_(s) {}

  bool empty() const noexcept { return pos_ >= data_.size(); }
  std::size_t remaining() const noexcept { return empty() ? 0 : data_.size() - pos_; }
  std::uint8_t u8() noexcept { return empty() ? 0 : static_cast<std::uint8_t>(data_[pos_++]); }
  std::uint16_t u16() noexcept { auto hi = u8(); return static_cast<std::uint16_t>(hi << 8 | u8()); }
  std::string_view take(std::size_t n) noexcept {
    n = std::min(n, remaining());
    auto out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::string_view rest() noexcept { return take(remaining()); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

// The version a selector byte picks: 3.1, 3.1.1 or 5.0.
inline codec::protocol_version pick_version(std::uint8_t b) noexcept {
  switch (b % 3) {
    case 0: return codec::protocol_version::v3_1;
    case 1: return codec::protocol_version::v3_1_1;
    default: return codec::protocol_version::v5;
  }
}

inline codec::bytes_view as_view(const std::uint8_t* data, std::size_t size) noexcept {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace mqttspec::fuzz
