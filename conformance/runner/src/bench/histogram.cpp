#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace mqttspec::bench {

namespace {
constexpr std::uint64_t sub_count = std::uint64_t{1} << histogram::sub_bits;
constexpr std::uint64_t largest = (std::uint64_t{1} << (histogram::max_exponent + 1)) - 1;
}  // namespace

// Values below sub_count: bucket = value (exact). Else with e = the index of the leading bit
// (e >= sub_bits), the sub_bits bits below it pick one of sub_count buckets of that power of two.
std::size_t histogram::bucket_of(std::uint64_t value) noexcept {
  value = std::min(value, largest);
  if (value < sub_count) return static_cast<std::size_t>(value);
  const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(value));
  const std::uint64_t mantissa = (value >> (e - sub_bits)) & (sub_count - 1);
  return static_cast<std::size_t>(((e - sub_bits + 1) << sub_bits) + mantissa);
}

std::uint64_t histogram::lowest_in(std::size_t bucket) noexcept {
  if (bucket < sub_count) return bucket;
  const unsigned e = static_cast<unsigned>(bucket >> sub_bits) + sub_bits - 1;
  const std::uint64_t mantissa = bucket & (sub_count - 1);
  return (std::uint64_t{1} << e) | (mantissa << (e - sub_bits));
}

std::uint64_t histogram::highest_in(std::size_t bucket) noexcept {
  if (bucket < sub_count) return bucket;
  const unsigned e = static_cast<unsigned>(bucket >> sub_bits) + sub_bits - 1;
  return lowest_in(bucket) + (std::uint64_t{1} << (e - sub_bits)) - 1;
}

void histogram::record(std::uint64_t value) noexcept {
  ++counts_[bucket_of(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void histogram::merge(const histogram& other) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void histogram::clear() noexcept { *this = histogram{}; }

std::uint64_t histogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank (1-based) of the value asked for; at least the first value.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(highest_in(i), min_, max_);
  }
  return max_;
}

}  // namespace mqttspec::bench
