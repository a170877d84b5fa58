// Custom mutator for `broker_structured`: mutates the operation program of the `broker` target
// as a program (insert, delete, duplicate operations, change operands) and the MQTT frames inside
// its raw operations with the frame mutator, keeping every length consistent.
#include "broker_ops.hpp"
#include "mutator.hpp"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  using namespace mqttspec::fuzz;
  std::mt19937 rng(seed);
  auto below = [&](std::size_t n) { return n == 0 ? 0 : rng() % n; };
  auto ops = parse_ops({reinterpret_cast<const char*>(data), size});
  if (ops.empty() || below(6) == 0) return LLVMFuzzerMutate(data, size, max_size);

  const auto i = below(ops.size());
  switch (below(6)) {
    case 0: ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(i), ops[i]); break;
    case 1: ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i)); break;
    case 2: {  // a new operation
      op o;
      o.kind = static_cast<op_kind>(below(8));
      o.arg = static_cast<std::uint8_t>(below(32));
      o.operand = static_cast<std::uint8_t>(rng());
      if (o.kind == op_kind::raw) o.kind = op_kind::canned;
      ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(i), o);
      break;
    }
    case 3:
      ops[i].arg = static_cast<std::uint8_t>(below(32));
      ops[i].operand = static_cast<std::uint8_t>(below(3) == 0 ? rng() : ops[i].operand + below(5) - 2);
      break;
    default: {  // the frames of a raw operation
      std::vector<std::size_t> raws;
      for (std::size_t k = 0; k < ops.size(); ++k)
        if (ops[k].kind == op_kind::raw) raws.push_back(k);
      if (raws.empty()) return LLVMFuzzerMutate(data, size, max_size);
      auto& b = ops[raws[below(raws.size())]].bytes;
      if (!mutate_stream(b, mqttspec::codec::protocol_version::v5, rng, LLVMFuzzerMutate, 4096) &&
          !mutate_stream(b, mqttspec::codec::protocol_version::v3_1_1, rng, LLVMFuzzerMutate, 4096)) {
        b.resize(b.size() + 16);
        b.resize(LLVMFuzzerMutate(reinterpret_cast<std::uint8_t*>(b.data()), b.size() - 16, b.size()));
      }
    }
  }
  auto out = serialize_ops(ops);
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::copy(out.begin(), out.end(), data);
  return out.size();
}
