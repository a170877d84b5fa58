#include "minimize.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace mqttspec::netfuzz {
namespace {

using namespace std::chrono_literals;

TEST(Ddmin, FindsTheTwoItemsThatMatter) {
  std::vector<int> items(40);
  for (int i = 0; i < 40; ++i) items[static_cast<std::size_t>(i)] = i;
  std::size_t tests = 0;
  std::function<bool(const std::vector<int>&)> test = [&](const std::vector<int>& v) {
    ++tests;
    return std::count(v.begin(), v.end(), 3) && std::count(v.begin(), v.end(), 37);
  };
  budget b(1000, 10s);
  EXPECT_EQ(ddmin(items, test, b), (std::vector<int>{3, 37}));
  EXPECT_LT(tests, 200u);
}

TEST(Ddmin, StopsWhenTheBudgetIsSpent) {
  std::vector<int> items(100, 1);
  std::size_t tests = 0;
  std::function<bool(const std::vector<int>&)> test = [&](const std::vector<int>&) {
    ++tests;
    return false;
  };
  budget b(5, 10s);
  EXPECT_EQ(ddmin(items, test, b).size(), 100u);
  EXPECT_EQ(tests, 5u);
}

TEST(Ddmin, CanRemoveEverything) {
  budget b(100, 10s);
  std::function<bool(const std::vector<int>&)> test = [](const std::vector<int>&) { return true; };
  EXPECT_TRUE(ddmin(std::vector<int>{1, 2, 3}, test, b).empty());
}

TEST(Reframe, RewritesTheRemainingLength) {
  EXPECT_EQ(codec::to_hex(reframe(0x30, "ab")), "30026162");
  const auto big = reframe(0x30, codec::bytes(200, 'x'));
  EXPECT_EQ(codec::to_hex(big.substr(0, 3)), "30c801");
  EXPECT_TRUE(codec::parse_frame(big));
}

// A "finding" that needs one step whose frame holds the byte 0x42 somewhere in its body: the
// minimizer drops the other steps, the other frames of the step and the other bytes, and keeps
// the frame well-formed throughout.
TEST(MinimizeScript, KeepsWhatTheFindingNeeds) {
  script s;
  s.token = make_token(1);
  s.steps.push_back(open_step(0));
  s.steps.push_back(send_step(0, codec::from_hex("c000").value()));
  s.steps.push_back(send_step(0, codec::from_hex("c000 3006000161424344 c000").value()));
  s.steps.push_back(close_step(0));
  s.steps.push_back(send_step(1, codec::from_hex("e000").value()));
  std::size_t calls = 0;
  auto needs = [&](const script& c) {
    ++calls;
    for (const auto& st : c.steps) {
      if (st.op != step_op::send) continue;
      codec::bytes_view rest = st.data;
      while (!rest.empty()) {
        auto f = codec::parse_frame(rest);
        if (!f) return false;  // every candidate stays framed
        if (f->body().find('\x42') != std::string_view::npos) return true;
        rest.remove_prefix(f->bytes.size());
      }
    }
    return false;
  };
  budget b(500, 10s);
  const auto m = minimize_script(s, needs, b);
  ASSERT_EQ(m.steps.size(), 1u);
  EXPECT_EQ(codec::to_hex(m.steps[0].data), "300142");
  EXPECT_GT(calls, 5u);
}

}  // namespace
}  // namespace mqttspec::netfuzz
