// Uses the installed package the way a user's test would: decodes a packet with mqttspec::codec,
// then starts mqttspec::broker::embedded_broker on a free port, sends a CONNECT over a plain socket
// and decodes the CONNACK that comes back. Prints "consumer: ok" and exits 0 on success.
#include <mqttspec/broker/embedded.hpp>
#include <mqttspec/codec/decode.hpp>
#include <mqttspec/codec/hex.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <variant>

namespace codec = mqttspec::codec;

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "consumer: %s\n", what);
  return 1;
}

}  // namespace

int main() {
  // 1. The codec alone: a 3.1.1 PUBLISH of "hi" on topic "a/b", QoS 0.
  const auto publish_bytes = codec::from_hex("30 07 00 03 61 2f 62 68 69");
  if (!publish_bytes) return fail("from_hex refused valid hex");
  const auto decoded = codec::decode(codec::bytes_view(*publish_bytes), codec::protocol_version::v3_1_1);
  if (!decoded) return fail("decode refused a valid PUBLISH");
  const auto* pub = std::get_if<codec::publish>(&decoded.value());
  if (pub == nullptr || pub->topic != "a/b" || pub->payload != "hi") return fail("PUBLISH decoded wrong");

  // 2. The embedded broker on a free port of 127.0.0.1, and a CONNACK for a 5.0 CONNECT.
  mqttspec::broker::embedded_broker broker;
  if (broker.port() == 0) return fail("embedded broker has no port");

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return fail("socket");
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(broker.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return ::close(fd), fail("connect");

  // CONNECT, MQTT 5.0, clean start, keep alive 60, no properties, client id "c1".
  const auto connect_bytes = codec::from_hex("10 0f 00 04 4d 51 54 54 05 02 00 3c 00 00 02 63 31");
  if (!connect_bytes || ::send(fd, connect_bytes->data(), connect_bytes->size(), 0) != static_cast<ssize_t>(connect_bytes->size()))
    return ::close(fd), fail("send CONNECT");

  codec::framer framer;
  for (;;) {
    auto next = framer.next();
    if (next) {
      const auto reply = codec::decode(*next, codec::protocol_version::v5);
      ::close(fd);
      if (!reply) return fail("the broker's reply does not decode");
      const auto* ack = std::get_if<codec::connack>(&reply.value());
      if (ack == nullptr) return fail("the broker's reply is not a CONNACK");
      if (ack->code != codec::reason_code::success) return fail("CONNACK refused the connection");
      std::printf("consumer: ok (PUBLISH decoded, CONNACK from the embedded broker on port %u)\n",
                  static_cast<unsigned>(broker.port()));
      return 0;
    }
    if (next.error().code != codec::errc::need_more) return ::close(fd), fail("framing error");
    char buf[256];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return ::close(fd), fail("no CONNACK (closed or timed out)");
    framer.feed(codec::bytes_view(buf, static_cast<std::size_t>(n)));
  }
}
