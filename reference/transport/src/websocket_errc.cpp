#include "mqttspec/transport/websocket/errc.hpp"

namespace mqttspec::transport::websocket {
namespace {

class category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "websocket"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::need_more: return "need more bytes";
      case errc::head_too_large: return "HTTP head too large";
      case errc::malformed_http: return "malformed HTTP head";
      case errc::not_get: return "the upgrade request is not a GET";
      case errc::bad_http_version: return "HTTP version below 1.1";
      case errc::missing_host: return "no Host header";
      case errc::missing_upgrade: return "no \"Upgrade: websocket\" header";
      case errc::missing_connection: return "no \"upgrade\" token in the Connection header";
      case errc::bad_version: return "Sec-WebSocket-Version is not 13";
      case errc::bad_key: return "Sec-WebSocket-Key is not the base64 of 16 bytes";
      case errc::no_mqtt_subprotocol: return "the client does not offer the subprotocol \"mqtt\" (MQTT-6.0.0-3)";
      case errc::bad_status: return "the server did not answer 101 Switching Protocols";
      case errc::bad_accept: return "Sec-WebSocket-Accept does not match the key";
      case errc::unexpected_extension: return "the server selected an extension that was not offered";
      case errc::reserved_bits: return "reserved bits RSV1-3 set";
      case errc::reserved_opcode: return "reserved opcode";
      case errc::fragmented_control: return "fragmented control frame";
      case errc::control_too_long: return "control frame payload above 125 bytes";
      case errc::unmasked_frame: return "client frame not masked";
      case errc::masked_frame: return "server frame masked";
      case errc::non_minimal_length: return "payload length not in the minimal number of bytes";
      case errc::length_msb_set: return "64-bit payload length with the most significant bit set";
      case errc::frame_too_large: return "frame payload above the limit";
      case errc::unexpected_continuation: return "continuation frame without a message to continue";
      case errc::expected_continuation: return "new data frame while a fragmented message is open";
      case errc::bad_close_payload: return "close frame with a 1-byte payload";
      case errc::bad_close_code: return "close frame with a status code no endpoint may send";
      case errc::close_reason_not_utf8: return "close reason is not UTF-8";
      case errc::text_frame: return "text frame: MQTT travels in binary frames only (MQTT-6.0.0-1)";
    }
    return "unknown WebSocket error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const category_impl c;
  return c;
}

std::uint16_t close_code_for(std::error_code e) noexcept {
  if (e.category() != category()) return 1011;  // internal error
  switch (static_cast<errc>(e.value())) {
    case errc::frame_too_large: return 1009;
    case errc::close_reason_not_utf8: return 1007;
    case errc::text_frame: return 1003;
    default: return 1002;
  }
}

}  // namespace mqttspec::transport::websocket
