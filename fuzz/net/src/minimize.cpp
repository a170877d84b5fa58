#include "minimize.hpp"

namespace mqttspec::netfuzz {

using namespace codec;

bytes reframe(std::uint8_t first_byte, bytes_view body) {
  bytes out(1, static_cast<char>(first_byte));
  std::size_t n = body.size();
  do {
    auto b = static_cast<std::uint8_t>(n % 128);
    n /= 128;
    if (n) b |= 0x80;
    out += static_cast<char>(b);
  } while (n);
  out.append(body);
  return out;
}

namespace {

// The frames of a send step; bytes after the last whole frame are one more piece.
std::vector<bytes> pieces(bytes_view data) {
  std::vector<bytes> out;
  while (!data.empty()) {
    auto f = parse_frame(data);
    const auto n = f ? f->bytes.size() : data.size();
    out.emplace_back(data.substr(0, n));
    data.remove_prefix(n);
  }
  return out;
}

bytes join(const std::vector<bytes>& v) {
  bytes out;
  for (const auto& b : v) out += b;
  return out;
}

}  // namespace

script minimize_script(const script& s, const std::function<bool(const script&)>& reproduces, budget& b) {
  script best = s;
  // 1. Steps.
  {
    std::vector<std::size_t> idx(best.steps.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    auto build = [&](const std::vector<std::size_t>& keep) {
      script c = best;
      c.steps.clear();
      for (auto i : keep) c.steps.push_back(best.steps[i]);
      return c;
    };
    std::function<bool(const std::vector<std::size_t>&)> test = [&](const std::vector<std::size_t>& keep) {
      return !keep.empty() && reproduces(build(keep));
    };
    best = build(ddmin(idx, test, b));
  }
  // 2. Frames within each send step.
  for (std::size_t k = 0; k < best.steps.size() && !b.exhausted(); ++k) {
    if (best.steps[k].op != step_op::send) continue;
    auto ps = pieces(best.steps[k].data);
    if (ps.size() < 2) continue;
    std::function<bool(const std::vector<bytes>&)> test = [&](const std::vector<bytes>& keep) {
      if (keep.empty()) return false;
      script c = best;
      c.steps[k].data = join(keep);
      return reproduces(c);
    };
    best.steps[k].data = join(ddmin(ps, test, b));
  }
  // 3. Bytes within each frame: the body, with the Remaining Length rewritten to match.
  for (std::size_t k = 0; k < best.steps.size() && !b.exhausted(); ++k) {
    if (best.steps[k].op != step_op::send) continue;
    auto ps = pieces(best.steps[k].data);
    for (std::size_t i = 0; i < ps.size() && !b.exhausted(); ++i) {
      auto f = parse_frame(ps[i]);
      const bool framed = f.has_value();
      const auto first = static_cast<std::uint8_t>(ps[i][0]);
      const bytes body = framed ? bytes(f->body()) : ps[i];
      if (body.size() < 2) continue;
      auto rebuild = [&](const std::vector<char>& keep) {
        const bytes nb(keep.begin(), keep.end());
        return framed ? reframe(first, nb) : nb;
      };
      std::function<bool(const std::vector<char>&)> test = [&](const std::vector<char>& keep) {
        if (!framed && keep.empty()) return false;
        script c = best;
        auto cp = ps;
        cp[i] = rebuild(keep);
        c.steps[k].data = join(cp);
        return reproduces(c);
      };
      const auto kept = ddmin(std::vector<char>(body.begin(), body.end()), test, b);
      if (kept.size() == body.size()) continue;  // unchanged: keep the frame as it was
      ps[i] = rebuild(kept);
      best.steps[k].data = join(ps);
    }
  }
  return best;
}

}  // namespace mqttspec::netfuzz
