// Target `websocket`: the WebSocket layer that the broker (--ws-port) and the runner (ws://) put
// in front of the MQTT framer; it reads the peer's bytes before MQTT does. Byte 0 picks the mode:
//   frames (even): the rest is fed to an endpoint whose role bit 1 picks, once whole and once
//     split at points byte 1 seeds. Oracles: the outcome (MQTT bytes, bytes sent back, how it
//     closed) does not depend on the split; nothing comes out after `closed`; a failed connection
//     sends the close code of its error; the data re-wrapped by the peer's role decodes to itself.
//   handshake (odd): the rest is an HTTP head, parsed as a client's upgrade request (and, for the
//     client side, as a server's answer). An accepted request's 101 response must pass the
//     client's check with the same subprotocol; a refused one gets an HTTP answer that ends.
//   Both modes also check is_utf8 against the table of RFC 3629 section 4.
#include "fuzz_common.hpp"
#include "mqttspec/transport/websocket/endpoint.hpp"
#include "mqttspec/transport/websocket/handshake.hpp"

namespace {

namespace ws = mqttspec::transport::websocket;
using mqttspec::codec::bytes;
using mqttspec::codec::bytes_view;

// What an endpoint made of a byte stream, whatever the chunking.
struct outcome {
  bytes data;
  bytes sent;
  bool closed = false;
  std::uint16_t code = 0;
  std::string reason;
  std::error_code error;
  bool operator==(const outcome&) const = default;
};

ws::endpoint make_endpoint(ws::role r) {
  return ws::endpoint(ws::endpoint_options{r, {}, [] { return 0x5a17c3e9u; }});
}

void absorb(outcome& o, std::vector<ws::event> events) {
  for (auto& e : events) {
    MQTTSPEC_FUZZ_CHECK(!o.closed, "an event after `closed`");
    if (auto* d = std::get_if<ws::data>(&e)) {
      MQTTSPEC_FUZZ_CHECK(!d->bytes.empty(), "an empty data event");
      o.data += d->bytes;
    } else if (auto* t = std::get_if<ws::transmit>(&e)) {
      o.sent += t->bytes;
    } else {
      const auto& c = std::get<ws::closed>(e);
      o.closed = true;
      o.code = c.code;
      o.reason = c.reason;
      o.error = c.error;
      if (c.error) MQTTSPEC_FUZZ_CHECK(c.code == ws::close_code_for(c.error), "close code is not its error's");
    }
  }
}

void fuzz_frames(ws::role self, std::uint8_t split_seed, bytes_view input) {
  outcome whole;
  auto a = make_endpoint(self);
  absorb(whole, a.receive(input));
  if (whole.closed) MQTTSPEC_FUZZ_CHECK(a.is_closed() && a.receive(input).empty(), "a closed endpoint still reads");

  outcome split;
  auto b = make_endpoint(self);
  std::uint32_t state = split_seed * 2654435761u + 1;
  for (std::size_t pos = 0; pos < input.size();) {
    state = state * 1103515245u + 12345u;
    const std::size_t n = std::min<std::size_t>(input.size() - pos, 1 + (state >> 16) % 17);
    absorb(split, b.receive(input.substr(pos, n)));
    pos += n;
  }
  MQTTSPEC_FUZZ_CHECK(whole == split, "the outcome depends on how the bytes were split");

  // What the peer would have sent to carry this data: one binary frame in its role.
  if (!whole.data.empty()) {
    const auto peer = self == ws::role::server ? ws::role::client : ws::role::server;
    auto sender = make_endpoint(peer);
    auto receiver = make_endpoint(self);
    outcome again;
    absorb(again, receiver.receive(sender.wrap(whole.data)));
    MQTTSPEC_FUZZ_CHECK(again.data == whole.data && !again.closed && again.sent.empty(),
                        "a binary frame does not carry its payload");
  }
}

void fuzz_handshake(std::string_view input) {
  auto end = ws::find_head_end(bytes_view(input.data(), input.size()));
  if (!end) return;
  MQTTSPEC_FUZZ_CHECK(*end <= input.size(), "head end past the input");
  const auto head = input.substr(0, *end);

  // The client side reads a server's answer: it must not crash, whatever it says.
  (void)ws::check_upgrade_response(head, "dGhlIHNhbXBsZSBub25jZQ==");

  auto request = ws::parse_upgrade_request(head);
  if (!request) {
    const bytes answer = ws::make_rejection(request.error());
    auto n = ws::find_head_end(bytes_view(answer));
    MQTTSPEC_FUZZ_CHECK(n && answer.starts_with("HTTP/1.1 4"), "a refusal is not an HTTP 4xx answer");
    return;
  }
  auto protocol = ws::select_subprotocol(request->protocols);
  if (!protocol) return;
  const bytes response = ws::make_upgrade_response(*request, *protocol);
  auto n = ws::find_head_end(bytes_view(response));
  MQTTSPEC_FUZZ_CHECK(n && *n == response.size(), "the 101 response is not one HTTP head");
  auto checked = ws::check_upgrade_response(response, request->key);
  MQTTSPEC_FUZZ_CHECK(checked.has_value(), "our 101 response fails our client's check: " + checked.error().message());
  MQTTSPEC_FUZZ_CHECK(checked->protocol == protocol, "the subprotocol changed on the way");
}

// RFC 3629 section 4, one lead-byte range at a time: a different shape from ws::is_utf8.
bool reference_utf8(std::string_view s) {
  auto in = [](unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; };
  for (std::size_t i = 0; i < s.size();) {
    const auto b = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    const auto tail = [&](std::size_t k) { return i + k < s.size() && in(b(k), 0x80, 0xBF); };
    const unsigned char c = b(0);
    if (c <= 0x7F) { i += 1; continue; }
    std::size_t len = 0;
    if (in(c, 0xC2, 0xDF)) len = tail(1) ? 2 : 0;
    else if (c == 0xE0) len = i + 1 < s.size() && in(b(1), 0xA0, 0xBF) && tail(2) ? 3 : 0;
    else if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) len = tail(1) && tail(2) ? 3 : 0;
    else if (c == 0xED) len = i + 1 < s.size() && in(b(1), 0x80, 0x9F) && tail(2) ? 3 : 0;
    else if (c == 0xF0) len = i + 1 < s.size() && in(b(1), 0x90, 0xBF) && tail(2) && tail(3) ? 4 : 0;
    else if (in(c, 0xF1, 0xF3)) len = tail(1) && tail(2) && tail(3) ? 4 : 0;
    else if (c == 0xF4) len = i + 1 < s.size() && in(b(1), 0x80, 0x8F) && tail(2) && tail(3) ? 4 : 0;
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mqttspec::fuzz::input_reader in(data, size);
  const auto mode = in.u8();
  if (mode % 2 == 0) {
    const auto split_seed = in.u8();
    const auto rest = in.rest();
    fuzz_frames(mode & 2 ? ws::role::client : ws::role::server, split_seed, bytes_view(rest.data(), rest.size()));
    MQTTSPEC_FUZZ_CHECK(ws::is_utf8(rest) == reference_utf8(rest), "is_utf8 disagrees with RFC 3629");
  } else {
    const auto rest = in.rest();
    fuzz_handshake(rest);
    MQTTSPEC_FUZZ_CHECK(ws::is_utf8(rest) == reference_utf8(rest), "is_utf8 disagrees with RFC 3629");
  }
  return 0;
}
