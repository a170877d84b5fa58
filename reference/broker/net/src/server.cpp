#include "mqttspec/broker/server.hpp"

#include <array>
#include <deque>
#include <future>
#include <sstream>

namespace mqttspec::broker {

struct server::connection {
  connection(transport::stream s, connection_id i) : stream(std::move(s)), id(i) {}
  transport::stream stream;
  connection_id id;
  std::array<char, 16 * 1024> buffer{};
  std::deque<codec::bytes> out;
  std::size_t backlog = 0;  // bytes in `out`
  bool writing = false;
  bool closing = false;  // the core closed it: shut down once `out` is written
  std::string peer;
  // Wire trace only: a framer of its own and the version seen in the CONNECT.
  codec::framer trace_framer;
  codec::protocol_version version = codec::protocol_version::v5;
};

server::server(asio::io_context& io, server_options options)
    : options_(std::move(options)), core_(options_.core), acceptor_(io), timer_(io) {
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(options_.bind), options_.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  log(log_level::info, "listening on " + options_.bind + ":" + std::to_string(port_));
  accept();
}

server::~server() = default;

session::millis server::now() const {
  return static_cast<session::millis>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - epoch_).count());
}

void server::log(log_level level, const std::string& text) {
  if (!options_.log || level > options_.level) return;
  static constexpr const char* names[] = {"error", "warning", "info", "debug", "trace"};
  *options_.log << "[" << now() << "ms] " << names[static_cast<int>(level)] << ": " << text << std::endl;
}

void server::accept() {
  acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) log(log_level::warning, "accept: " + ec.message());
      if (!stopping_ && acceptor_.is_open()) accept();
      return;
    }
    if (connections_.size() >= options_.max_connections) {
      log(log_level::warning, "connection refused: maximum connections reached");
      std::error_code ignored;
      socket.close(ignored);
    } else {
      std::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      auto stream = options_.tls ? transport::stream(std::move(socket), *options_.tls) : transport::stream(std::move(socket));
      auto c = std::make_shared<connection>(std::move(stream), core_.open(now()));
      auto remote = c->stream.socket().remote_endpoint(ignored);
      c->peer = remote.address().to_string() + ":" + std::to_string(remote.port());
      connections_[c->id] = c;
      log(log_level::debug, "connection " + std::to_string(c->id) + " from " + c->peer);
      handshake(c);
      arm_timer();  // the CONNECT timeout starts now: it also bounds a TLS handshake that stalls
    }
    if (!stopping_) accept();
  });
}

void server::handshake(std::shared_ptr<connection> c) {
  c->stream.async_handshake(asio::ssl::stream_base::server, [this, c](std::error_code ec) {
    if (c->closing || !connections_.contains(c->id)) return;
    if (!ec) return read(c);
    log(log_level::debug, "connection " + std::to_string(c->id) + ": TLS handshake failed: " + ec.message());
    c->stream.close();
    core_.transport_closed(c->id, now());
    apply();
  });
}

void server::read(std::shared_ptr<connection> c) {
  c->stream.async_read_some(asio::buffer(c->buffer), [this, c](std::error_code ec, std::size_t n) {
    if (c->closing || !connections_.contains(c->id)) return;
    if (ec) {
      log(log_level::debug, "connection " + std::to_string(c->id) + " closed: " + ec.message());
      core_.transport_closed(c->id, now());
    } else {
      const codec::bytes_view data(c->buffer.data(), n);
      if (options_.level >= log_level::trace) trace_bytes(*c, true, data);
      core_.receive(c->id, data, now());
      read(c);
    }
    apply();
  });
}

void server::write(std::shared_ptr<connection> c) {
  if (c->writing) return;
  if (c->out.empty()) {
    if (c->closing) c->stream.close();
    return;
  }
  c->writing = true;
  c->stream.async_write(asio::buffer(c->out.front()), [this, c](std::error_code ec, std::size_t) {
    c->writing = false;
    if (ec) {
      c->out.clear();
      c->backlog = 0;
      c->stream.close();
      if (!c->closing) core_.transport_closed(c->id, now());
      apply();
      return;
    }
    if (c->out.empty()) return;  // cleared under us: the connection was dropped
    c->backlog -= c->out.front().size();
    c->out.pop_front();
    write(c);
  });
}

void server::apply() {
  while (core_.has_actions()) apply_actions(core_.take_actions());
  arm_timer();
}

void server::apply_actions(std::vector<action> actions) {
  for (auto& a : actions) {
    if (auto* t = std::get_if<transmit_to>(&a)) {
      auto it = connections_.find(t->id);
      if (it == connections_.end()) continue;
      auto c = it->second;
      if (options_.level >= log_level::trace) trace_bytes(*c, false, t->data);
      c->backlog += t->data.size();
      c->out.push_back(std::move(t->data));
      if (c->backlog > options_.max_write_backlog) {
        log(log_level::warning, "connection " + std::to_string(c->id) + " does not read: dropped");
        // The buffer of a write in flight must live until its handler runs.
        while (c->out.size() > (c->writing ? 1u : 0u)) c->out.pop_back();
        c->backlog = c->out.empty() ? 0 : c->out.front().size();
        c->stream.close();
        core_.transport_closed(c->id, now());  // queues more actions; this loop's copy is done
        continue;
      }
      write(c);
    } else if (auto* cl = std::get_if<close_connection>(&a)) {
      auto it = connections_.find(cl->id);
      if (it == connections_.end()) continue;
      log(log_level::debug, "closing connection " + std::to_string(cl->id) + ": " + cl->why);
      auto c = it->second;
      connections_.erase(it);
      c->closing = true;
      write(c);  // flushes what is queued (e.g. a DISCONNECT), then shuts down
    }
  }
}

void server::arm_timer() {
  const auto due = core_.deadline();
  if (!due) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(epoch_ + std::chrono::milliseconds(*due));
  timer_.async_wait([this](std::error_code ec) {
    if (ec) return;  // re-armed or cancelled
    core_.on_timer(now());
    apply();
  });
}

void server::trace_bytes(connection& c, bool inbound, codec::bytes_view data) {
  std::ostringstream os;
  os << "#" << c.id << (inbound ? " <- " : " -> ");
  if (inbound) {
    c.trace_framer.feed(data);
    for (;;) {
      auto f = c.trace_framer.next();
      if (!f) {
        if (f.error().code != codec::errc::need_more) os << "unframeable: " << f.error();
        break;
      }
      if (f->type_bits() == static_cast<std::uint8_t>(codec::packet_type::connect)) {
        if (auto v = codec::peek_connect_version(*f)) c.version = *v;
      }
      auto p = codec::decode(*f, c.version);
      if (p) os << *p << ' ';
      else os << "malformed [" << codec::to_hex(f->bytes, " ") << "]: " << p.error() << ' ';
    }
  } else {
    auto p = codec::decode(data, c.version);
    if (p) os << *p;
    else os << "[" << codec::to_hex(data, " ") << "]";
  }
  log(log_level::trace, os.str());
}

void server::stop() {
  if (stopping_) return;
  stopping_ = true;
  std::error_code ignored;
  acceptor_.close(ignored);
  core_.shutdown(now());
  apply();
  timer_.cancel();
}

server_options embedded_broker::default_options() {
  server_options o;
  o.port = 0;
  return o;
}

embedded_broker::embedded_broker(server_options options) {
  server_ = std::make_unique<server>(io_, std::move(options));
  port_ = server_->port();
  thread_ = std::thread([this] { io_.run(); });
}

embedded_broker::~embedded_broker() {
  std::promise<void> stopped;
  asio::post(io_, [&] {
    server_->stop();
    stopped.set_value();
  });
  // Give the goodbyes a moment to flush, then end the loop whatever the clients do.
  stopped.get_future().wait();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace mqttspec::broker
