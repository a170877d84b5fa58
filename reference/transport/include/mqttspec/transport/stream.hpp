#pragma once
// A byte stream that is either plain TCP or TLS over TCP, so the broker's shell and the runner's
// connections are written once for both. Only the operations they use are forwarded.
#include <asio.hpp>
#include <asio/ssl.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace mqttspec::transport {

class stream {
 public:
  using socket_type = asio::ip::tcp::socket;
  using tls_stream = asio::ssl::stream<socket_type>;

  explicit stream(socket_type s) : plain_(std::move(s)) {}
  stream(socket_type s, asio::ssl::context& tls) : tls_(std::make_unique<tls_stream>(std::move(s), tls)) {}
  // A not yet connected client stream.
  explicit stream(const asio::any_io_executor& ex) : plain_(std::in_place, ex) {}
  stream(const asio::any_io_executor& ex, asio::ssl::context& tls) : tls_(std::make_unique<tls_stream>(ex, tls)) {}

  bool is_tls() const noexcept { return tls_ != nullptr; }
  socket_type& socket() noexcept { return tls_ ? tls_->next_layer() : *plain_; }
  bool is_open() const noexcept { return tls_ ? tls_->next_layer().is_open() : plain_->is_open(); }

  // Client side, before the handshake: the name sent as SNI and, unless `verify` is false, the
  // name (or IP address) the server's certificate must carry. No-op on a plain stream.
  void expect_server(const std::string& host, bool verify);

  // TLS handshake; on a plain stream the handler runs at once (posted) with no error.
  template <class Handler>
  void async_handshake(asio::ssl::stream_base::handshake_type side, Handler&& h) {
    if (tls_) tls_->async_handshake(side, std::forward<Handler>(h));
    else asio::post(plain_->get_executor(), [h = std::forward<Handler>(h)]() mutable { h(std::error_code{}); });
  }

  template <class Buffer, class Handler>
  void async_read_some(const Buffer& b, Handler&& h) {
    if (tls_) tls_->async_read_some(b, std::forward<Handler>(h));
    else plain_->async_read_some(b, std::forward<Handler>(h));
  }

  // The whole buffer, like asio::async_write.
  template <class Buffer, class Handler>
  void async_write(const Buffer& b, Handler&& h) {
    if (tls_) asio::async_write(*tls_, b, std::forward<Handler>(h));
    else asio::async_write(*plain_, b, std::forward<Handler>(h));
  }

  // Abrupt close of the TCP connection (no TLS close_notify: a broker or a test that drops a peer
  // does so on purpose, and waiting for the peer's reply could block).
  void close() noexcept {
    std::error_code ignored;
    socket().shutdown(socket_type::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  std::optional<socket_type> plain_;
  // On the heap: inline, the TLS stream's ~440 bytes would sit in every plain connection too (a
  // broker keeps thousands).
  std::unique_ptr<tls_stream> tls_;
};

}  // namespace mqttspec::transport
