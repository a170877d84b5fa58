#pragma once
// `mqttspec decode`: hex in, one JSON object per packet out (or the first error).
#include "mqttspec/codec/types.hpp"

#include <iosfwd>
#include <optional>
#include <string_view>

namespace mqttspec::conformance {

// Decodes every packet of the stream given as hex. Without a version, a leading CONNECT decides
// it, else 5.0. Writes one JSON line per packet to `out`; on an error, a JSON error object and
// returns 1 (2 for text that is not hex). Returns 0 when the whole stream decoded.
int decode_hex_stream(std::string_view hex, std::optional<codec::protocol_version> version, std::ostream& out);

}  // namespace mqttspec::conformance
