#pragma once
// Structure-aware mutation of MQTT byte streams: frames are decoded with the codec, one field,
// property, payload or frame is changed, and the stream is re-encoded, so Remaining Length,
// Property Length and string lengths stay consistent and the mutant gets past the framer.
// Shared by the `*_structured` fuzz targets and the network fuzzer.
#include "mqttspec/codec/codec.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>

namespace mqttspec::fuzz {

// Mutates data[0, size) in place within `max_size` bytes and returns the new size: the signature
// of LLVMFuzzerMutate, so libFuzzer's own byte mutations can change payloads and strings.
using byte_mutator = std::function<std::size_t(std::uint8_t* data, std::size_t size, std::size_t max_size)>;

// A simple byte mutator for builds without libFuzzer (replay, network fuzzer).
std::size_t basic_byte_mutate(std::mt19937& rng, std::uint8_t* data, std::size_t size, std::size_t max_size);

// Mutates the stream of whole frames in `stream` as version `v` packets. False when no frame
// decoded, so the caller can fall back to byte mutation.
bool mutate_stream(codec::bytes& stream, codec::protocol_version v, std::mt19937& rng, const byte_mutator& mutate_bytes,
                   std::size_t max_size);

}  // namespace mqttspec::fuzz
