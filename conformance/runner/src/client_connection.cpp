#include "client_connection.hpp"

#include "mqttspec/conformance/packet_json.hpp"
#include "mqttspec/conformance/variables.hpp"
#include "mqttspec/transport/websocket/handshake_io.hpp"

#include <map>

namespace mqttspec::conformance {

namespace ws = transport::websocket;

codec::basic_result<ws_framing, std::string> ws_framing_of(const attributes& a) {
  ws_framing f;
  if (auto it = a.find("ws-opcode"); it != a.end()) {
    static const std::map<std::string, std::uint8_t, std::less<>> names{
        {"continuation", 0x0}, {"text", 0x1}, {"binary", 0x2}, {"close", 0x8}, {"ping", 0x9}, {"pong", 0xA}};
    if (auto n = names.find(it->second); n != names.end()) f.op = n->second;
    else if (auto v = parse_number(it->second, 15)) f.op = static_cast<std::uint8_t>(*v);
    else return "ws-opcode=\"" + it->second + "\": want text, binary, continuation, ping, pong, close or 0..15";
  }
  for (auto [name, field] : {std::pair{"ws-split", &f.split}, std::pair{"ws-fragment", &f.fragment}}) {
    if (auto it = a.find(name); it != a.end()) {
      auto v = parse_number(it->second, 268435460);
      if (!v || *v == 0) return std::string(name) + "=\"" + it->second + "\": want a byte count above 0";
      *field = static_cast<std::size_t>(*v);
    }
  }
  if (auto it = a.find("ws-hold"); it != a.end()) {
    auto v = parse_bool(it->second);
    if (!v) return "ws-hold=\"" + it->second + "\": not a boolean";
    f.hold = *v;
  }
  if (int(f.op != 0x2) + int(f.split > 0) + int(f.fragment > 0) + int(f.hold) > 1)
    return std::string("give at most one of ws-opcode, ws-split, ws-fragment, ws-hold");
  return f;
}

namespace {

// Wire logs keep the first bytes of big payloads only: a scenario that sends a 2 MiB packet must
// not put megabytes of hex into every report (libxml2 refuses text nodes over 10 MB).
constexpr std::size_t logged_bytes = 1024;

std::string logged_hex(codec::bytes_view bytes) {
  if (bytes.size() <= logged_bytes) return codec::to_hex(bytes, " ");
  return codec::to_hex(bytes.substr(0, logged_bytes), " ") + " ... (" + std::to_string(bytes.size()) + " bytes)";
}

// Shortens every binary field of a packet's JSON form (see packet_json.cpp: size, hex, utf8).
void abbreviate(nlohmann::ordered_json& j) {
  if (j.is_object()) {
    if (auto h = j.find("hex"); h != j.end() && h->is_string() && h->get_ref<const std::string&>().size() > 2 * logged_bytes) {
      *h = h->get<std::string>().substr(0, 2 * logged_bytes);
      j["truncated"] = true;
      j.erase("utf8");  // a cut could split a character
    }
  }
  if (j.is_structured())
    for (auto& child : j) abbreviate(child);
}

nlohmann::ordered_json logged_json(const codec::packet& p) {
  auto j = to_json(p);
  abbreviate(j);
  return j;
}

}  // namespace

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
    e.packet = logged_json(*d);
  } else {
    e.hex = logged_hex(bytes);
    e.note = "not a valid packet: " + d.error().message();
  }
  entries_.push_back(std::move(e));
}

void wire_logger::received(const std::string& client, const codec::packet& p) {
  auto e = entry(client, "recv");
  e.packet = logged_json(p);
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
      log_(log),
      ping_timer_(io) {}

void client_connection::keep_alive(std::chrono::milliseconds interval) {
  ping_interval_ = interval;
  last_sent_ = steady::now();
  schedule_ping();
}

void client_connection::schedule_ping() {
  if (ping_interval_.count() <= 0 || closed_by_us_ || peer_closed_) return;
  ping_timer_.expires_at(last_sent_ + ping_interval_);
  ping_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
    if (ec || self->closed_by_us_ || self->peer_closed_) return;
    if (steady::now() >= self->last_sent_ + self->ping_interval_) {
      const codec::bytes ping("\xC0\x00", 2);
      self->log_.sent(self->name_, ping);
      self->log_.event(self->name_, "PINGREQ of the client's own keep-alive");
      self->write_raw(self->ws_ ? self->ws_->frame(ws::opcode::binary, ping, true) : ping);
      self->last_sent_ = steady::now();
      ++self->pings_pending_;
    }
    self->schedule_ping();
  });
}

void client_connection::start_connect(const asio::ip::tcp::resolver::results_type& endpoints, const target& t,
                                      bool verify) {
  stream_.expect_server(t.host, verify);
  asio::async_connect(stream_.socket(), endpoints,
                      [self = shared_from_this(), t](const std::error_code& ec, const asio::ip::tcp::endpoint&) {
                        if (ec) {
                          self->connect_done_ = true;
                          self->connect_error_ = ec.message();
                          return;
                        }
                        std::error_code ignored;
                        self->stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
                        self->log_.event(self->name_, "TCP connected");
                        self->stream_.async_handshake(asio::ssl::stream_base::client, [self, t](const std::error_code& hec) {
                          if (hec) {
                            self->connect_done_ = true;
                            self->connect_error_ = "TLS handshake: " + hec.message();
                            return;
                          }
                          if (self->stream_.is_tls()) self->log_.event(self->name_, "TLS handshake done");
                          if (t.ws_path) return self->start_ws_handshake(t);
                          self->connect_done_ = true;
                          self->read();
                        });
                      });
}

void client_connection::start_ws_handshake(const target& t) {
  std::array<std::uint8_t, 16> nonce{};
  for (auto& b : nonce) b = static_cast<std::uint8_t>(random_());
  ws::client_request req;
  // The Host header carries the port, and an IPv6 literal in brackets (RFC 7230 5.4).
  req.host = (t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host) + ":" + t.port;
  req.path = *t.ws_path;
  req.key = ws::make_key(nonce);
  ws::async_connect(stream_, req, [self = shared_from_this(), path = req.path](ws::handshake_result<ws::connected> r) {
    self->connect_done_ = true;
    if (!r) {
      self->connect_error_ = "WebSocket handshake: " + r.error().message();
      return;
    }
    self->subprotocol_ = r->response.protocol;
    self->log_.event(self->name_, "WebSocket " + path + " open, subprotocol " +
                                      (self->subprotocol_ ? "\"" + *self->subprotocol_ + "\"" : "(none)"));
    self->ws_.emplace(ws::endpoint_options{ws::role::client, {}, [self = self.get()] {
                                             return static_cast<std::uint32_t>(self->random_());
                                           }});
    // Bytes after the 101 head are the broker's first frames.
    if (!r->leftover.empty()) return self->on_raw(r->leftover);
    self->read();
  });
}

void client_connection::on_closed(std::string why, bool tls_failure, std::string finding) {
  peer_closed_ = true;
  log_.event(name_, why);
  incoming closed{incoming::kind::closed, {}, {}, {}, std::move(why), steady::now()};
  closed.tls_failure = tls_failure;
  closed.finding = std::move(finding);
  events_.push_back(std::move(closed));
}

void client_connection::read() {
  stream_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
    if (self->closed_by_us_) return;
    if (ec) {
      // A TCP close without TLS close_notify is how brokers close on purpose: a plain close.
      const bool plain_close = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      const bool tls_failure = ec.category() == asio::error::get_ssl_category();
      return self->on_closed(plain_close   ? "closed by broker"
                             : tls_failure ? "TLS failure: " + ec.message()
                                           : "connection lost: " + ec.message(),
                             tls_failure);
    }
    self->on_raw(codec::bytes_view(self->buf_.data(), n));
  });
}

void client_connection::on_raw(codec::bytes_view raw) {
  if (!ws_) {
    if (on_mqtt_bytes(raw)) read();
    return;
  }
  for (auto& e : ws_->receive(raw)) {
    if (auto* d = std::get_if<ws::data>(&e)) {
      if (!on_mqtt_bytes(d->bytes)) return;
    } else if (auto* t = std::get_if<ws::transmit>(&e)) {
      write_raw(std::move(t->bytes));
    } else {
      // The broker's close frame, or a frame it must not send (a text frame: MQTT-6.0.0-1).
      const auto& c = std::get<ws::closed>(e);
      if (!c.error) return on_closed("closed by broker (" + c.describe() + ")", false);
      return on_closed("closed by the tester: " + c.describe(), false, "broker broke WebSocket framing: " + c.error.message());
    }
  }
  read();
}

bool client_connection::on_mqtt_bytes(codec::bytes_view data) {
  framer_.feed(data);
  for (;;) {
    auto f = framer_.next();
    if (!f) {
      if (f.error().code == codec::errc::need_more) break;
      // A framing error leaves the stream unusable: report it and stop reading.
      log_.malformed(name_, "", f.error());
      events_.push_back({incoming::kind::malformed, {}, f.error(), "", "", steady::now()});
      close();
      return false;
    }
    auto storage = std::make_shared<const codec::bytes>(f->bytes);
    auto d = codec::decode(*storage, version_);
    if (!d) {
      const auto hex = codec::to_hex(*storage, " ");
      log_.malformed(name_, logged_hex(*storage), d.error());
      events_.push_back({incoming::kind::malformed, {}, d.error(), hex, "", steady::now()});
      continue;
    }
    log_.received(name_, *d);
    if (auto_ack && acknowledge(*d)) continue;
    if (pings_pending_ > 0 && std::holds_alternative<codec::pingresp>(*d)) {
      --pings_pending_;  // answers our own keep-alive ping, not a step's
      continue;
    }
    events_.push_back({incoming::kind::packet, {storage, std::move(*d)}, {}, "", "", steady::now()});
  }
  return true;
}

bool client_connection::acknowledge(const codec::packet& p) {
  // The answer echoes the identifier with reason Success, the default of every other field.
  const auto answer_to = [](auto ack, std::uint16_t id) {
    ack.packet_id = id;
    return codec::packet{ack};
  };
  codec::packet answer;
  bool answered_pubrel = false;
  if (const auto* pub = std::get_if<codec::publish>(&p)) {
    if (pub->qos_level == codec::qos::at_least_once) answer = answer_to(codec::puback{}, pub->packet_id);
    else if (pub->qos_level == codec::qos::exactly_once) answer = answer_to(codec::pubrec{}, pub->packet_id);
    else return false;
  } else if (const auto* rel = std::get_if<codec::pubrel>(&p)) {
    answer = answer_to(codec::pubcomp{}, rel->packet_id);
    answered_pubrel = true;
  } else {
    return false;
  }
  auto bytes = codec::encode(answer, version_);
  if (!bytes || !stream_.is_open() || closed_by_us_ || (ws_ && ws_->is_closed())) return answered_pubrel;
  log_.sent(name_, *bytes);
  write_raw(ws_ ? ws_->frame(ws::opcode::binary, *bytes, true) : codec::bytes(*bytes));
  last_sent_ = steady::now();
  return answered_pubrel;
}

std::uint64_t client_connection::write_raw(codec::bytes data) {
  out_.push_back(std::make_shared<codec::bytes>(std::move(data)));
  pump();
  return ++queued_;
}

void client_connection::pump() {
  if (writing_ || out_.empty()) return;
  writing_ = true;
  // The buffer lives in the handler: a write still in flight at a deadline must not dangle.
  auto item = out_.front();
  stream_.async_write(asio::buffer(*item), [self = shared_from_this(), item](const std::error_code& ec, std::size_t) {
    self->writing_ = false;
    if (!self->out_.empty()) self->out_.pop_front();
    ++self->written_;
    if (ec && !self->closed_by_us_ && !self->peer_closed_) self->log_.event(self->name_, "write failed: " + ec.message());
    self->pump();
  });
}

void client_connection::send(codec::bytes_view bytes, steady::time_point deadline, const ws_framing& framing) {
  log_.sent(name_, bytes);
  if (!stream_.is_open() || (ws_ && ws_->is_closed())) {
    log_.event(name_, ws_ && ws_->is_closed() ? "not sent: WebSocket closed" : "not sent: connection closed");
    return;
  }
  codec::bytes wire;
  if (!ws_) {
    wire.assign(bytes);
  } else {
    const codec::bytes payload = std::exchange(held_, {}) + codec::bytes(bytes);
    const codec::bytes_view p(payload);
    if (framing.hold) {
      held_ = payload;
      log_.event(name_, "held: goes out in the next send's frame");
      return;
    }
    if (framing.split && framing.split < p.size()) {
      wire = ws_->wrap(p.substr(0, framing.split)) + ws_->wrap(p.substr(framing.split));
      log_.event(name_, "sent as two binary frames of " + std::to_string(framing.split) + " and " +
                            std::to_string(p.size() - framing.split) + " bytes");
    } else if (framing.fragment && framing.fragment < p.size()) {
      wire = ws_->frame(ws::opcode::binary, p.substr(0, framing.fragment), false) +
             ws_->frame(ws::opcode::continuation, p.substr(framing.fragment), true);
      log_.event(name_, "sent as one binary message in two frames (binary " + std::to_string(framing.fragment) +
                            " bytes, continuation " + std::to_string(p.size() - framing.fragment) + ")");
    } else {
      wire = ws_->frame(framing.op, p, true);
      static constexpr const char* names[16] = {"continuation", "text", "binary", "reserved", "reserved", "reserved",
                                                "reserved",     "reserved", "close", "ping", "pong", "reserved",
                                                "reserved",     "reserved", "reserved", "reserved"};
      if (framing.op != 0x2)
        log_.event(name_, std::string("sent in a ") + names[framing.op & 0x0F] + " frame (opcode " + std::to_string(framing.op) + ")");
      else if (p.size() != bytes.size()) log_.event(name_, "sent in one binary frame of " + std::to_string(p.size()) + " bytes with the held ones");
    }
  }
  last_sent_ = steady::now();
  const auto ticket = write_raw(std::move(wire));
  while (written_ < ticket && steady::now() < deadline) io_.run_one_until(deadline);
  if (written_ < ticket) log_.event(name_, "write not finished by the deadline: the broker does not read");
}

void client_connection::close() {
  if (closed_by_us_) return;
  closed_by_us_ = true;
  ping_timer_.cancel();
  stream_.close();
}

}  // namespace mqttspec::conformance
