#include "serve_connection.hpp"

namespace mqttspec::conformance {

server_connection::server_connection(asio::io_context& io, asio::ip::tcp::socket socket, std::string name,
                                     codec::protocol_version v, wire_logger& log, client_monitor& monitor)
    : io_(io),
      socket_(std::move(socket)), name_(std::move(name)), version_(v), log_(log), monitor_(monitor) {}

void server_connection::start() {
  std::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  monitor_.on_connection();
  read();
}

void server_connection::read() {
  socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
    if (self->closed_by_us_) return;
    if (ec) return self->on_closed(ec == asio::error::eof ? "closed by the client" : "connection lost: " + ec.message());
    self->on_bytes(codec::bytes_view(self->buf_.data(), n));
  });
}

void server_connection::on_closed(std::string why) {
  peer_closed_ = true;
  log_.event(name_, why);
  events_.push_back({incoming::kind::closed, {}, {}, {}, std::move(why), steady::now()});
}

void server_connection::on_bytes(codec::bytes_view data) {
  framer_.feed(data);
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
      log_.malformed(name_, hex.size() > 3072 ? hex.substr(0, 3072) + " ..." : hex, d.error());
      events_.push_back({incoming::kind::malformed, {}, d.error(), hex, "", steady::now()});
      continue;
    }
    log_.received(name_, *d);
    monitor_.on_client_packet(*d, storage->size());
    if (answer(*d)) continue;
    events_.push_back({incoming::kind::packet, {storage, std::move(*d)}, {}, "", "", steady::now()});
  }
  read();
}

bool server_connection::answer(const codec::packet& p) {
  codec::packet reply;
  bool consumed = false;
  if (const auto* pub = std::get_if<codec::publish>(&p); pub && auto_ack) {
    if (pub->qos_level == codec::qos::at_least_once) reply = codec::puback{pub->packet_id, {}, {}};
    else if (pub->qos_level == codec::qos::exactly_once) reply = codec::pubrec{pub->packet_id, {}, {}};
    else return false;
  } else if (const auto* rel = std::get_if<codec::pubrel>(&p); rel && auto_ack) {
    reply = codec::pubcomp{rel->packet_id, {}, {}};
    consumed = true;
  } else if (std::holds_alternative<codec::pingreq>(p) && auto_ping) {
    reply = codec::pingresp{};
    consumed = true;
  } else {
    return false;
  }
  auto bytes = codec::encode(reply, version_);
  if (!bytes || !is_open()) return consumed;
  if (!connack_sent_) {
    held_.push_back(std::move(*bytes));
    log_.event(name_, "answer held until the CONNACK is sent");
    return consumed;
  }
  log_.sent(name_, *bytes);
  monitor_.on_server_packet(reply);
  write(std::move(*bytes));
  return consumed;
}

void server_connection::write(codec::bytes data) {
  out_.push_back(std::make_shared<codec::bytes>(std::move(data)));
  ++queued_;
  pump();
}

void server_connection::pump() {
  if (writing_ || out_.empty()) return;
  writing_ = true;
  auto item = out_.front();
  asio::async_write(socket_, asio::buffer(*item), [self = shared_from_this(), item](const std::error_code& ec, std::size_t) {
    self->writing_ = false;
    if (!self->out_.empty()) self->out_.pop_front();
    ++self->written_;
    if (ec && !self->closed_by_us_ && !self->peer_closed_) self->log_.event(self->name_, "write failed: " + ec.message());
    self->pump();
  });
}

void server_connection::send(codec::bytes_view bytes, steady::time_point deadline) {
  log_.sent(name_, bytes);
  if (!socket_.is_open() || closed_by_us_) {
    log_.event(name_, "not sent: connection closed");
    return;
  }
  if (auto d = codec::decode(bytes, version_)) {
    monitor_.on_server_packet(*d);
    if (std::holds_alternative<codec::connack>(*d)) connack_sent_ = true;
  }
  write(codec::bytes(bytes));
  if (connack_sent_ && !held_.empty()) {
    for (auto& h : std::exchange(held_, {})) {
      log_.sent(name_, h);
      if (auto d = codec::decode(h, version_)) monitor_.on_server_packet(*d);
      write(std::move(h));
    }
  }
  const auto ticket = queued_;
  while (written_ < ticket && steady::now() < deadline) io_.run_one_until(deadline);
  if (written_ < ticket) log_.event(name_, "write not finished by the deadline: the client does not read");
}

void server_connection::close() {
  if (closed_by_us_) return;
  closed_by_us_ = true;
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace mqttspec::conformance
