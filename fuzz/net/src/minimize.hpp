#pragma once
// Delta debugging (Zeller's ddmin, complements only) and its use on scripts: first over the
// steps, then over the frames of each remaining send step, then over the bytes of each frame
// (its Remaining Length rewritten to fit, so the smaller frame still frames; bytes that never
// framed are cut as they are). The predicate replays a candidate and says whether the finding
// still shows; a budget bounds the number of replays and the time.
#include "script.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <vector>

namespace mqttspec::netfuzz {

// Tests left, and time left, for one minimization.
class budget {
 public:
  budget(std::size_t tests, std::chrono::milliseconds time)
      : tests_(tests), end_(std::chrono::steady_clock::now() + time) {}
  bool spend() {
    if (tests_ == 0 || std::chrono::steady_clock::now() >= end_) return false;
    --tests_;
    return true;
  }
  bool exhausted() const { return tests_ == 0 || std::chrono::steady_clock::now() >= end_; }

 private:
  std::size_t tests_;
  std::chrono::steady_clock::time_point end_;
};

// A 1-minimal sub-sequence of `items` (as far as the budget goes) for which `test` holds; `test`
// is assumed to hold for `items`.
template <class T>
std::vector<T> ddmin(std::vector<T> items, const std::function<bool(const std::vector<T>&)>& test, budget& b) {
  std::size_t n = 2;
  while (items.size() >= 2 && !b.exhausted()) {
    const std::size_t chunk = (items.size() + n - 1) / n;
    bool reduced = false;
    for (std::size_t start = 0; start < items.size(); start += chunk) {
      std::vector<T> rest(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(start));
      rest.insert(rest.end(), items.begin() + static_cast<std::ptrdiff_t>(std::min(start + chunk, items.size())),
                  items.end());
      if (!b.spend()) return items;
      if (test(rest)) {
        items = std::move(rest);
        n = std::max<std::size_t>(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= items.size()) break;
      n = std::min(n * 2, items.size());
    }
  }
  if (items.size() == 1 && b.spend() && test({})) items.clear();
  return items;
}

// The frame with its body replaced and the Remaining Length recomputed (first byte kept).
codec::bytes reframe(std::uint8_t first_byte, codec::bytes_view body);

// Minimizes `s` while `reproduces` holds.
script minimize_script(const script& s, const std::function<bool(const script&)>& reproduces, budget& b);

}  // namespace mqttspec::netfuzz
