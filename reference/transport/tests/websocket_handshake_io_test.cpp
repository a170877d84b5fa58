// async_accept and async_connect over loopback, plain and TLS: the subprotocol is "mqtt", bytes
// sent right after the handshake are handed over as leftover, and refusals reach both sides.
#include "mqttspec/transport/tls.hpp"
#include "mqttspec/transport/websocket/handshake_io.hpp"

#include <gtest/gtest.h>

namespace mqttspec::transport::websocket {
namespace {

using asio::ip::tcp;

struct result_pair {
  std::optional<handshake_result<accepted>> server;
  std::optional<handshake_result<connected>> client;
};

result_pair handshake(client_request req, asio::ssl::context* server_tls, asio::ssl::context* client_tls,
                      const std::string& after = {}) {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  result_pair out;
  std::optional<stream> server_side;
  acceptor.async_accept([&](std::error_code ec, tcp::socket s) {
    ASSERT_FALSE(ec);
    server_side.emplace(server_tls ? stream(std::move(s), *server_tls) : stream(std::move(s)));
    server_side->async_handshake(asio::ssl::stream_base::server, [&](std::error_code hec) {
      ASSERT_FALSE(hec);
      async_accept(*server_side, [&](handshake_result<accepted> r) { out.server.emplace(std::move(r)); });
    });
  });
  auto client = client_tls ? stream(io.get_executor(), *client_tls) : stream(io.get_executor());
  client.socket().async_connect(acceptor.local_endpoint(), [&](std::error_code ec) {
    ASSERT_FALSE(ec);
    client.async_handshake(asio::ssl::stream_base::client, [&](std::error_code hec) {
      ASSERT_FALSE(hec);
      async_connect(client, req, [&](handshake_result<connected> r) { out.client.emplace(std::move(r)); });
      // Bytes a client sends in the same write as nothing else: they arrive after the head.
      if (!after.empty())
        client.async_write(asio::buffer(after), [](std::error_code, std::size_t) {});
    });
  });
  io.run_for(std::chrono::seconds(5));
  return out;
}

client_request request() {
  client_request r;
  r.host = "127.0.0.1";
  r.key = make_key({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  return r;
}

TEST(websocket_handshake_io, plain_handshake_selects_mqtt) {
  auto r = handshake(request(), nullptr, nullptr, "\x82\x80\x00\x00\x00\x00");
  ASSERT_TRUE(r.server && r.client);
  ASSERT_TRUE(*r.server) << r.server->error().message();
  ASSERT_TRUE(*r.client) << r.client->error().message();
  EXPECT_EQ((*r.server)->protocol, "mqtt");
  EXPECT_EQ((*r.server)->request.path, "/mqtt");
  EXPECT_EQ((*r.client)->response.protocol, "mqtt");
}

TEST(websocket_handshake_io, client_without_mqtt_is_refused_with_400) {
  auto req = request();
  req.protocols = {"chat"};
  auto r = handshake(req, nullptr, nullptr);
  ASSERT_TRUE(r.server && r.client);
  ASSERT_FALSE(*r.server);
  EXPECT_EQ(r.server->error().code, make_error_code(errc::no_mqtt_subprotocol));
  ASSERT_FALSE(*r.client);
  EXPECT_EQ(r.client->error().code, make_error_code(errc::bad_status));
  EXPECT_NE(r.client->error().detail.find("400"), std::string::npos);
}

TEST(websocket_handshake_io, over_tls) {
  const auto id = make_self_signed("localhost");
  auto server_ctx = make_server_context({{"", id.cert_pem}, {"", id.key_pem}, {}});
  auto client_ctx = make_client_context({{"", id.cert_pem}, {}, {}, false});
  ASSERT_TRUE(server_ctx && client_ctx);
  auto r = handshake(request(), server_ctx->get(), client_ctx->get());
  ASSERT_TRUE(r.server && r.client);
  ASSERT_TRUE(*r.client) << r.client->error().message();
  EXPECT_EQ((*r.client)->response.protocol, "mqtt");
}

}  // namespace
}  // namespace mqttspec::transport::websocket
