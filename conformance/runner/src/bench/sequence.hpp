#pragma once
// Per-stream accounting of deliveries: one publisher's messages as seen by one receiver (a
// subscriber, or a shared-subscription group). Every message carries its sequence number (see
// payload.hpp), so loss, duplicates and order are counted from what arrived, not assumed.
#include <cstdint>
#include <vector>

namespace mqttspec::bench {

class sequence_checker {
 public:
  enum class verdict : std::uint8_t { in_order, out_of_order, duplicate };

  // One delivery of message `seq` (0-based). A first arrival with a lower number than one already
  // seen is out of order; a second arrival of the same number is a duplicate.
  verdict on(std::uint64_t seq);

  std::uint64_t unique() const noexcept { return unique_; }
  std::uint64_t duplicates() const noexcept { return duplicates_; }
  std::uint64_t out_of_order() const noexcept { return out_of_order_; }
  // One past the highest number seen (0: nothing yet).
  std::uint64_t high() const noexcept { return high_; }
  // Messages 0..expected-1 that never arrived.
  std::uint64_t lost(std::uint64_t expected) const noexcept;
  bool seen(std::uint64_t seq) const noexcept;

 private:
  // Bit i of the window is message (base_ * 64 + i); whole words of ones at the front are dropped
  // as the window slides, so memory follows the gaps still open, not the run's length.
  std::vector<std::uint64_t> bits_;
  std::size_t head_ = 0;     // first live word of bits_
  std::uint64_t base_ = 0;   // word number of bits_[head_]
  std::uint64_t high_ = 0;
  std::uint64_t unique_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t out_of_order_ = 0;
  std::uint64_t unique_below(std::uint64_t n) const noexcept;
};

}  // namespace mqttspec::bench
