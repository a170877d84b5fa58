#pragma once
// Encoding: canonical bytes for a packet in a version. Properties are written in identifier order.
// Refuses what the version cannot carry (properties or reason codes before 5.0, AUTH, ...), and
// values that do not fit their fields; it does not judge semantics, so tests can build odd packets.
#include "mqttspec/codec/packet.hpp"
#include "mqttspec/codec/result.hpp"

#include <system_error>

namespace mqttspec::codec {

using encode_result = basic_result<bytes, std::error_code>;

encode_result encode(const packet& p, protocol_version v);
// Appends to `out`; on error `out` is left as it was.
std::error_code encode_to(const packet& p, protocol_version v, bytes& out);
// The size encode() would produce, without producing it.
basic_result<std::size_t, std::error_code> encoded_size(const packet& p, protocol_version v);

}  // namespace mqttspec::codec
