#include "connection.hpp"

#include "mqttspec/transport/websocket/handshake_io.hpp"

#include <cstring>
#include <variant>

namespace mqttspec::bench {

namespace ws = transport::websocket;

connection::connection(asio::io_context& io, asio::ssl::context* tls, connection_events& events, std::uint32_t tag,
                       std::size_t read_size)
    : stream_(tls ? transport::stream(io.get_executor(), *tls) : transport::stream(io.get_executor())),
      events_(events),
      tag_(tag) {
  in_.resize(read_size);
}

void connection::start(const asio::ip::tcp::resolver::results_type& endpoints, const conformance::target& where,
                       bool verify) {
  stream_.expect_server(where.host, verify);
  asio::async_connect(stream_.socket(), endpoints,
                      [self = shared_from_this(), where](const std::error_code& ec, const asio::ip::tcp::endpoint&) {
                        if (self->done_) return;
                        if (ec) return self->fail("connect: " + ec.message());
                        std::error_code ignored;
                        self->stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
                        self->stream_.async_handshake(asio::ssl::stream_base::client, [self, where](const std::error_code& hec) {
                          if (self->done_) return;
                          if (hec) return self->fail("TLS handshake: " + hec.message());
                          if (where.ws_path) return self->ws_connect(where);
                          self->open_ = true;
                          self->read();
                          self->events_.opened(*self);
                        });
                      });
}

void connection::ws_connect(const conformance::target& where) {
  std::array<std::uint8_t, 16> nonce{};
  for (auto& b : nonce) b = static_cast<std::uint8_t>(random_());
  ws::client_request req;
  req.host = (where.host.find(':') != std::string::npos ? "[" + where.host + "]" : where.host) + ":" + where.port;
  req.path = *where.ws_path;
  req.key = ws::make_key(nonce);
  ws::async_connect(stream_, req, [self = shared_from_this()](ws::handshake_result<ws::connected> r) {
    if (self->done_) return;
    if (!r) return self->fail("WebSocket handshake: " + r.error().message());
    self->ws_.emplace(ws::endpoint_options{ws::role::client, {}, [s = self.get()] { return static_cast<std::uint32_t>(s->random_()); }});
    self->raw_.resize(self->in_.size());
    self->open_ = true;
    self->events_.opened(*self);
    if (self->done_) return;
    if (!r->leftover.empty()) {
      self->raw_.assign(r->leftover);
      self->received(r->leftover.size());
      if (self->done_) return;
      self->raw_.resize(self->in_.size());
    }
    self->read();
  });
}

void connection::read() {
  char* at = ws_ ? raw_.data() : in_.data() + have_;
  const std::size_t room = ws_ ? raw_.size() : in_.size() - have_;
  stream_.async_read_some(asio::buffer(at, room), [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
    if (self->done_) return;
    if (ec) return self->fail(ec == asio::error::eof ? std::string("closed by the broker") : "read: " + ec.message());
    self->received(n);
    if (self->done_) return;
    self->events_.read_done(*self);
    if (self->done_) return;
    self->read();
  });
}

void connection::received(std::size_t n) {
  if (!ws_) {
    have_ += n;
    return parse();
  }
  for (auto& e : ws_->receive(codec::bytes_view(raw_.data(), n))) {
    if (auto* d = std::get_if<ws::data>(&e)) {
      if (have_ + d->bytes.size() > in_.size()) in_.resize(have_ + d->bytes.size());
      std::memcpy(in_.data() + have_, d->bytes.data(), d->bytes.size());
      have_ += d->bytes.size();
    } else if (auto* t = std::get_if<ws::transmit>(&e)) {
      // A pong or the echo of a close: goes out with our next write, before its frame.
      pending_raw_.append(t->bytes);
    } else if (auto* c = std::get_if<ws::closed>(&e)) {
      return fail("WebSocket closed: " + c->describe());
    }
  }
  parse();
  flush();
}

void connection::parse() {
  std::size_t pos = 0;
  while (!done_) {
    auto f = codec::parse_frame(codec::bytes_view(in_.data() + pos, have_ - pos));
    if (!f) {
      if (f.error().code != codec::errc::need_more) return fail("framing: " + f.error().message());
      break;
    }
    pos += f->bytes.size();
    events_.packet(*this, *f);
  }
  if (done_) return;
  if (pos > 0) {
    std::memmove(in_.data(), in_.data() + pos, have_ - pos);
    have_ -= pos;
  }
  if (have_ == in_.size()) in_.resize(in_.size() * 2);  // a packet larger than the buffer
}

void connection::flush() {
  if (writing_ || done_ || !open_ || (out_.empty() && pending_raw_.empty())) return;
  if (ws_) {
    wbuf_.swap(pending_raw_);
    if (!out_.empty()) wbuf_.append(ws_->wrap(out_));
    out_.clear();
  } else {
    wbuf_.swap(out_);
  }
  writing_ = true;
  stream_.async_write(asio::buffer(wbuf_), [self = shared_from_this()](const std::error_code& ec, std::size_t) {
    self->writing_ = false;
    self->wbuf_.clear();
    if (self->done_) return;
    if (ec) return self->fail("write: " + ec.message());
    self->events_.written(*self);
    self->flush();
  });
}

void connection::fail(const std::string& why) {
  if (done_) return;
  done_ = true;
  open_ = false;
  stream_.close();
  events_.closed(*this, why);
}

void connection::close() {
  if (done_) return;
  done_ = true;
  open_ = false;
  stream_.close();
}

}  // namespace mqttspec::bench
