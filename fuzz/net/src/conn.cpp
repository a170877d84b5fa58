#include "conn.hpp"

#include "mqttspec/transport/websocket/handshake_io.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace mqttspec::netfuzz {

namespace ws = transport::websocket;

bool run_until(asio::io_context& io, clock::time_point deadline, const std::function<bool()>& done) {
  while (!done()) {
    if (clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    if (io.run_one_until(deadline) == 0 && io.stopped()) {
      // Out of work: nothing pending can change the condition any more.
      return done();
    }
  }
  return true;
}

namespace {

transport::stream make_stream(asio::io_context& io, const net_target& t) {
  if (t.tls) return transport::stream(io.get_executor(), *t.tls);
  return transport::stream(io.get_executor());
}

// Brokers without TCP_NODELAY hold a second small reply until the first is acknowledged; with
// delayed ACKs that costs 40 ms per exchange.
void quick_ack(asio::ip::tcp::socket& s) {
  int one = 1;
  ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

}  // namespace

connection::connection(asio::io_context& io, const net_target& target, std::uint32_t seed)
    : io_(io), target_(target), stream_(make_stream(io, target)), rng_(seed) {}

std::shared_ptr<connection> connection::make(asio::io_context& io, const net_target& target, std::uint32_t seed) {
  return std::make_shared<connection>(io, target, seed);
}

bool connection::open(const asio::ip::tcp::resolver::results_type& endpoints, clock::time_point deadline) {
  stream_.expect_server(target_.host, target_.tls_verify);
  auto self = shared_from_this();
  asio::async_connect(stream_.socket(), endpoints, [self](const std::error_code& ec, const asio::ip::tcp::endpoint&) {
    if (self->closed_by_us_) return;
    if (ec) {
      self->error_ = "connect: " + ec.message();
      self->open_done_ = true;
      return;
    }
    std::error_code ignored;
    self->stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    self->stream_.async_handshake(asio::ssl::stream_base::client, [self](const std::error_code& hec) {
      if (self->closed_by_us_) return;
      if (hec) {
        self->error_ = "TLS handshake: " + hec.message();
        self->open_done_ = true;
        return;
      }
      if (!self->target_.ws_path) {
        self->opened_ = self->open_done_ = true;
        self->read();
        return;
      }
      std::array<std::uint8_t, 16> nonce{};
      for (auto& b : nonce) b = static_cast<std::uint8_t>(self->rng_());
      ws::client_request req;
      const auto& h = self->target_.host;
      req.host = (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + self->target_.port;
      req.path = *self->target_.ws_path;
      req.key = ws::make_key(nonce);
      ws::async_connect(self->stream_, req, [self](ws::handshake_result<ws::connected> r) {
        if (self->closed_by_us_) return;
        self->open_done_ = true;
        if (!r) {
          self->error_ = "WebSocket handshake: " + r.error().message();
          return;
        }
        self->ws_.emplace(ws::endpoint_options{ws::role::client, {}, [p = self.get()] {
                                                 return static_cast<std::uint32_t>(p->rng_());
                                               }});
        self->opened_ = true;
        if (!r->leftover.empty()) self->on_raw(r->leftover);
        if (!self->closed_) self->read();
      });
    });
  });
  if (!run_until(io_, deadline, [this] { return open_done_; })) {
    error_ = "no connection within the deadline";
    close();
    return false;
  }
  if (!opened_) close();
  return opened_;
}

void connection::read() {
  quick_ack(stream_.socket());
  stream_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
    if (self->closed_by_us_ || self->closed_) return;
    if (ec) {
      const bool plain = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      return self->lost(plain ? "closed by the broker" : "connection lost: " + ec.message());
    }
    self->on_raw(codec::bytes_view(self->buf_.data(), n));
    if (!self->closed_) self->read();
  });
}

void connection::on_raw(codec::bytes_view raw) {
  if (!ws_) {
    inbox_.append(raw);
    return;
  }
  for (auto& e : ws_->receive(raw)) {
    if (auto* d = std::get_if<ws::data>(&e)) inbox_ += d->bytes;
    else if (auto* t = std::get_if<ws::transmit>(&e)) queue(std::move(t->bytes));
    else return lost("closed by the broker (WebSocket: " + std::get<ws::closed>(e).describe() + ")");
  }
}

void connection::lost(std::string why) {
  if (closed_) return;
  closed_ = true;
  error_ = std::move(why);
  std::error_code ignored;
  stream_.socket().close(ignored);
}

void connection::queue(codec::bytes data) {
  writes_.push_back(std::move(data));
  if (!writing_) write_next();
}

void connection::write_next() {
  if (writes_.empty() || closed_ || closed_by_us_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  stream_.async_write(asio::buffer(writes_.front()), [self = shared_from_this()](const std::error_code& ec, std::size_t) {
    if (self->closed_by_us_) return;
    self->writes_.pop_front();
    if (ec) {
      self->writing_ = false;
      self->writes_.clear();
      return self->lost("write failed: " + ec.message());
    }
    self->write_next();
  });
}

bool connection::send(codec::bytes_view data, clock::time_point deadline) {
  if (!is_open()) return false;
  queue(ws_ ? ws_->wrap(data) : codec::bytes(data));
  run_until(io_, deadline, [this] { return !writing_ || closed_; });
  return !closed_ && !writing_;
}

void connection::close() {
  if (closed_by_us_) return;
  closed_by_us_ = true;
  writes_.clear();
  stream_.close();
}

}  // namespace mqttspec::netfuzz
