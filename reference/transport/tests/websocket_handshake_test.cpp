// The opening handshake: the key example of RFC 6455 section 1.3, requests and responses written
// by hand, and each refusal with its reason.
#include "mqttspec/transport/websocket/handshake.hpp"

#include <gtest/gtest.h>

namespace mqttspec::transport::websocket {
namespace {

const std::string kKey = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455 1.3
const std::string kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

const std::string kRequest =
    "GET /mqtt HTTP/1.1\r\n"
    "Host: broker.example:9001\r\n"
    "upgrade: WebSocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Protocol: chat, mqtt\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(websocket_handshake, accept_key_of_the_rfc_example) {
  EXPECT_EQ(accept_key(kKey), kAccept);
  // 16 bytes of nonce: "the sample nonce" is the RFC's key.
  const std::string nonce = "the sample nonce";
  std::array<std::uint8_t, 16> n{};
  std::copy(nonce.begin(), nonce.end(), n.begin());
  EXPECT_EQ(make_key(n), kKey);
}

TEST(websocket_handshake, find_head_end) {
  EXPECT_EQ(*find_head_end(kRequest + "extra"), kRequest.size());
  for (std::size_t cut = 0; cut < kRequest.size(); ++cut)
    EXPECT_EQ(find_head_end(std::string_view(kRequest).substr(0, cut)).error(), make_error_code(errc::need_more)) << cut;
  EXPECT_EQ(find_head_end(std::string(9000, 'a')).error(), make_error_code(errc::head_too_large));
  // An MQTT CONNECT sent to a WebSocket port is refused at its first byte.
  EXPECT_EQ(find_head_end(std::string("\x10\x0c\x00\x04MQTT", 8)).error(), make_error_code(errc::malformed_http));
}

TEST(websocket_handshake, server_parses_a_request_and_answers_101_with_mqtt) {
  auto r = parse_upgrade_request(kRequest);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->path, "/mqtt");
  EXPECT_EQ(r->host, "broker.example:9001");
  EXPECT_EQ(r->key, kKey);
  EXPECT_EQ(r->protocols, (std::vector<std::string>{"chat", "mqtt"}));
  EXPECT_EQ(select_subprotocol(r->protocols), "mqtt");
  EXPECT_EQ(make_upgrade_response(*r, "mqtt"),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n");
}

TEST(websocket_handshake, subprotocol_selection) {
  EXPECT_EQ(select_subprotocol({"mqttv3.1", "mqtt"}), "mqtt");
  EXPECT_EQ(select_subprotocol({"mqttv3.1"}), "mqttv3.1");
  EXPECT_EQ(select_subprotocol({"MQTT"}), std::nullopt);  // subprotocol names are case-sensitive
  EXPECT_EQ(select_subprotocol({}), std::nullopt);
  // Repeated headers are joined, so both offers count.
  auto r = parse_upgrade_request(replace(kRequest, "Sec-WebSocket-Protocol: chat, mqtt\r\n",
                                         "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: mqtt\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->protocols, (std::vector<std::string>{"chat", "mqtt"}));
}

TEST(websocket_handshake, refused_requests) {
  const struct {
    std::string from, to;
    errc want;
  } cases[] = {
      {"GET /mqtt", "POST /mqtt", errc::not_get},
      {"HTTP/1.1\r\nHost", "HTTP/1.0\r\nHost", errc::bad_http_version},
      {"HTTP/1.1\r\nHost", "HTTX/1.1\r\nHost", errc::malformed_http},
      {"GET /mqtt HTTP/1.1", "GET  HTTP/1.1", errc::malformed_http},
      {"Host: broker.example:9001\r\n", "", errc::missing_host},
      {"upgrade: WebSocket", "Upgrade: h2c", errc::missing_upgrade},
      {"Connection: keep-alive, Upgrade", "Connection: keep-alive", errc::missing_connection},
      {"Version: 13", "Version: 8", errc::bad_version},
      {"Sec-WebSocket-Version: 13\r\n", "", errc::bad_version},
      {"Key: dGhlIHNhbXBsZSBub25jZQ==", "Key: dGhlIHNhbXBsZSBub25jZQ", errc::bad_key},
      {"Key: dGhlIHNhbXBsZSBub25jZQ==", "Key: dGhlIHNhbXBsZSBub25jZR==", errc::bad_key},  // 2 bits too many
      {"Key: dGhlIHNhbXBsZSBub25jZQ==", "Key: dGhlIHNhbXBsZSBub25j", errc::bad_key},
      {"Host: broker", "Host : broker", errc::malformed_http},
      {"Host: broker.example:9001\r\n", "Host: broker.example:9001\r\n folded\r\n", errc::malformed_http},
      {"Host: broker.example:9001\r\n", "no colon here\r\n", errc::malformed_http},
  };
  for (const auto& c : cases) {
    auto r = parse_upgrade_request(replace(kRequest, c.from, c.to));
    ASSERT_FALSE(r) << c.to;
    EXPECT_EQ(r.error().code, make_error_code(c.want)) << c.to << ": " << r.error().message();
  }
}

TEST(websocket_handshake, rejections_say_why) {
  auto r426 = make_rejection({make_error_code(errc::bad_version), "8"});
  EXPECT_EQ(r426.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u);
  EXPECT_NE(r426.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  auto r400 = make_rejection({make_error_code(errc::no_mqtt_subprotocol), {}});
  EXPECT_EQ(r400.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_NE(r400.find("MQTT-6.0.0-3"), std::string::npos);
}

TEST(websocket_handshake, client_request_and_response_check) {
  client_request req;
  req.host = "127.0.0.1:9001";
  req.key = kKey;
  const auto bytes = make_upgrade_request(req);
  EXPECT_EQ(bytes,
            "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Protocol: mqtt\r\n\r\n");
  // The server side accepts what the client side makes.
  auto parsed = parse_upgrade_request(bytes);
  ASSERT_TRUE(parsed);
  const auto response = make_upgrade_response(*parsed, "mqtt");
  auto ok = check_upgrade_response(response, kKey);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->protocol, "mqtt");

  const std::string base =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  auto none = check_upgrade_response(base, kKey);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->protocol, std::nullopt);  // reported, judged by the caller (MQTT-6.0.0-4)

  const struct {
    std::string from, to;
    errc want;
  } cases[] = {
      {"101 Switching Protocols", "400 Bad Request", errc::bad_status},
      {"HTTP/1.1 101", "HTTP/1.1 1O1", errc::bad_status},
      {"HTTP/1.1 101", "ICY 101", errc::malformed_http},
      {"Upgrade: websocket\r\n", "", errc::missing_upgrade},
      {"Connection: Upgrade", "Connection: close", errc::missing_connection},
      {"xOo=", "xOo", errc::bad_accept},
      {"\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", errc::unexpected_extension},
  };
  for (const auto& c : cases) {
    auto r = check_upgrade_response(replace(base, c.from, c.to), kKey);
    ASSERT_FALSE(r) << c.to;
    EXPECT_EQ(r.error().code, make_error_code(c.want)) << c.to << ": " << r.error().message();
  }
}

TEST(websocket_handshake, hostile_heads_never_crash) {
  std::uint32_t state = 99;
  auto rnd = [&] { return state = state * 1664525u + 1013904223u; };
  const std::string alphabet = "GET /HTTP1.:\r\n \tUpgrade:websocketConnection,Sec-WebSocket-Key=";
  for (int round = 0; round < 3000; ++round) {
    std::string s = round % 2 ? kRequest.substr(0, rnd() % kRequest.size()) : std::string{};
    const auto extra = rnd() % 80;
    for (std::uint32_t i = 0; i < extra; ++i) s += alphabet[rnd() % alphabet.size()];
    s += "\r\n\r\n";
    (void)parse_upgrade_request(s);
    (void)check_upgrade_response(s, kKey);
    (void)find_head_end(s);
  }
}

}  // namespace
}  // namespace mqttspec::transport::websocket
