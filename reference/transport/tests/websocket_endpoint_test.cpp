// The endpoint of an MQTT-over-WebSocket connection: binary frames become one byte stream however
// MQTT packets and frames line up (MQTT-6.0.0-2), a text frame fails the connection
// (MQTT-6.0.0-1), pings are answered, closes are echoed, and protocol errors close with 1002.
#include "mqttspec/codec/hex.hpp"
#include "mqttspec/transport/websocket/endpoint.hpp"

#include <gtest/gtest.h>

namespace mqttspec::transport::websocket {
namespace {

codec::bytes hex(std::string_view h) { return *codec::from_hex(h); }

endpoint server() { return endpoint({role::server, {}, nullptr}); }
endpoint client() { return endpoint({role::client, {}, [] { return 0x37fa213du; }}); }

// A client's frame, masked with a fixed key.
codec::bytes from_client(opcode op, codec::bytes_view payload, bool fin = true) {
  return encode_frame(op, payload, fin, 0x11223344u);
}

struct outcome {
  codec::bytes data, sent;
  std::optional<closed> end;
};

outcome collect(const std::vector<event>& events) {
  outcome o;
  for (const auto& e : events) {
    if (auto* d = std::get_if<data>(&e)) o.data += d->bytes;
    else if (auto* t = std::get_if<transmit>(&e)) o.sent += t->bytes;
    else o.end = std::get<closed>(e);
  }
  return o;
}

// CONNECT (3.1.1, client id "a") and PINGREQ, as hand-written bytes.
const codec::bytes kConnect = hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61");
const codec::bytes kPingreq = hex("c0 00");

TEST(websocket_endpoint, packets_and_frames_need_not_line_up) {
  const auto stream = kConnect + kPingreq;
  // Two packets in one frame; one packet over two frames; one packet over a fragmented message.
  const std::vector<codec::bytes> framings{
      from_client(opcode::binary, stream),
      from_client(opcode::binary, stream.substr(0, 5)) + from_client(opcode::binary, stream.substr(5)),
      from_client(opcode::binary, stream.substr(0, 3), false) + from_client(opcode::continuation, stream.substr(3, 10), false) +
          from_client(opcode::continuation, stream.substr(13), true),
  };
  for (const auto& wire : framings) {
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      auto ep = server();
      auto o = collect(ep.receive(codec::bytes_view(wire).substr(0, cut)));
      auto o2 = collect(ep.receive(codec::bytes_view(wire).substr(cut)));
      EXPECT_EQ(o.data + o2.data, stream) << "cut " << cut;
      EXPECT_TRUE(o.sent.empty() && o2.sent.empty());
      EXPECT_FALSE(o.end || o2.end);
    }
  }
}

TEST(websocket_endpoint, text_frame_fails_the_connection_with_1003) {
  auto ep = server();
  auto o = collect(ep.receive(from_client(opcode::binary, kConnect) + from_client(opcode::text, kPingreq)));
  EXPECT_EQ(o.data, kConnect);  // what came before the text frame is still delivered
  ASSERT_TRUE(o.end);
  EXPECT_EQ(o.end->error, make_error_code(errc::text_frame));
  EXPECT_EQ(o.end->code, 1003);
  EXPECT_EQ(o.sent, hex("88 02 03 eb"));  // server close frame, unmasked, status 1003
  EXPECT_TRUE(ep.is_closed());
  EXPECT_TRUE(collect(ep.receive(from_client(opcode::binary, kPingreq))).data.empty());  // nothing after the end
  // A text frame split across reads fails as soon as its header is in.
  auto ep2 = server();
  auto t = from_client(opcode::text, "hello");
  EXPECT_FALSE(collect(ep2.receive(t.substr(0, 1))).end);
  EXPECT_TRUE(collect(ep2.receive(t.substr(1, 6))).end);
}

TEST(websocket_endpoint, ping_is_answered_with_the_same_payload) {
  auto ep = server();
  auto o = collect(ep.receive(from_client(opcode::ping, "Hello")));
  EXPECT_EQ(o.sent, hex("8a 05 48 65 6c 6c 6f"));  // unmasked pong "Hello"
  auto c = client();
  auto oc = collect(c.receive(hex("89 05 48 65 6c 6c 6f")));
  EXPECT_EQ(oc.sent, hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"));  // RFC 6455 5.7 masked pong
  EXPECT_TRUE(collect(ep.receive(from_client(opcode::pong, "x"))).sent.empty());
}

TEST(websocket_endpoint, close_is_echoed) {
  auto ep = server();
  auto o = collect(ep.receive(from_client(opcode::close, hex("03 e8") + "bye")));
  ASSERT_TRUE(o.end);
  EXPECT_FALSE(o.end->error);
  EXPECT_EQ(o.end->code, 1000);
  EXPECT_EQ(o.end->reason, "bye");
  EXPECT_EQ(o.sent, hex("88 02 03 e8"));
  // An empty close is answered with an empty close.
  auto ep2 = server();
  auto o2 = collect(ep2.receive(from_client(opcode::close, "")));
  EXPECT_EQ(o2.end->code, 1005);
  EXPECT_EQ(o2.sent, hex("88 00"));
  // After our own close, the peer's close ends it without a second close frame.
  auto ep3 = server();
  EXPECT_EQ(ep3.close(1000), hex("88 02 03 e8"));
  EXPECT_TRUE(ep3.close(1000).empty());
  auto o3 = collect(ep3.receive(from_client(opcode::binary, "late") + from_client(opcode::close, hex("03 e8"))));
  EXPECT_TRUE(o3.data.empty());
  EXPECT_TRUE(o3.sent.empty());
  EXPECT_TRUE(o3.end);
}

TEST(websocket_endpoint, bad_close_frames_fail_with_their_code) {
  const struct {
    codec::bytes payload;
    errc want;
    std::uint16_t code;
  } cases[] = {
      {hex("03"), errc::bad_close_payload, 1002},
      {hex("03 e7"), errc::bad_close_code, 1002},  // 999
      {hex("03 ee"), errc::bad_close_code, 1002},  // 1006 is never sent
      {hex("03 ed"), errc::bad_close_code, 1002},  // 1005 is never sent
      {hex("0b b7"), errc::bad_close_code, 1002},  // 2999
      {hex("03 e8 c0 af"), errc::close_reason_not_utf8, 1007},  // overlong '/'
      {hex("03 e8 ed a0 80"), errc::close_reason_not_utf8, 1007},  // a surrogate
      {hex("03 e8 e2 82"), errc::close_reason_not_utf8, 1007},  // truncated
  };
  for (const auto& c : cases) {
    auto ep = server();
    auto o = collect(ep.receive(from_client(opcode::close, c.payload)));
    ASSERT_TRUE(o.end) << codec::to_hex(c.payload);
    EXPECT_EQ(o.end->error, make_error_code(c.want)) << codec::to_hex(c.payload);
    EXPECT_EQ(o.end->code, c.code);
  }
  auto ep = server();
  auto ok = collect(ep.receive(from_client(opcode::close, hex("0f a0") + "\xc3\xa9t\xc3\xa9")));  // 4000, "été"
  EXPECT_FALSE(ok.end->error);
  EXPECT_EQ(ok.end->code, 4000);
}

TEST(websocket_endpoint, protocol_errors_close_with_1002_and_size_with_1009) {
  auto ep = server();
  auto o = collect(ep.receive(hex("82 00")));  // unmasked client frame
  ASSERT_TRUE(o.end);
  EXPECT_EQ(o.end->error, make_error_code(errc::unmasked_frame));
  EXPECT_EQ(o.sent, hex("88 02 03 ea"));
  endpoint small({role::server, decoder_limits{16}, nullptr});
  auto o2 = collect(small.receive(from_client(opcode::binary, codec::bytes(17, 'x'))));
  EXPECT_EQ(o2.end->code, 1009);
  auto c = client();
  auto o3 = collect(c.receive(hex("09 00")));  // fragmented ping from the server
  EXPECT_EQ(o3.end->error, make_error_code(errc::fragmented_control));
  EXPECT_EQ(o3.sent.substr(0, 2), hex("88 82"));  // the client's close is masked
}

TEST(websocket_endpoint, client_frames_are_masked_server_frames_are_not) {
  auto c = client();
  EXPECT_EQ(c.frame(opcode::text, "Hello", true), hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"));
  auto s = server();
  EXPECT_EQ(s.wrap(kPingreq), hex("82 02 c0 00"));
}

// Hostile input: pseudo-random frames (valid headers, random payloads and opcodes) never crash
// either role, and nothing comes out after `closed`.
TEST(websocket_endpoint, random_input_never_crashes) {
  std::uint32_t state = 7;
  auto rnd = [&] { return state = state * 1664525u + 1013904223u; };
  for (int round = 0; round < 2000; ++round) {
    for (auto self : {role::client, role::server}) {
      endpoint ep({self, decoder_limits{512}, [] { return 1u; }});
      codec::bytes in;
      const auto frames = rnd() % 6;
      for (std::uint32_t f = 0; f < frames; ++f) {
        codec::bytes payload(rnd() % 40, '\0');
        for (auto& c : payload) c = static_cast<char>(rnd() >> 24);
        const std::optional<std::uint32_t> mask = self == role::server ? std::optional<std::uint32_t>(rnd()) : std::nullopt;
        in += encode_frame(static_cast<std::uint8_t>(rnd() % 16), payload, rnd() % 4 != 0, mask);
      }
      if (rnd() % 3 == 0 && !in.empty()) in[rnd() % in.size()] = static_cast<char>(rnd() >> 24);  // one byte flipped
      bool ended = false;
      for (std::size_t at = 0; at < in.size();) {
        const auto n = std::min<std::size_t>(in.size() - at, 1 + rnd() % 16);
        auto events = ep.receive(codec::bytes_view(in).substr(at, n));
        at += n;
        if (ended) {
          EXPECT_TRUE(events.empty());
        }
        for (const auto& e : events) ended = ended || std::holds_alternative<closed>(e);
      }
    }
  }
}

TEST(websocket_endpoint, utf8) {
  EXPECT_TRUE(is_utf8(""));
  EXPECT_TRUE(is_utf8(std::string("a\0b", 3)));  // U+0000 is fine in WebSocket text
  EXPECT_TRUE(is_utf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_utf8("\x80"));
  EXPECT_FALSE(is_utf8("\xc3"));
}

}  // namespace
}  // namespace mqttspec::transport::websocket
