#include "client_connection.hpp"

#include "mqttspec/conformance/packet_json.hpp"

namespace mqttspec::conformance {

wire_entry wire_logger::entry(const std::string& client, std::string direction) {
  wire_entry e;
  e.t_ms = std::chrono::duration<double, std::milli>(steady::now() - start_).count();
  e.client = client;
  e.direction = std::move(direction);
  return e;
}

void wire_logger::sent(const std::string& client, codec::bytes_view bytes) {
  auto e = entry(client, "send");
  // Sent bytes are decoded again for the log; malformed input on purpose shows as hex + why.
  auto d = codec::decode(bytes, version_);
  if (d) {
    e.packet = to_json(*d);
  } else {
    e.hex = codec::to_hex(bytes, " ");
    e.note = "not a valid packet: " + d.error().message();
  }
  entries_.push_back(std::move(e));
}

void wire_logger::received(const std::string& client, const codec::packet& p) {
  auto e = entry(client, "recv");
  e.packet = to_json(p);
  entries_.push_back(std::move(e));
}

void wire_logger::malformed(const std::string& client, const std::string& hex, const codec::decode_error& err) {
  auto e = entry(client, "recv");
  e.hex = hex;
  e.note = "MALFORMED: " + err.message();
  entries_.push_back(std::move(e));
}

void wire_logger::event(const std::string& client, std::string note) {
  auto e = entry(client, "event");
  e.note = std::move(note);
  entries_.push_back(std::move(e));
}

client_connection::client_connection(asio::io_context& io, std::string name, codec::protocol_version v,
                                     wire_logger& log, asio::ssl::context* tls)
    : io_(io),
      stream_(tls ? transport::stream(io.get_executor(), *tls) : transport::stream(io.get_executor())),
      name_(std::move(name)),
      version_(v),
      log_(log) {}

void client_connection::start_connect(const asio::ip::tcp::resolver::results_type& endpoints, const std::string& host,
                                      bool verify) {
  stream_.expect_server(host, verify);
  asio::async_connect(stream_.socket(), endpoints,
                      [self = shared_from_this()](const std::error_code& ec, const asio::ip::tcp::endpoint&) {
                        if (ec) {
                          self->connect_done_ = true;
                          self->connect_error_ = ec.message();
                          return;
                        }
                        std::error_code ignored;
                        self->stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
                        self->log_.event(self->name_, "TCP connected");
                        self->stream_.async_handshake(asio::ssl::stream_base::client, [self](const std::error_code& hec) {
                          self->connect_done_ = true;
                          if (hec) {
                            self->connect_error_ = "TLS handshake: " + hec.message();
                            return;
                          }
                          if (self->stream_.is_tls()) self->log_.event(self->name_, "TLS handshake done");
                          self->read();
                        });
                      });
}

void client_connection::read() {
  stream_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
    if (self->closed_by_us_) return;
    if (ec) {
      self->peer_closed_ = true;
      // A TCP close without TLS close_notify is how brokers close on purpose: a plain close.
      const bool plain_close = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      const bool tls_failure = ec.category() == asio::error::get_ssl_category();
      const std::string why = plain_close   ? "closed by broker"
                              : tls_failure ? "TLS failure: " + ec.message()
                                            : "connection lost: " + ec.message();
      self->log_.event(self->name_, why);
      incoming closed{incoming::kind::closed, {}, {}, {}, why, steady::now()};
      closed.tls_failure = tls_failure;
      self->events_.push_back(std::move(closed));
      return;
    }
    self->on_bytes(n);
  });
}

void client_connection::on_bytes(std::size_t n) {
  framer_.feed(codec::bytes_view(buf_.data(), n));
  for (;;) {
    auto f = framer_.next();
    if (!f) {
      if (f.error().code == codec::errc::need_more) break;
      // A framing error leaves the stream unusable: report it and stop reading.
      log_.malformed(name_, "", f.error());
      events_.push_back({incoming::kind::malformed, {}, f.error(), "", "", steady::now()});
      close();
      return;
    }
    auto storage = std::make_shared<const codec::bytes>(f->bytes);
    auto d = codec::decode(*storage, version_);
    if (!d) {
      const auto hex = codec::to_hex(*storage, " ");
      log_.malformed(name_, hex, d.error());
      events_.push_back({incoming::kind::malformed, {}, d.error(), hex, "", steady::now()});
      continue;
    }
    log_.received(name_, *d);
    events_.push_back({incoming::kind::packet, {storage, std::move(*d)}, {}, "", "", steady::now()});
  }
  read();
}

void client_connection::send(codec::bytes_view bytes, steady::time_point deadline) {
  log_.sent(name_, bytes);
  if (!stream_.is_open()) {
    log_.event(name_, "not sent: connection closed");
    return;
  }
  // The buffer lives in the handler: a write still in flight at the deadline must not dangle.
  auto data = std::make_shared<codec::bytes>(bytes.begin(), bytes.end());
  auto done = std::make_shared<bool>(false);
  stream_.async_write(asio::buffer(*data), [self = shared_from_this(), data, done](const std::error_code& ec, std::size_t) {
    *done = true;
    if (ec && !self->closed_by_us_) self->log_.event(self->name_, "write failed: " + ec.message());
  });
  while (!*done && steady::now() < deadline) io_.run_one_until(deadline);
  if (!*done) log_.event(name_, "write not finished by the deadline: the broker does not read");
}

void client_connection::close() {
  if (closed_by_us_) return;
  closed_by_us_ = true;
  stream_.close();
}

}  // namespace mqttspec::conformance
