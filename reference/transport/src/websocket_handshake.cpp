#include "mqttspec/transport/websocket/handshake.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace mqttspec::transport::websocket {
namespace {

// The GUID every server appends to the key before hashing (1.3).
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A token character of RFC 7230 (header names, methods).
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Bytes that never occur in an HTTP head: seeing one ends the wait for "\r\n\r\n" at once (an
// MQTT CONNECT sent to a WebSocket port starts with 0x10).
bool is_forbidden_in_head(unsigned char c) { return (c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7F; }

handshake_error fail(errc e, std::string detail = {}) { return {make_error_code(e), std::move(detail)}; }

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(std::max(written, 0)));
  return out;
}

// The base64 encoding of exactly 16 bytes: 22 alphabet characters, the last of which carries only
// 2 data bits (so it is one of A, Q, g, w), then "==" (4.1: "base64-encoded ... 16 bytes").
bool is_valid_key(std::string_view k) {
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (k.size() != 24 || k.substr(22) != "==") return false;
  for (std::size_t i = 0; i < 22; ++i)
    if (alphabet.find(k[i]) == std::string_view::npos) return false;
  return std::string_view("AQgw").find(k[21]) != std::string_view::npos;
}

// "HTTP/1.1" -> true when at least 1.1; nullopt when it is not an HTTP version at all.
std::optional<bool> http_1_1_or_later(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return std::nullopt;
  if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') return std::nullopt;
  return v[5] > '1' || (v[5] == '1' && v[7] >= '1');
}

std::vector<std::string_view> split_spaces(std::string_view line, std::size_t max_parts) {
  std::vector<std::string_view> parts;
  while (!line.empty() && parts.size() + 1 < max_parts) {
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) break;
    parts.push_back(line.substr(0, sp));
    line.remove_prefix(sp + 1);
  }
  parts.push_back(line);
  return parts;
}

}  // namespace

codec::basic_result<std::size_t, std::error_code> find_head_end(codec::bytes_view buffered, std::size_t max) {
  const auto window = buffered.substr(0, std::min(buffered.size(), max));
  for (unsigned char c : window)
    if (is_forbidden_in_head(c)) return make_error_code(errc::malformed_http);
  if (auto end = window.find("\r\n\r\n"); end != std::string_view::npos) return end + 4;
  if (buffered.size() >= max) return make_error_code(errc::head_too_large);
  return make_error_code(errc::need_more);
}

std::optional<std::string> http_head::get(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& [n, v] : headers) {
    if (!iequals(n, name)) continue;
    if (out) *out += ", " + v;
    else out = v;
  }
  return out;
}

bool http_head::has_token(std::string_view name, std::string_view token) const {
  const auto v = get(name);
  if (!v) return false;
  for (const auto& t : split_tokens(*v))
    if (iequals(t, token)) return true;
  return false;
}

std::vector<std::string> split_tokens(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const auto t = trim(value.substr(0, comma));
    if (!t.empty()) out.emplace_back(t);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

handshake_result<http_head> parse_head(std::string_view head) {
  http_head h;
  bool first = true;
  while (!head.empty()) {
    const auto eol = head.find("\r\n");
    if (eol == std::string_view::npos) return fail(errc::malformed_http, "line without CRLF");
    const auto line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (line.empty()) break;  // the end of the head
    for (unsigned char c : line)
      if (is_forbidden_in_head(c) || c == '\r' || c == '\n') return fail(errc::malformed_http, "control character");
    if (first) {
      h.start_line = std::string(line);
      first = false;
      continue;
    }
    // Obsolete line folding (a line starting with whitespace) is refused, as RFC 7230 allows.
    if (line.front() == ' ' || line.front() == '\t') return fail(errc::malformed_http, "folded header line");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(errc::malformed_http, "header line without a name");
    const auto name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_tchar)) return fail(errc::malformed_http, "bad header name");
    if (h.headers.size() >= 100) return fail(errc::malformed_http, "more than 100 headers");
    h.headers.emplace_back(std::string(name), std::string(trim(line.substr(colon + 1))));
  }
  if (first || h.start_line.empty()) return fail(errc::malformed_http, "empty head");
  return h;
}

std::string accept_key(std::string_view key) {
  std::string input(key);
  input += kGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha1(), nullptr) != 1) return {};
  return base64(digest, length);
}

std::string make_key(const std::array<std::uint8_t, 16>& nonce) { return base64(nonce.data(), nonce.size()); }

handshake_result<upgrade_request> parse_upgrade_request(std::string_view head) {
  auto h = parse_head(head);
  if (!h) return h.error();
  const auto parts = split_spaces(h->start_line, 3);
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty())
    return fail(errc::malformed_http, "request line \"" + h->start_line + "\"");
  if (!std::all_of(parts[0].begin(), parts[0].end(), is_tchar))
    return fail(errc::malformed_http, "request line \"" + h->start_line + "\"");
  if (parts[0] != "GET") return fail(errc::not_get, std::string(parts[0]));
  const auto version = http_1_1_or_later(parts[2]);
  if (!version) return fail(errc::malformed_http, "request line \"" + h->start_line + "\"");
  if (!*version) return fail(errc::bad_http_version, std::string(parts[2]));
  upgrade_request r;
  r.path = std::string(parts[1]);
  r.host = h->get("Host").value_or("");
  if (r.host.empty()) return fail(errc::missing_host);
  if (!h->has_token("Upgrade", "websocket")) return fail(errc::missing_upgrade, h->get("Upgrade").value_or("(none)"));
  if (!h->has_token("Connection", "upgrade")) return fail(errc::missing_connection, h->get("Connection").value_or("(none)"));
  const auto ws_version = h->get("Sec-WebSocket-Version");
  if (ws_version != "13") return fail(errc::bad_version, ws_version.value_or("(none)"));
  r.key = h->get("Sec-WebSocket-Key").value_or("");
  if (!is_valid_key(r.key)) return fail(errc::bad_key, r.key.empty() ? "(none)" : r.key);
  r.protocols = split_tokens(h->get("Sec-WebSocket-Protocol").value_or(""));
  return r;
}

std::optional<std::string> select_subprotocol(const std::vector<std::string>& offered) {
  for (const char* wanted : {"mqtt", "mqttv3.1"})
    if (std::find(offered.begin(), offered.end(), wanted) != offered.end()) return std::string(wanted);
  return std::nullopt;
}

codec::bytes make_upgrade_response(const upgrade_request& r, const std::string& protocol) {
  codec::bytes out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  out += "Sec-WebSocket-Accept: " + accept_key(r.key) + "\r\n";
  out += "Sec-WebSocket-Protocol: " + protocol + "\r\n\r\n";
  return out;
}

codec::bytes make_rejection(const handshake_error& e) {
  const bool version = e.code == errc::bad_version;
  const std::string body = e.message() + "\n";
  codec::bytes out = version ? "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n" : "HTTP/1.1 400 Bad Request\r\n";
  out += "Content-Type: text/plain\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

codec::bytes make_upgrade_request(const client_request& r) {
  codec::bytes out = "GET " + r.path + " HTTP/1.1\r\nHost: " + r.host + "\r\n";
  out += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
  out += "Sec-WebSocket-Key: " + r.key + "\r\n";
  if (!r.protocols.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    for (std::size_t i = 0; i < r.protocols.size(); ++i) out += (i ? ", " : "") + r.protocols[i];
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

handshake_result<upgrade_response> check_upgrade_response(std::string_view head, std::string_view key) {
  auto h = parse_head(head);
  if (!h) return h.error();
  const auto parts = split_spaces(h->start_line, 3);
  if (parts.size() < 2 || !http_1_1_or_later(parts[0]) || parts[1].size() != 3)
    return fail(errc::malformed_http, "status line \"" + h->start_line + "\"");
  if (parts[1] != "101") return fail(errc::bad_status, h->start_line);
  if (!h->has_token("Upgrade", "websocket")) return fail(errc::missing_upgrade, h->get("Upgrade").value_or("(none)"));
  if (!h->has_token("Connection", "upgrade")) return fail(errc::missing_connection, h->get("Connection").value_or("(none)"));
  const auto accept = h->get("Sec-WebSocket-Accept").value_or("");
  if (accept != accept_key(key)) return fail(errc::bad_accept, accept.empty() ? "(none)" : accept);
  if (auto ext = h->get("Sec-WebSocket-Extensions"); ext && !split_tokens(*ext).empty())
    return fail(errc::unexpected_extension, *ext);
  upgrade_response r;
  r.protocol = h->get("Sec-WebSocket-Protocol");
  return r;
}

}  // namespace mqttspec::transport::websocket
