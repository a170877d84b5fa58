// The accounting of `mqttspec bench`: the latency histogram and the per-publisher sequence checker.
#include "bench/histogram.hpp"
#include "bench/sequence.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace mqttspec::bench {
namespace {

TEST(BenchHistogram, SmallValuesAreExact) {
  histogram h;
  for (std::uint64_t v = 0; v < 64; ++v) h.record(v);
  EXPECT_EQ(h.count(), 64u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 63u);
  EXPECT_EQ(h.quantile(0.5), 31u);  // the 32nd of 64 values
  EXPECT_EQ(h.quantile(1.0), 63u);
  EXPECT_EQ(h.quantile(0.0), 0u);
}

TEST(BenchHistogram, BucketsCoverEveryValueOnce) {
  for (std::uint64_t v : {64ull, 65ull, 127ull, 128ull, 129ull, 1000ull, 123456789ull, (1ull << 40) + 12345}) {
    const auto b = histogram::bucket_of(v);
    EXPECT_LE(histogram::lowest_in(b), v) << v;
    EXPECT_GE(histogram::highest_in(b), v) << v;
    EXPECT_EQ(histogram::highest_in(b) + 1, histogram::lowest_in(b + 1)) << v;  // no gaps
  }
  EXPECT_LT(histogram::bucket_of(~std::uint64_t{0}), histogram::bucket_count);  // clamped
}

TEST(BenchHistogram, QuantilesWithinTheStatedError) {
  // 1..100000 shuffled: the q-quantile is q * 100000, within 1/64.
  std::vector<std::uint64_t> values(100000);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = i + 1;
  std::shuffle(values.begin(), values.end(), std::mt19937(42));
  histogram h;
  for (auto v : values) h.record(v);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double want = q * 100000;
    const double got = static_cast<double>(h.quantile(q));
    EXPECT_GE(got, want) << q;  // the bucket's upper bound: never below the true value
    EXPECT_LE(got, want * (1 + 1.0 / 64) + 1) << q;
  }
  EXPECT_EQ(h.max(), 100000u);
  EXPECT_NEAR(h.mean(), 50000.5, 1e-6);
}

TEST(BenchHistogram, OutlierShowsInTheTailOnly) {
  histogram h;
  for (int i = 0; i < 999; ++i) h.record(1000);
  h.record(5'000'000);
  EXPECT_LE(h.quantile(0.99), 1000u * 65 / 64);
  EXPECT_EQ(h.quantile(0.999), h.quantile(0.99));
  EXPECT_EQ(h.max(), 5'000'000u);
  EXPECT_GE(h.quantile(1.0), 5'000'000u * 63 / 64);
}

TEST(BenchHistogram, MergeAddsCounts) {
  histogram a, b;
  for (int i = 0; i < 100; ++i) a.record(10);
  for (int i = 0; i < 100; ++i) b.record(1'000'000);
  a.merge(b);
  EXPECT_EQ(a.count(), 200u);
  EXPECT_EQ(a.min(), 10u);
  EXPECT_EQ(a.max(), 1'000'000u);
  EXPECT_EQ(a.quantile(0.5), 10u);
  EXPECT_GT(a.quantile(0.51), 900'000u);
}

TEST(BenchSequence, InOrderNothingLost) {
  sequence_checker c;
  for (std::uint64_t s = 0; s < 1000; ++s) EXPECT_EQ(c.on(s), sequence_checker::verdict::in_order);
  EXPECT_EQ(c.unique(), 1000u);
  EXPECT_EQ(c.lost(1000), 0u);
  EXPECT_EQ(c.duplicates(), 0u);
  EXPECT_EQ(c.out_of_order(), 0u);
  EXPECT_EQ(c.lost(1005), 5u);  // published but never seen
}

TEST(BenchSequence, GapsAreLoss) {
  sequence_checker c;
  for (std::uint64_t s = 0; s < 1000; ++s)
    if (s % 10 != 3) c.on(s);
  EXPECT_EQ(c.lost(1000), 100u);
  EXPECT_EQ(c.out_of_order(), 0u);
  EXPECT_FALSE(c.seen(3));
  EXPECT_TRUE(c.seen(4));
}

TEST(BenchSequence, DuplicatesNearAndFar) {
  sequence_checker c;
  for (std::uint64_t s = 0; s < 500; ++s) c.on(s);
  EXPECT_EQ(c.on(499), sequence_checker::verdict::duplicate);  // just seen
  EXPECT_EQ(c.on(3), sequence_checker::verdict::duplicate);    // long ago (its word was dropped)
  EXPECT_EQ(c.duplicates(), 2u);
  EXPECT_EQ(c.unique(), 500u);
  EXPECT_EQ(c.lost(500), 0u);
  EXPECT_EQ(c.out_of_order(), 0u);  // a duplicate is not counted twice
}

TEST(BenchSequence, LateArrivalIsOutOfOrderNotLoss) {
  sequence_checker c;
  c.on(0);
  c.on(2);
  EXPECT_EQ(c.on(1), sequence_checker::verdict::out_of_order);
  c.on(3);
  EXPECT_EQ(c.out_of_order(), 1u);
  EXPECT_EQ(c.lost(4), 0u);
  EXPECT_EQ(c.on(1), sequence_checker::verdict::duplicate);
}

TEST(BenchSequence, LongGapThenFill) {
  // A hole held open across many words, then filled late: memory follows the gap, counts stay exact.
  sequence_checker c;
  for (std::uint64_t s = 1; s < 100000; ++s) c.on(s);
  EXPECT_EQ(c.lost(100000), 1u);
  EXPECT_EQ(c.on(0), sequence_checker::verdict::out_of_order);
  EXPECT_EQ(c.lost(100000), 0u);
  for (std::uint64_t s = 100000; s < 200000; ++s) c.on(s);
  EXPECT_EQ(c.on(150000), sequence_checker::verdict::duplicate);
  EXPECT_EQ(c.unique(), 200000u);
}

TEST(BenchSequence, RandomAgainstAModel) {
  std::mt19937 rng(7);
  sequence_checker c;
  std::vector<int> seen(5000, 0);
  std::uint64_t dups = 0, late = 0, high = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t s = std::uniform_int_distribution<std::uint64_t>(0, 4999)(rng);
    const auto v = c.on(s);
    if (seen[s]++) {
      ++dups;
      EXPECT_EQ(v, sequence_checker::verdict::duplicate);
    } else if (s < high) {
      ++late;
      EXPECT_EQ(v, sequence_checker::verdict::out_of_order);
    } else {
      high = s + 1;
      EXPECT_EQ(v, sequence_checker::verdict::in_order);
    }
  }
  EXPECT_EQ(c.duplicates(), dups);
  EXPECT_EQ(c.out_of_order(), late);
  std::uint64_t missing = 0;
  for (int n : seen) missing += n == 0;
  EXPECT_EQ(c.lost(5000), missing);
}

}  // namespace
}  // namespace mqttspec::bench
