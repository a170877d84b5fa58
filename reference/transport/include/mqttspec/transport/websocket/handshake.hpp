#pragma once
// The WebSocket opening handshake (RFC 6455 section 4) for MQTT, sans-I/O: HTTP heads are found
// in, and parsed from, the bytes a caller has read; requests and responses come out as bytes.
// The subprotocol is "mqtt" (MQTT-6.0.0-3, MQTT-6.0.0-4); "mqttv3.1" is still accepted from
// clients of MQTT 3.1, which predates the registered name.
#include "mqttspec/codec/result.hpp"
#include "mqttspec/codec/types.hpp"
#include "mqttspec/transport/websocket/errc.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mqttspec::transport::websocket {

// A refused handshake: the error, and what exactly was wrong (the header value, the status line).
struct handshake_error {
  std::error_code code;
  std::string detail;
  std::string message() const { return detail.empty() ? code.message() : code.message() + ": " + detail; }
};
template <class T>
using handshake_result = codec::basic_result<T, handshake_error>;

// Length of the HTTP head (start line, headers, empty line) at the start of `buffered`:
// errc::need_more while it has not ended, errc::head_too_large when it does not end within `max`.
codec::basic_result<std::size_t, std::error_code> find_head_end(codec::bytes_view buffered, std::size_t max = 8192);

// An HTTP/1.1 head. Header names compare case-insensitively; repeated headers are joined with ", ".
struct http_head {
  std::string start_line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> get(std::string_view name) const;
  // Whether the comma-separated list in header `name` holds `token` (case-insensitively).
  bool has_token(std::string_view name, std::string_view token) const;
};
handshake_result<http_head> parse_head(std::string_view head);

// "Sec-WebSocket-Accept" for a key: base64(SHA-1(key + the GUID of 1.3)), via OpenSSL.
std::string accept_key(std::string_view key);
// A Sec-WebSocket-Key from 16 bytes of nonce (the caller brings the randomness).
std::string make_key(const std::array<std::uint8_t, 16>& nonce);
// The comma-separated tokens of a header value, trimmed, empty ones left out.
std::vector<std::string> split_tokens(std::string_view value);

// Server side.
struct upgrade_request {
  std::string path;
  std::string host;
  std::string key;
  std::vector<std::string> protocols;  // as offered, in order
};
handshake_result<upgrade_request> parse_upgrade_request(std::string_view head);
// "mqtt" when offered, else "mqttv3.1" when offered, else nullopt.
std::optional<std::string> select_subprotocol(const std::vector<std::string>& offered);
// 101 Switching Protocols with the accept key and the selected subprotocol.
codec::bytes make_upgrade_response(const upgrade_request& r, const std::string& protocol);
// The HTTP answer to a refused request: 426 with "Sec-WebSocket-Version: 13" for a wrong version
// (4.2.2), 400 otherwise; the body says why.
codec::bytes make_rejection(const handshake_error& e);

// Client side.
struct client_request {
  std::string host;  // Host header: host[:port]
  std::string path = "/mqtt";
  std::string key;   // make_key(...)
  std::vector<std::string> protocols{"mqtt"};
};
codec::bytes make_upgrade_request(const client_request& r);

struct upgrade_response {
  // The subprotocol the server selected, if any. Not judged here: whether it is "mqtt" is a
  // finding about the server (MQTT-6.0.0-4) that the caller reports.
  std::optional<std::string> protocol;
};
// Checks a server's answer to a request made with `key`: 101, Upgrade, Connection, the accept
// key, no extension (none is offered).
handshake_result<upgrade_response> check_upgrade_response(std::string_view head, std::string_view key);

}  // namespace mqttspec::transport::websocket
