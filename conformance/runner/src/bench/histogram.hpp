#pragma once
// A latency histogram with bounded relative error and constant memory: values (nanoseconds) below
// 2^sub_bits are counted exactly; above, each power of two is split into 2^sub_bits equal
// buckets, so a reported percentile is within 1/2^sub_bits (1.6 %) of the true value. Recording
// is a few integer operations and no allocation; histograms of several threads or runs merge by
// adding counts.
#include <array>
#include <cstdint>

namespace mqttspec::bench {

class histogram {
 public:
  static constexpr unsigned sub_bits = 6;
  static constexpr unsigned max_exponent = 44;  // ~4.9 hours in ns; larger values are clamped
  static constexpr std::size_t bucket_count = (max_exponent - sub_bits + 2) << sub_bits;

  void record(std::uint64_t value) noexcept;
  void merge(const histogram& other) noexcept;
  void clear() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // The value at quantile q (0..1): the smallest recorded value v such that at least q of all
  // values are <= v, up to the bucket's width (reported as the bucket's upper bound, never above
  // max()). 0 when empty.
  std::uint64_t quantile(double q) const noexcept;

  // Bucket arithmetic, public for tests.
  static std::size_t bucket_of(std::uint64_t value) noexcept;
  static std::uint64_t lowest_in(std::size_t bucket) noexcept;
  static std::uint64_t highest_in(std::size_t bucket) noexcept;

 private:
  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  std::uint64_t sum_ = 0;
};

}  // namespace mqttspec::bench
