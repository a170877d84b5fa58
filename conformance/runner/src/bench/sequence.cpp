#include "sequence.hpp"

#include <algorithm>
#include <bit>

namespace mqttspec::bench {

sequence_checker::verdict sequence_checker::on(std::uint64_t seq) {
  const std::uint64_t word = seq >> 6;
  if (word < base_) {  // every message of the dropped words arrived already
    ++duplicates_;
    return verdict::duplicate;
  }
  const std::size_t at = head_ + static_cast<std::size_t>(word - base_);
  if (at >= bits_.size()) bits_.resize(at + 1, 0);
  const std::uint64_t mask = std::uint64_t{1} << (seq & 63);
  if (bits_[at] & mask) {
    ++duplicates_;
    return verdict::duplicate;
  }
  bits_[at] |= mask;
  ++unique_;
  verdict v = verdict::in_order;
  if (seq < high_) {
    ++out_of_order_;
    v = verdict::out_of_order;
  } else {
    high_ = seq + 1;
  }
  // Slide: drop full words at the front (compacting once the dead prefix is large).
  while (head_ < bits_.size() && bits_[head_] == ~std::uint64_t{0}) {
    ++head_;
    ++base_;
  }
  if (head_ >= 64 && head_ * 2 >= bits_.size()) {
    bits_.erase(bits_.begin(), bits_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  return v;
}

bool sequence_checker::seen(std::uint64_t seq) const noexcept {
  const std::uint64_t word = seq >> 6;
  if (word < base_) return true;
  const std::size_t at = head_ + static_cast<std::size_t>(word - base_);
  if (at >= bits_.size()) return false;
  return (bits_[at] >> (seq & 63)) & 1u;
}

// How many distinct messages below n arrived.
std::uint64_t sequence_checker::unique_below(std::uint64_t n) const noexcept {
  std::uint64_t count = std::min(n, base_ * 64);
  for (std::size_t i = head_; i < bits_.size(); ++i) {
    const std::uint64_t first = (base_ + (i - head_)) * 64;
    if (first >= n) break;
    std::uint64_t w = bits_[i];
    if (n - first < 64) w &= (std::uint64_t{1} << (n - first)) - 1;
    count += static_cast<std::uint64_t>(std::popcount(w));
  }
  return count;
}

std::uint64_t sequence_checker::lost(std::uint64_t expected) const noexcept { return expected - unique_below(expected); }

}  // namespace mqttspec::bench
