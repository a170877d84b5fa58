// Custom mutator for `decode_structured` (the `decode` target with structure-aware mutation):
// keeps byte 0 (version) and byte 1 (framer chunk size) and mutates the frames behind them.
#include "mutator.hpp"
#include "fuzz_common.hpp"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  std::mt19937 rng(seed);
  // One time in five, and whenever no frame parses, plain byte mutation: it finds what keeping
  // lengths consistent never would (truncations, bad lengths).
  if (size < 3 || max_size < 3 || rng() % 5 == 0) return LLVMFuzzerMutate(data, size, max_size);
  const auto version = mqttspec::fuzz::pick_version(data[0]);
  mqttspec::codec::bytes stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (!mqttspec::fuzz::mutate_stream(stream, version, rng, LLVMFuzzerMutate, max_size - 2))
    return LLVMFuzzerMutate(data, size, max_size);
  std::copy(stream.begin(), stream.end(), data + 2);
  return stream.size() + 2;
}
