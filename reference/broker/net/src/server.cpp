#include "mqttspec/broker/server.hpp"

#include "mqttspec/transport/websocket/endpoint.hpp"
#include "mqttspec/transport/websocket/handshake_io.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <future>
#include <stdexcept>
#include <sstream>
#include <vector>

namespace mqttspec::broker {

struct server::connection {
  connection(transport::stream s, connection_id i) : stream(std::move(s)), id(i) {}
  transport::stream stream;
  connection_id id;
  // TLS only: asio's TLS stream may decrypt into the buffer before the handler runs, so that
  // buffer cannot be the shared one. Allocated at the first read.
  std::unique_ptr<char[]> tls_buffer;
  // Bytes to send; none while empty, where an empty libstdc++ deque would still hold ~600 bytes.
  std::optional<std::deque<codec::bytes>> out;
  std::size_t backlog = 0;  // bytes in `out`
  std::size_t in_write = 0;  // the first entries of `out` that the write in flight holds
  std::uint64_t qos0_dropped = 0;  // QoS 0 PUBLISHes not queued: the backlog was over half the limit
  bool writing = false;
  bool closing = false;  // the core closed it: shut down once `out` is written
  std::string peer;
  // WebSocket connections: upgrade pending until the handshake is done, then the endpoint that
  // unwraps the peer's frames and wraps the core's bytes.
  bool websocket = false;
  // Heap-held, like the trace framer: most connections have neither.
  std::unique_ptr<transport::websocket::endpoint> ws;
  // Wire trace only: a framer of its own and the version seen in the CONNECT.
  std::unique_ptr<codec::framer> trace_framer;
  codec::protocol_version version = codec::protocol_version::v5;
};

namespace {

// What the shell asks of the core: storage effects when there is a store, authentication work
// handed out (start_auth_jobs) unless there are no threads for it.
server_options for_the_shell(server_options o) {
  o.core.storage_effects = o.store != nullptr;
  o.core.defer_authentication = o.auth_threads > 0;
  return o;
}

}  // namespace

server::server(asio::io_context& io, server_options options)
    : options_(for_the_shell(std::move(options))),
      core_(options_.core),
      acceptor_(io),
      ws_acceptor_(io),
      timer_(io),
      store_timer_(io),
      auth_workers_(std::max(1u, options_.auth_threads)) {
  if (options_.store) {
    // Wall-clock milliseconds on a monotonic clock: times stored by a previous run stay comparable.
    const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    epoch_ = std::chrono::steady_clock::now() - wall;
    storage::snapshot snap;
    if (auto error = options_.store->load(snap)) throw std::runtime_error(*error);
    const auto r = core_.restore(std::move(snap), now());
    log(log_level::info, "persistence: " + options_.store->describe() + ": restored " + std::to_string(r.sessions) +
                             " sessions, " + std::to_string(r.messages) + " queued or in-flight messages, " +
                             std::to_string(r.retained) + " retained messages; expired while down: " +
                             std::to_string(r.expired_sessions) + " sessions, " + std::to_string(r.expired_messages) +
                             " messages; wills published: " + std::to_string(r.wills_published) +
                             (r.orphans ? "; ignored " + std::to_string(r.orphans) + " records of unknown sessions" : ""));
    store_effects();
    arm_store_timer();
  }
  listen(acceptor_, options_.port);
  port_ = acceptor_.local_endpoint().port();
  log(log_level::info, "listening on " + options_.bind + ":" + std::to_string(port_));
  accept(acceptor_, false);
  if (options_.ws_port) {
    listen(ws_acceptor_, *options_.ws_port);
    ws_port_ = ws_acceptor_.local_endpoint().port();
    log(log_level::info, "listening on " + options_.bind + ":" + std::to_string(ws_port_) + " (MQTT over WebSocket)");
    accept(ws_acceptor_, true);
  }
}

void server::listen(asio::ip::tcp::acceptor& a, std::uint16_t port) {
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(options_.bind), port);
  a.open(endpoint.protocol());
  a.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  a.bind(endpoint);
  a.listen();
}

server::~server() = default;

session::millis server::now() const {
  return static_cast<session::millis>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - epoch_).count());
}

void server::log(log_level level, const std::string& text) {
  if (!options_.log || level > options_.level) return;
  static constexpr const char* names[] = {"error", "warning", "info", "debug", "trace"};
  const auto since_start = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
  *options_.log << "[" << since_start.count() << "ms] " << names[static_cast<int>(level)] << ": " << text << std::endl;
}

void server::accept(asio::ip::tcp::acceptor& a, bool websocket) {
  a.async_accept([this, &a, websocket](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) log(log_level::warning, "accept: " + ec.message());
      if (!stopping_ && a.is_open()) accept(a, websocket);
      return;
    }
    if (connections_.size() >= options_.max_connections) {
      log(log_level::warning, "connection refused: maximum connections reached");
      std::error_code ignored;
      socket.close(ignored);
    } else {
      std::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      // Plain TCP is read with non-blocking read_some once the socket is readable (see read()).
      if (!options_.tls) socket.non_blocking(true, ignored);
      auto stream = options_.tls ? transport::stream(std::move(socket), *options_.tls) : transport::stream(std::move(socket));
      auto c = std::make_shared<connection>(std::move(stream), core_.open(now()));
      auto remote = c->stream.socket().remote_endpoint(ignored);
      c->peer = remote.address().to_string() + ":" + std::to_string(remote.port());
      c->websocket = websocket;
      connections_[c->id] = c;
      log(log_level::debug, "connection " + std::to_string(c->id) + " from " + c->peer + (websocket ? " (WebSocket)" : ""));
      handshake(c);
      // The CONNECT timeout starts now: it also bounds TLS and WebSocket handshakes that stall.
      arm_timer();
    }
    if (!stopping_) accept(a, websocket);
  });
}

void server::handshake(std::shared_ptr<connection> c) {
  c->stream.async_handshake(asio::ssl::stream_base::server, [this, c](std::error_code ec) {
    if (c->closing || !connections_.contains(c->id)) return;
    if (!ec) return c->websocket ? ws_handshake(c) : read(c);
    log(log_level::debug, "connection " + std::to_string(c->id) + ": TLS handshake failed: " + ec.message());
    c->stream.close();
    core_.transport_closed(c->id, now());
    apply();
  });
}

void server::ws_handshake(std::shared_ptr<connection> c) {
  namespace ws = transport::websocket;
  ws::async_accept(c->stream, [this, c](ws::handshake_result<ws::accepted> r) {
    if (c->closing || !connections_.contains(c->id)) return;
    if (!r) {
      // The HTTP rejection (400, 426) is written already; the peer gets no MQTT session.
      log(log_level::debug, "connection " + std::to_string(c->id) + ": WebSocket handshake refused: " + r.error().message());
      c->stream.close();
      core_.transport_closed(c->id, now());
      apply();
      return;
    }
    log(log_level::debug, "connection " + std::to_string(c->id) + ": WebSocket " + r->request.path + ", subprotocol " + r->protocol);
    c->ws = std::make_unique<ws::endpoint>(ws::endpoint_options{ws::role::server, {}, nullptr});
    if (!r->leftover.empty()) received(c, r->leftover);
    if (!c->ws->is_closed()) read(c);
    apply();
  });
}

// Plain TCP (and WebSocket over it): the connection owns no read buffer. It waits until the socket
// is readable, then reads without blocking into read_buffer_, which every connection shares: the
// I/O runs on one thread and the bytes are handed on before the next read. With 10,000 idle
// connections a buffer each was most of the broker's memory.
void server::read(std::shared_ptr<connection> c) {
  if (c->stream.is_tls()) return read_tls(std::move(c));
  auto& socket = c->stream.socket();
  for (;;) {
    std::error_code ec;
    const std::size_t n = socket.read_some(asio::buffer(read_buffer_.get(), read_buffer_size), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      // Only after would_block: readiness that came before the wait is then not missed.
      socket.async_wait(asio::socket_base::wait_read, [this, c](std::error_code failed) {
        if (c->closing || !connections_.contains(c->id)) return;
        if (failed) {
          log(log_level::debug, "connection " + std::to_string(c->id) + " closed: " + failed.message());
          core_.transport_closed(c->id, now());
          apply();
          return;
        }
        read(c);
      });
      return;
    }
    if (!read_done(c, ec, codec::bytes_view(read_buffer_.get(), n))) return;
    if (n == read_buffer_size) break;  // a burst: likely more to read
    // A short read mostly drained the socket: the next read finds would_block at once.
  }
  // Bursts are read one buffer per turn, as asio's own reads: the other connections' handlers run
  // before the next. (Reading a burst until would_block cost throughput in the pairs bench.)
  asio::post(timer_.get_executor(), [this, c] {
    if (c->closing || !connections_.contains(c->id)) return;
    read(c);
  });
}

void server::read_tls(std::shared_ptr<connection> c) {
  // 16 KiB: a whole TLS record's plaintext in one read.
  constexpr std::size_t size = 16 * 1024;
  if (!c->tls_buffer) c->tls_buffer = std::make_unique_for_overwrite<char[]>(size);
  c->stream.async_read_some(asio::buffer(c->tls_buffer.get(), size), [this, c](std::error_code ec, std::size_t n) {
    if (c->closing || !connections_.contains(c->id)) return;
    if (read_done(c, ec, codec::bytes_view(c->tls_buffer.get(), n))) read_tls(c);
  });
}

bool server::read_done(const std::shared_ptr<connection>& c, std::error_code ec, codec::bytes_view data) {
  if (ec) {
    log(log_level::debug, "connection " + std::to_string(c->id) + " closed: " + ec.message());
    core_.transport_closed(c->id, now());
    apply();
    return false;
  }
  received(c, data);
  apply();
  // A WebSocket that ended (close frame, text frame, protocol error) is read no further; nor is
  // a connection that the core closed meanwhile.
  if (c->ws && c->ws->is_closed()) return false;
  return !c->closing && connections_.contains(c->id);
}

void server::received(std::shared_ptr<connection> c, codec::bytes_view data) {
  auto to_core = [&](codec::bytes_view mqtt) {
    if (options_.level >= log_level::trace) trace_bytes(*c, true, mqtt);
    core_.receive(c->id, mqtt, now());
  };
  if (!c->ws) return to_core(data);
  namespace ws = transport::websocket;
  for (auto& e : c->ws->receive(data)) {
    if (auto* d = std::get_if<ws::data>(&e)) {
      to_core(d->bytes);
    } else if (auto* t = std::get_if<ws::transmit>(&e)) {
      queue(*c, std::move(t->bytes));
      write(c);
    } else {
      // Close frame, or a frame MQTT or RFC 6455 does not allow (a text frame: MQTT-6.0.0-1): our
      // close frame is queued; the core learns that the transport is gone and closes it.
      log(log_level::debug, "connection " + std::to_string(c->id) + ": " + std::get<ws::closed>(e).describe());
      core_.transport_closed(c->id, now());
    }
  }
}

void server::queue(connection& c, codec::bytes data) {
  if (data.empty()) return;
  c.backlog += data.size();
  if (!c.out) c.out.emplace();
  c.out->push_back(std::move(data));
}

void server::write(std::shared_ptr<connection> c) {
  if (c->writing) return;
  if (!c->out || c->out->empty()) {
    c->out.reset();
    if (c->closing) c->stream.close();
    return;
  }
  // Everything queued leaves in one gathered write (one sendmsg for many small packets, where a
  // write per packet made send() most of the broker's time under load), within a bound.
  constexpr std::size_t max_buffers = 64, max_bytes = 256 * 1024;
  std::vector<asio::const_buffer> buffers;
  std::size_t bytes = 0;
  for (const auto& b : *c->out) {
    if (buffers.size() == max_buffers || (!buffers.empty() && bytes + b.size() > max_bytes)) break;
    buffers.push_back(asio::buffer(b));
    bytes += b.size();
  }
  c->in_write = buffers.size();
  c->writing = true;
  c->stream.async_write(buffers, [this, c](std::error_code ec, std::size_t) {
    c->writing = false;
    if (ec) {
      c->out.reset();
      c->backlog = 0;
      c->in_write = 0;
      c->stream.close();
      if (!c->closing) core_.transport_closed(c->id, now());
      apply();
      return;
    }
    if (!c->out || c->out->empty()) return;  // cleared under us: the connection was dropped
    for (; c->in_write > 0; --c->in_write) {
      c->backlog -= c->out->front().size();
      c->out->pop_front();
    }
    write(c);
  });
}

void server::apply() {
  // What the core stored is written before any packet it queued with it leaves.
  for (;;) {
    store_effects();
    if (!core_.has_actions()) break;
    apply_actions(core_.take_actions());
  }
  start_auth_jobs();
  arm_timer();
}

void server::start_auth_jobs() {
  for (auto& job : core_.take_auth_jobs()) {
    asio::post(auth_workers_, [this, job = std::move(job)] {
      auth_step result;
      std::exception_ptr failed;  // e.g. OpenSSL's: thrown on the io_context's thread, as it was before
      try {
        result = job.work();
      } catch (...) {
        failed = std::current_exception();
      }
      asio::post(timer_.get_executor(), [this, id = job.id, result = std::move(result), failed]() mutable {
        if (failed) std::rethrow_exception(failed);
        core_.auth_done(id, std::move(result), now());  // dropped if the connection is gone
        apply();
      });
    });
  }
}

void server::store_effects() {
  if (!options_.store || !core_.has_storage()) return;
  const auto effects = core_.take_storage();
  if (auto error = options_.store->write(effects, now())) {
    log(log_level::error, "persistence: " + *error + "; stopping");
    throw std::runtime_error(*error);
  }
}

void server::arm_store_timer() {
  store_timer_.expires_after(std::chrono::seconds(1));
  store_timer_.async_wait([this](std::error_code ec) {
    if (ec || stopping_) return;
    if (auto error = options_.store->tick(now())) {
      log(log_level::error, "persistence: " + *error + "; stopping");
      throw std::runtime_error(*error);
    }
    arm_store_timer();
  });
}

void server::apply_actions(std::vector<action> actions) {
  for (auto& a : actions) {
    if (auto* t = std::get_if<transmit_to>(&a)) {
      auto it = connections_.find(t->id);
      if (it == connections_.end()) continue;
      auto c = it->second;
      if (t->droppable && c->backlog > options_.max_write_backlog / 2) {
        if (c->qos0_dropped++ == 0)
          log(log_level::warning, "connection " + std::to_string(c->id) + " does not keep up: dropping QoS 0 messages");
        ++qos0_dropped_;
        continue;
      }
      if (options_.level >= log_level::trace) trace_bytes(*c, false, t->data);
      if (c->ws) {
        if (c->ws->close_sent()) continue;  // nothing may follow our close frame
        queue(*c, c->ws->wrap(t->data));
      } else {
        queue(*c, std::move(t->data));
      }
      if (c->backlog > options_.max_write_backlog) {
        log(log_level::warning, "connection " + std::to_string(c->id) + " does not read: dropped");
        // The buffers of a write in flight must live until its handler runs.
        const std::size_t keep = c->writing ? c->in_write : 0;
        while (c->out && c->out->size() > keep) {
          c->backlog -= c->out->back().size();
          c->out->pop_back();
        }
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
      if (c->qos0_dropped)
        log(log_level::warning, "connection " + std::to_string(c->id) + ": " + std::to_string(c->qos0_dropped) +
                                    " QoS 0 messages dropped while it did not keep up");
      connections_.erase(it);
      c->closing = true;
      if (c->ws) queue(*c, c->ws->close(1000));  // empty when a close frame went already
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
    if (!c.trace_framer) c.trace_framer = std::make_unique<codec::framer>();
    c.trace_framer->feed(data);
    for (;;) {
      auto f = c.trace_framer->next();
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
  ws_acceptor_.close(ignored);
  core_.shutdown(now());
  apply();
  timer_.cancel();
  store_timer_.cancel();
  const auto& s = core_.stats();
  log(log_level::info, "stats: " + std::to_string(s.messages_received) + " messages received, " +
                           std::to_string(s.messages_sent) + " messages sent, " + std::to_string(s.messages_dropped) +
                           " dropped (" + std::to_string(s.qos0_dropped) + " QoS 0 for full queues), " +
                           std::to_string(qos0_dropped_) + " QoS 0 not queued for clients that did not keep up, " +
                           std::to_string(s.refused_by_limits) + " refused by topic or subscription limits, " +
                           std::to_string(s.retained_refused) + " not retained (retained limits)");
  if (options_.store) {
    if (auto error = options_.store->tick(now())) log(log_level::error, "persistence: " + *error);
  }
}

server_options embedded_broker::default_options() {
  server_options o;
  o.port = 0;
  return o;
}

embedded_broker::embedded_broker(server_options options) {
  server_ = std::make_unique<server>(io_, std::move(options));
  port_ = server_->port();
  ws_port_ = server_->ws_port();
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
