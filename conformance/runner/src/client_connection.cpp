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
                                     wire_logger& log)
    : sock_(io), name_(std::move(name)), version_(v), log_(log) {}

void client_connection::start_connect(const asio::ip::tcp::resolver::results_type& endpoints) {
  asio::async_connect(sock_, endpoints,
                      [self = shared_from_this()](const std::error_code& ec, const asio::ip::tcp::endpoint&) {
                        self->connect_done_ = true;
                        if (ec) {
                          self->connect_error_ = ec.message();
                          return;
                        }
                        std::error_code ignored;
                        self->sock_.set_option(asio::ip::tcp::no_delay(true), ignored);
                        self->log_.event(self->name_, "TCP connected");
                        self->read();
                      });
}

void client_connection::read() {
  sock_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
    if (self->closed_by_us_) return;
    if (ec) {
      self->peer_closed_ = true;
      const std::string why = ec == asio::error::eof ? "closed by broker" : "connection lost: " + ec.message();
      self->log_.event(self->name_, why);
      self->events_.push_back({incoming::kind::closed, {}, {}, {}, why, steady::now()});
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

void client_connection::send(codec::bytes_view bytes) {
  log_.sent(name_, bytes);
  if (!sock_.is_open()) {
    log_.event(name_, "not sent: connection closed");
    return;
  }
  std::error_code ec;
  asio::write(sock_, asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec) log_.event(name_, "write failed: " + ec.message());
}

void client_connection::close() {
  if (closed_by_us_) return;
  closed_by_us_ = true;
  std::error_code ignored;
  sock_.close(ignored);
}

}  // namespace mqttspec::conformance
