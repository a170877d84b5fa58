// The broker's WebSocket listener as a client sees it (MQTT section 6, RFC 6455): a blocking
// loopback socket, the upgrade request and frames built by the transport library, and the
// broker's answers compared with bytes written by hand.
#include "mqttspec/broker/server.hpp"
#include "mqttspec/codec/hex.hpp"
#include "mqttspec/transport/websocket/frame.hpp"
#include "mqttspec/transport/websocket/handshake.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace mqttspec::broker::test {
namespace {

namespace ws = transport::websocket;
using namespace std::chrono_literals;

codec::bytes hex(std::string_view h) { return *codec::from_hex(h); }

// CONNECT 3.1.1, clean session, keep alive 60, client id "a"; its CONNACK; PINGREQ and PINGRESP.
const codec::bytes kConnect = hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61");
const codec::bytes kConnackFrame = hex("82 04 20 02 00 00");
const codec::bytes kPingreq = hex("c0 00");
const codec::bytes kPingrespFrame = hex("82 02 d0 00");

class raw_socket {
 public:
  explicit raw_socket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ADD_FAILURE() << "connect failed";
  }
  ~raw_socket() { ::close(fd_); }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  void send(codec::bytes_view b) {
    while (!b.empty()) {
      const auto n = ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      b.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // A client frame (masked, as clients must).
  void send_frame(ws::opcode op, codec::bytes_view payload, bool fin = true) {
    send(ws::encode_frame(op, payload, fin, 0x5a5a0f0fu));
  }
  // Reads until `n` bytes are buffered, the peer closes, or 5 s pass; returns and consumes up to n.
  codec::bytes read(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (buffer_.size() < n && !eof_ && std::chrono::steady_clock::now() < deadline) fill(deadline);
    auto out = buffer_.substr(0, std::min(n, buffer_.size()));
    buffer_.erase(0, out.size());
    return out;
  }
  // The HTTP head of the answer.
  std::string read_head() {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      if (auto end = ws::find_head_end(buffer_)) {
        auto head = buffer_.substr(0, *end);
        buffer_.erase(0, *end);
        return head;
      }
      if (eof_ || std::chrono::steady_clock::now() >= deadline) return buffer_;
      fill(deadline);
    }
  }
  // Whether the peer closes (EOF) within 5 s with nothing more sent.
  bool closed_with_nothing_more() {
    read(1);
    return eof_ && buffer_.empty();
  }
  codec::bytes buffer_;

 private:
  void fill(std::chrono::steady_clock::time_point deadline) {
    pollfd p{fd_, POLLIN, 0};
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(ms.count(), 0))) <= 0) return;
    char tmp[4096];
    const auto n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) eof_ = true;
    else buffer_.append(tmp, static_cast<std::size_t>(n));
  }
  int fd_ = -1;
  bool eof_ = false;
};

ws::client_request request(std::vector<std::string> protocols = {"mqtt"}) {
  ws::client_request r;
  r.host = "127.0.0.1";
  r.key = "dGhlIHNhbXBsZSBub25jZQ==";
  r.protocols = std::move(protocols);
  return r;
}

class websocket_server : public ::testing::Test {
 protected:
  static server_options options() {
    auto o = embedded_broker::default_options();
    o.ws_port = 0;
    return o;
  }
  // A connection whose handshake succeeded.
  std::unique_ptr<raw_socket> upgraded() {
    auto s = std::make_unique<raw_socket>(broker_.ws_port());
    s->send(ws::make_upgrade_request(request()));
    auto head = s->read_head();
    auto r = ws::check_upgrade_response(head, request().key);
    EXPECT_TRUE(r) << head;
    if (r) {
      EXPECT_EQ(r->protocol, "mqtt");  // MQTT-6.0.0-4
    }
    return s;
  }
  std::unique_ptr<raw_socket> connected() {
    auto s = upgraded();
    s->send_frame(ws::opcode::binary, kConnect);
    EXPECT_EQ(codec::to_hex(s->read(kConnackFrame.size())), codec::to_hex(kConnackFrame));
    return s;
  }
  embedded_broker broker_{options()};
};

TEST_F(websocket_server, listens_besides_the_plain_port) {
  EXPECT_NE(broker_.ws_port(), 0);
  EXPECT_NE(broker_.ws_port(), broker_.port());
}

TEST_F(websocket_server, handshake_selects_mqtt_and_connack_comes_in_a_binary_frame) {
  auto s = connected();
  s->send_frame(ws::opcode::binary, kPingreq);
  EXPECT_EQ(codec::to_hex(s->read(kPingrespFrame.size())), codec::to_hex(kPingrespFrame));
}

// MQTT-6.0.0-2: two packets in one frame, and a packet cut at every offset over two frames.
TEST_F(websocket_server, packets_need_not_line_up_with_frames) {
  auto s = upgraded();
  s->send_frame(ws::opcode::binary, kConnect + kPingreq);
  EXPECT_EQ(codec::to_hex(s->read(kConnackFrame.size() + kPingrespFrame.size())),
            codec::to_hex(kConnackFrame + kPingrespFrame));
  for (std::size_t cut = 1; cut < kConnect.size(); ++cut) {
    auto c = upgraded();
    c->send_frame(ws::opcode::binary, codec::bytes_view(kConnect).substr(0, cut));
    c->send_frame(ws::opcode::binary, codec::bytes_view(kConnect).substr(cut));
    EXPECT_EQ(codec::to_hex(c->read(kConnackFrame.size())), codec::to_hex(kConnackFrame)) << "cut " << cut;
  }
  // One message in three frames, with a ping between two of them.
  auto f = upgraded();
  f->send_frame(ws::opcode::binary, codec::bytes_view(kConnect).substr(0, 4), false);
  f->send_frame(ws::opcode::ping, "p");
  f->send_frame(ws::opcode::continuation, codec::bytes_view(kConnect).substr(4, 4), false);
  f->send_frame(ws::opcode::continuation, codec::bytes_view(kConnect).substr(8), true);
  EXPECT_EQ(codec::to_hex(f->read(3 + kConnackFrame.size())), codec::to_hex(hex("8a 01 70") + kConnackFrame));
}

// The next bytes from the broker are `want` (hex), then the connection closes.
::testing::AssertionResult sends_then_closes(raw_socket& s, std::string_view want) {
  const auto expected = hex(want);
  const auto got = s.read(expected.size());
  if (got != expected)
    return ::testing::AssertionFailure() << "expected " << want << ", observed " << codec::to_hex(got, " ");
  if (!s.closed_with_nothing_more())
    return ::testing::AssertionFailure() << "still open, or more bytes: " << codec::to_hex(s.buffer_, " ");
  return ::testing::AssertionSuccess();
}

// MQTT-6.0.0-1: a text frame closes the connection (close 1003, unsupported data), after CONNECT
// or instead of it.
TEST_F(websocket_server, text_frame_closes_the_connection) {
  auto s = connected();
  s->send_frame(ws::opcode::text, kPingreq);
  EXPECT_TRUE(sends_then_closes(*s, "88 02 03 eb"));
  auto t = upgraded();
  t->send_frame(ws::opcode::text, kConnect);
  EXPECT_TRUE(sends_then_closes(*t, "88 02 03 eb"));
  // Reserved data opcodes are no binary frames either: a protocol error (1002).
  auto r = connected();
  r->send(ws::encode_frame(std::uint8_t{0x3}, kPingreq, true, 0x01020304u));
  EXPECT_TRUE(sends_then_closes(*r, "88 02 03 ea"));
}

TEST_F(websocket_server, ping_is_answered_and_close_is_echoed) {
  auto s = connected();
  s->send_frame(ws::opcode::ping, "Hello");
  EXPECT_EQ(codec::to_hex(s->read(7), " "), "8a 05 48 65 6c 6c 6f");
  s->send_frame(ws::opcode::close, hex("03 e8"));
  EXPECT_TRUE(sends_then_closes(*s, "88 02 03 e8"));
}

TEST_F(websocket_server, mqtt_disconnect_ends_with_a_close_frame) {
  auto s = connected();
  s->send_frame(ws::opcode::binary, hex("e0 00"));
  EXPECT_TRUE(sends_then_closes(*s, "88 02 03 e8"));
}

// Hostile frames end the connection with a close frame naming the error class, never a crash.
TEST_F(websocket_server, protocol_errors_close_with_1002) {
  const char* frames[] = {
      "82 02 c0 00",                                     // not masked
      "89 00 00 00 00 00",                               // fragmented ping (FIN clear)
      "c2 80 00 00 00 00",                               // RSV1 without an extension
      "80 80 00 00 00 00",                               // continuation of nothing
      "82 fe 00 05 00 00 00 00 c0 00 00 00 00",          // non-minimal length
      "82 ff 80 00 00 00 00 00 00 00 00 00 00 00",       // 64-bit length with the top bit set
      "88 81 00 00 00 00 03",                            // close with a 1-byte payload
      "89 fe 00 7e 00 00 00 00",                         // ping of 126 bytes
      "83 80 00 00 00 00",                               // reserved data opcode
  };
  for (const char* f : frames) {
    auto s = connected();
    s->send(hex(f));
    EXPECT_TRUE(sends_then_closes(*s, "88 02 03 ea")) << f;
  }
}

// A frame above the limit (here 1 TiB announced) is refused from its header: close 1009.
TEST_F(websocket_server, oversized_frame_closes_with_1009) {
  auto s = connected();
  s->send(hex("82 ff 00 00 01 00 00 00 00 00 00 00 00 00"));
  EXPECT_TRUE(sends_then_closes(*s, "88 02 03 f1"));
}

TEST_F(websocket_server, bad_handshakes_are_refused_with_http_errors) {
  const struct {
    codec::bytes request;
    std::string status;
  } cases[] = {
      {ws::make_upgrade_request(request({"chat"})), "HTTP/1.1 400"},  // no "mqtt" offered
      {ws::make_upgrade_request(request({})), "HTTP/1.1 400"},
      {[] {
         auto r = ws::make_upgrade_request(request());
         return r.replace(r.find("Version: 13"), 11, "Version: 8");
       }(),
       "HTTP/1.1 426"},
      {kConnect, "HTTP/1.1 400"},  // MQTT straight to the WebSocket port
      {"GET /mqtt HTTP/1.1\r\n" + std::string(9000, 'x'), "HTTP/1.1 400"},  // a head that never ends
  };
  for (const auto& c : cases) {
    raw_socket s(broker_.ws_port());
    s.send(c.request);
    const auto head = s.read_head();
    EXPECT_EQ(head.rfind(c.status, 0), 0u) << head;
  }
  // mqttv3.1 is accepted for MQTT 3.1 clients.
  raw_socket old(broker_.ws_port());
  old.send(ws::make_upgrade_request(request({"mqttv3.1"})));
  auto r = ws::check_upgrade_response(old.read_head(), request().key);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->protocol, "mqttv3.1");
}

// A client that opens the WebSocket port and sends nothing is closed by the CONNECT timeout.
TEST(websocket_server_timeout, silent_client_is_closed) {
  auto o = embedded_broker::default_options();
  o.ws_port = 0;
  o.core.limits.connect_timeout = 200;
  embedded_broker b(o);
  raw_socket s(b.ws_port());
  EXPECT_TRUE(s.closed_with_nothing_more());
}

}  // namespace
}  // namespace mqttspec::broker::test
