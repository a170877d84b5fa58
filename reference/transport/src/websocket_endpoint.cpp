#include "mqttspec/transport/websocket/endpoint.hpp"

namespace mqttspec::transport::websocket {
namespace {

// Status codes a peer may put in a close frame (7.4.1 and the IANA registry; 3000-4999 are for
// libraries and applications). 1005 and 1006 only ever stand for "none" and "abnormal" locally.
bool sendable_close_code(std::uint16_t c) {
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

}  // namespace

bool is_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
    else return false;
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

std::string closed::describe() const {
  std::string s = error ? "WebSocket failed: " + error.message() + " (sent close " + std::to_string(code) + ")"
                        : "WebSocket close " + std::to_string(code);
  if (!reason.empty()) s += " \"" + reason + "\"";
  return s;
}

endpoint::endpoint(endpoint_options o) : o_(std::move(o)), decoder_(o_.self, o_.limits) {}

codec::bytes endpoint::frame(std::uint8_t op, codec::bytes_view payload, bool fin) {
  std::optional<std::uint32_t> mask;
  if (o_.self == role::client) mask = o_.mask_key ? o_.mask_key() : 0u;
  return encode_frame(op, payload, fin, mask);
}

codec::bytes endpoint::close(std::uint16_t code, std::string_view reason) {
  if (close_sent_) return {};
  close_sent_ = true;
  codec::bytes payload;
  if (code != 1005) {  // 1005 is "no status code": an empty close payload
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason.substr(0, 123));  // a control frame holds at most 125 bytes
  }
  return frame(opcode::close, payload, true);
}

void endpoint::fail(std::error_code e, std::vector<event>& out) {
  const auto code = close_code_for(e);
  if (auto bytes = close(code); !bytes.empty()) out.push_back(transmit{std::move(bytes)});
  out.push_back(closed{code, {}, e});
  done_ = true;
}

void endpoint::on_control(const frame_part& p, std::vector<event>& out) {
  if (p.op == opcode::ping) {
    if (!close_sent_) out.push_back(transmit{frame(opcode::pong, p.payload, true)});
    return;
  }
  if (p.op != opcode::close) return;  // a pong: nothing to do (we never ping)
  closed c;
  if (p.payload.size() == 1) return fail(make_error_code(errc::bad_close_payload), out);
  if (p.payload.size() >= 2) {
    c.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(p.payload[0]) << 8) | static_cast<std::uint8_t>(p.payload[1]));
    if (!sendable_close_code(c.code)) return fail(make_error_code(errc::bad_close_code), out);
    c.reason = p.payload.substr(2);
    if (!is_utf8(c.reason)) return fail(make_error_code(errc::close_reason_not_utf8), out);
  }
  // Echo the status code (5.5.1) unless our own close went first.
  if (auto bytes = close(c.code); !bytes.empty()) out.push_back(transmit{std::move(bytes)});
  out.push_back(std::move(c));
  done_ = true;
}

std::vector<event> endpoint::receive(codec::bytes_view bytes) {
  std::vector<event> out;
  if (done_) return out;
  decoder_.feed(bytes);
  for (;;) {
    auto p = decoder_.next();
    if (!p) {
      if (p.error() != errc::need_more) fail(p.error(), out);
      break;
    }
    if (is_control(p->op)) {
      on_control(*p, out);
      if (done_) break;
      continue;
    }
    // The first byte of a text frame fails the connection: MQTT-6.0.0-1.
    if (p->op != opcode::binary) {
      fail(make_error_code(errc::text_frame), out);
      break;
    }
    if (close_sent_ || p->payload.empty()) continue;  // after our close, data is discarded (5.5.1)
    if (!out.empty() && std::holds_alternative<data>(out.back())) std::get<data>(out.back()).bytes += p->payload;
    else out.push_back(data{std::move(p->payload)});
  }
  return out;
}

}  // namespace mqttspec::transport::websocket
