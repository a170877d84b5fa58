// TLS handshakes over loopback between transport::streams: which certificates are accepted and
// which refused, and that bytes pass once the handshake is done.
#include "mqttspec/transport/stream.hpp"
#include "mqttspec/transport/tls.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

namespace mqttspec::transport {
namespace {

using asio::ip::tcp;

// Longer than a TLS record header, so a TLS server reading it from a plain client fails at once.
const std::string kPing = "ping, then more bytes";

std::shared_ptr<asio::ssl::context> must(context_or_error r) {
  if (!r) ADD_FAILURE() << r.error();
  return r ? *r : nullptr;
}

// One connection: server side accepts and handshakes, client side connects and handshakes;
// returns both outcomes once both finished (or after 5 s).
struct outcome {
  std::error_code server, client;
  std::string echoed;  // what the client read back after sending kPing
};

outcome connect_pair(asio::ssl::context& server_ctx, asio::ssl::context* client_ctx, const std::string& host,
                     bool verify) {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  outcome out;
  std::optional<stream> server_side;
  std::array<char, 64> sbuf{}, cbuf{};
  int pending = 2;
  acceptor.async_accept([&](std::error_code ec, tcp::socket s) {
    if (ec) { out.server = ec; --pending; return; }
    server_side.emplace(std::move(s), server_ctx);
    server_side->async_handshake(asio::ssl::stream_base::server, [&](std::error_code hec) {
      out.server = hec;
      if (hec) { server_side->close(); --pending; return; }
      server_side->async_read_some(asio::buffer(sbuf), [&](std::error_code rec, std::size_t n) {
        if (!rec) server_side->async_write(asio::buffer(sbuf.data(), n), [&](std::error_code, std::size_t) { --pending; });
        else --pending;
      });
    });
  });
  auto client = client_ctx ? stream(io.get_executor(), *client_ctx) : stream(io.get_executor());
  client.expect_server(host, verify);
  client.socket().async_connect(acceptor.local_endpoint(), [&](std::error_code ec) {
    if (ec) { out.client = ec; --pending; return; }
    client.async_handshake(asio::ssl::stream_base::client, [&](std::error_code hec) {
      out.client = hec;
      if (hec) { client.close(); --pending; return; }
      client.async_write(asio::buffer(kPing), [&](std::error_code, std::size_t) {
        client.async_read_some(asio::buffer(cbuf), [&](std::error_code rec, std::size_t n) {
          if (!rec) out.echoed.assign(cbuf.data(), n);
          --pending;
        });
      });
    });
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (pending > 0 && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
  return out;
}

struct tls_test : ::testing::Test {
  identity server_id = make_self_signed("broker.test");
  std::shared_ptr<asio::ssl::context> server_ctx =
      must(make_server_context({{"", server_id.cert_pem}, {"", server_id.key_pem}, {}}));
};

TEST_F(tls_test, trusted_certificate_and_matching_name_connect_and_carry_bytes) {
  tls_client_options o;
  o.ca.pem = server_id.cert_pem;
  auto client_ctx = must(make_client_context(o));
  for (const char* host : {"broker.test", "localhost", "127.0.0.1"}) {
    auto r = connect_pair(*server_ctx, client_ctx.get(), host, true);
    EXPECT_FALSE(r.client) << host << ": " << r.client.message();
    EXPECT_FALSE(r.server) << host << ": " << r.server.message();
    EXPECT_EQ(r.echoed, kPing) << host;
  }
}

TEST_F(tls_test, untrusted_certificate_is_refused_unless_insecure) {
  const identity other = make_self_signed("someone.else");
  tls_client_options o;
  o.ca.pem = other.cert_pem;
  auto strict = must(make_client_context(o));
  auto r = connect_pair(*server_ctx, strict.get(), "broker.test", true);
  EXPECT_TRUE(r.client);
  EXPECT_NE(r.client.message().find("certificate verify failed"), std::string::npos) << r.client.message();
  EXPECT_TRUE(r.echoed.empty());

  o.insecure = true;
  auto insecure = must(make_client_context(o));
  r = connect_pair(*server_ctx, insecure.get(), "broker.test", false);
  EXPECT_FALSE(r.client) << r.client.message();
  EXPECT_EQ(r.echoed, kPing);
}

TEST_F(tls_test, wrong_host_name_is_refused) {
  tls_client_options o;
  o.ca.pem = server_id.cert_pem;
  auto client_ctx = must(make_client_context(o));
  auto r = connect_pair(*server_ctx, client_ctx.get(), "not-the-broker.test", true);
  EXPECT_TRUE(r.client);
  EXPECT_TRUE(r.echoed.empty());
}

TEST_F(tls_test, plain_client_gets_no_mqtt_bytes_through_a_tls_listener) {
  auto r = connect_pair(*server_ctx, nullptr, "127.0.0.1", false);
  EXPECT_TRUE(r.server);  // kPing is not a TLS ClientHello
  EXPECT_NE(r.echoed, kPing);
}

TEST_F(tls_test, mutual_tls_requires_a_client_certificate_signed_by_the_configured_ca) {
  const identity client_id = make_self_signed("client.test");
  auto mtls_server = must(make_server_context({{"", server_id.cert_pem}, {"", server_id.key_pem}, {"", client_id.cert_pem}}));

  tls_client_options without;
  without.ca.pem = server_id.cert_pem;
  auto anonymous = must(make_client_context(without));
  auto r = connect_pair(*mtls_server, anonymous.get(), "broker.test", true);
  EXPECT_TRUE(r.server);
  EXPECT_TRUE(r.echoed.empty());

  tls_client_options with = without;
  with.cert.pem = client_id.cert_pem;
  with.key.pem = client_id.key_pem;
  auto identified = must(make_client_context(with));
  r = connect_pair(*mtls_server, identified.get(), "broker.test", true);
  EXPECT_FALSE(r.server) << r.server.message();
  EXPECT_EQ(r.echoed, kPing);
}

TEST(tls_options, errors_name_the_option_and_file) {
  tls_client_options o;
  o.ca.file = "/nonexistent/ca.pem";
  auto r = make_client_context(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("--cafile /nonexistent/ca.pem"), std::string::npos) << r.error();

  tls_client_options half;
  half.cert.file = "/some/cert.pem";
  r = make_client_context(half);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("--cert and --key"), std::string::npos);

  const identity a = make_self_signed("a"), b = make_self_signed("b");
  auto mismatch = make_server_context({{"", a.cert_pem}, {"", b.key_pem}, {}});
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().find("mismatch"), std::string::npos) << mismatch.error();

  EXPECT_FALSE(make_server_context({}));
}

TEST(tls_options, files_work_like_inline_pem) {
  const identity id = make_self_signed("files.test");
  const auto dir = ::testing::TempDir();
  std::ofstream(dir + "/cert.pem") << id.cert_pem;
  std::ofstream(dir + "/key.pem") << id.key_pem;
  EXPECT_TRUE(make_server_context({{dir + "/cert.pem", ""}, {dir + "/key.pem", ""}, {}}));
  tls_client_options o;
  o.ca.file = dir + "/cert.pem";
  EXPECT_TRUE(make_client_context(o));
}

}  // namespace
}  // namespace mqttspec::transport
