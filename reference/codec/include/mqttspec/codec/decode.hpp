#pragma once
// Decoding of one complete frame: pure, validating every wire-level rule of the version.
#include "mqttspec/codec/errc.hpp"
#include "mqttspec/codec/frame.hpp"
#include "mqttspec/codec/packet.hpp"
#include "mqttspec/codec/result.hpp"

namespace mqttspec::codec {

using decode_result = basic_result<packet, decode_error>;

decode_result decode(const frame& f, protocol_version v);
// Frames and decodes exactly one packet held in `bytes` (no bytes over).
decode_result decode(bytes_view data, protocol_version v);

// The version a CONNECT frame asks for (protocol name + level), to choose the decoder for the
// rest of the connection. Errors: unsupported_protocol_version, invalid_protocol_name, truncated.
basic_result<protocol_version, decode_error> peek_connect_version(const frame& f);

}  // namespace mqttspec::codec
