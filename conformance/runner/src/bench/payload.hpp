#pragma once
// What every benchmark message carries at the start of its payload, so the receiving side counts
// and times it without shared state: the run's nonce (a message of another run, e.g. a retained
// one, is recognised and ignored), the publisher, its sequence number and the send time. The rest
// of the payload is filler up to the requested size. Byte order is the host's: the same process
// writes and reads it.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace mqttspec::bench {

struct stamp {
  std::uint32_t run = 0;
  std::uint32_t publisher = 0;
  std::uint64_t seq = 0;
  std::uint64_t sent_ns = 0;  // steady clock, nanoseconds since the run's start
};

inline constexpr std::size_t stamp_size = 24;

inline void write_stamp(char* at, const stamp& s) noexcept {
  std::memcpy(at, &s.run, 4);
  std::memcpy(at + 4, &s.publisher, 4);
  std::memcpy(at + 8, &s.seq, 8);
  std::memcpy(at + 16, &s.sent_ns, 8);
}

inline std::optional<stamp> read_stamp(std::string_view payload) noexcept {
  if (payload.size() < stamp_size) return std::nullopt;
  stamp s;
  std::memcpy(&s.run, payload.data(), 4);
  std::memcpy(&s.publisher, payload.data() + 4, 4);
  std::memcpy(&s.seq, payload.data() + 8, 8);
  std::memcpy(&s.sent_ns, payload.data() + 16, 8);
  return s;
}

}  // namespace mqttspec::bench
