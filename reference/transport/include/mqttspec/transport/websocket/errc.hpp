#pragma once
// Why a WebSocket handshake or frame was refused (RFC 6455), as std::error_code values, each with
// the close status code an endpoint sends when it fails the connection for that reason.
#include <cstdint>
#include <string>
#include <system_error>

namespace mqttspec::transport::websocket {

enum class errc {
  // Not an error: the input so far is a valid prefix; feed more bytes.
  need_more = 1,

  // Opening handshake (section 4), either side.
  head_too_large,      // no end of the HTTP head within the limit
  malformed_http,      // request/status line or a header line that does not parse
  not_get,             // the request method is not GET (4.2.1)
  bad_http_version,    // below HTTP/1.1
  missing_host,        // no Host header (4.2.1)
  missing_upgrade,     // no "Upgrade: websocket"
  missing_connection,  // no "upgrade" token in Connection
  bad_version,         // Sec-WebSocket-Version is not 13 (answered with 426)
  bad_key,             // Sec-WebSocket-Key is not the base64 of 16 bytes
  no_mqtt_subprotocol, // the client offers neither "mqtt" nor "mqttv3.1" (MQTT-6.0.0-3)
  bad_status,          // the server answered something else than 101
  bad_accept,          // Sec-WebSocket-Accept does not match the key
  unexpected_extension,  // the server chose an extension nobody offered

  // Framing (section 5).
  reserved_bits,         // RSV1-3 set without an extension that defines them
  reserved_opcode,       // opcodes 3-7 and 11-15
  fragmented_control,    // a control frame without FIN
  control_too_long,      // a control frame payload above 125 bytes
  unmasked_frame,        // a client's frame without a mask (5.1)
  masked_frame,          // a server's frame with a mask (5.1)
  non_minimal_length,    // a payload length in more bytes than needed (5.2)
  length_msb_set,        // a 64-bit payload length with its top bit set (5.2)
  frame_too_large,       // above the receiver's payload limit
  unexpected_continuation,  // a continuation frame with no message open
  expected_continuation,    // a new data frame while a message is still open
  bad_close_payload,     // a close frame with a 1-byte payload
  bad_close_code,        // a close status code no endpoint may send (7.4)
  close_reason_not_utf8, // the reason of a close frame is not UTF-8 (8.1)

  // MQTT over WebSocket (MQTT 3.1.1 and 5.0 section 6).
  text_frame,  // MQTT travels only in binary data frames (MQTT-6.0.0-1)
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

// The close status code for failing a connection because of `e` (7.4.1): 1002 protocol error,
// 1003 unsupported data, 1007 invalid payload data, 1009 message too big.
std::uint16_t close_code_for(std::error_code e) noexcept;

}  // namespace mqttspec::transport::websocket

template <>
struct std::is_error_code_enum<mqttspec::transport::websocket::errc> : std::true_type {};
