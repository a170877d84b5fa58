#pragma once
// Counts heap allocations made by this thread: the program that links
// allocation_counter.cpp gets a global operator new that counts, so tests and
// benchmarks can say "this decode allocated nothing" as a fact rather than an
// estimate.
#include <cstddef>

namespace mqttspec::testing {

// Allocations made by the calling thread since it started.
std::size_t allocations() noexcept;

// Allocations made by the calling thread while `f` ran.
template <class F>
std::size_t allocations_during(F &&f) {
  const std::size_t before = allocations();
  f();
  return allocations() - before;
}

}  // namespace mqttspec::testing
