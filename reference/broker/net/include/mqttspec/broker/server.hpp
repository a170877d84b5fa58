#pragma once
// The broker's network shell: TCP (or TLS) listeners, one plain MQTT and optionally one MQTT over
// WebSocket, and connections on standalone Asio around one sans-I/O broker core. It makes no
// protocol decision: it feeds bytes, closes and time to the core and carries out the core's
// actions; on a WebSocket connection transport::websocket::endpoint unwraps and wraps the bytes.
// Everything runs on the io_context's thread but authentication work (a password check, a SCRAM
// step: PBKDF2 can take a while), which a small thread pool does (config::defer_authentication)
// so that one login does not stall every other client; its result comes back to the io_context.
#include "mqttspec/broker/broker.hpp"
#include "mqttspec/transport/stream.hpp"

#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

namespace mqttspec::broker {

enum class log_level : std::uint8_t { error, warning, info, debug, trace };

struct server_options {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 1883;  // 0: any free port (see server::port)
  std::size_t max_connections = 10'000;
  // Bytes queued for one client that does not read; beyond it the connection is dropped as a
  // transient failure (v5:MQTT-4.13.1-1 / v3.1.1:MQTT-4.8.0-2), so a silent client cannot
  // exhaust memory. Beyond half of it, QoS 0 PUBLISHes to that client are dropped (and counted)
  // instead of queued, so that QoS 1/2 traffic keeps the room.
  std::size_t max_write_backlog = 16 * 1024 * 1024;
  log_level level = log_level::info;
  std::ostream* log = nullptr;  // nullptr: no logging
  // Set: the listeners speak TLS only (transport::make_server_context builds it from files); the
  // WebSocket listener is then wss.
  std::shared_ptr<asio::ssl::context> tls;
  // Set: a second listener on this port (0: any free one, see server::ws_port) speaks MQTT over
  // WebSocket (MQTT section 6): subprotocol "mqtt", MQTT in binary frames, any request path.
  std::optional<std::uint16_t> ws_port;
  // Set: durable Sessions and retained messages are kept there (mqttspec_broker_store's SQLite
  // file for --persistence). The server restores what it holds before it listens, and writes the
  // core's storage effects before it sends any packet queued with or after them, so a message is
  // stored before its PUBACK or PUBREC leaves. The core then runs on wall-clock milliseconds, so
  // that expiry counts the time the broker was down. A load or write error is thrown as
  // std::runtime_error (from the constructor, or out of io_context::run): the broker stops rather
  // than acknowledge what it cannot keep.
  std::shared_ptr<storage::backend> store;
  // Threads for authentication work. core.authenticate and core.enhanced_auth's exchanges run on
  // them, so must be safe to call from any thread. 0: they run on the io_context's thread, where a
  // slow check holds up every client (for comparison, e.g. `mqttspec bench login-stall`).
  unsigned auth_threads = 2;
  config core;
};

class server {
 public:
  server(asio::io_context& io, server_options options);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::uint16_t ws_port() const noexcept { return ws_port_; }  // 0 without a WebSocket listener
  std::uint64_t qos0_dropped() const noexcept { return qos0_dropped_; }  // for clients that did not read
  // Stops accepting, says goodbye to every client (5.0: DISCONNECT 0x8B) and closes them.
  void stop();
  const broker& core() const noexcept { return core_; }

 private:
  struct connection;

  void listen(asio::ip::tcp::acceptor& a, std::uint16_t port);
  void accept(asio::ip::tcp::acceptor& a, bool websocket);
  void handshake(std::shared_ptr<connection> c);     // TLS; on plain TCP straight on
  void ws_handshake(std::shared_ptr<connection> c);  // the HTTP upgrade of a WebSocket connection
  void read(std::shared_ptr<connection> c);      // plain TCP: into read_buffer_ when readable
  void read_tls(std::shared_ptr<connection> c);  // into the connection's own buffer
  // What one read brought (or its error) to the core; true while the connection is to be read on.
  bool read_done(const std::shared_ptr<connection>& c, std::error_code ec, codec::bytes_view data);
  void received(std::shared_ptr<connection> c, codec::bytes_view data);  // raw bytes from the peer
  void queue(connection& c, codec::bytes data);                           // raw bytes to the peer
  void write(std::shared_ptr<connection> c);
  void apply();  // carries out the core's actions and re-arms the timer
  void apply_actions(std::vector<action> actions);
  void start_auth_jobs();  // on the auth_workers_, results posted back
  void arm_timer();
  void store_effects();  // writes the core's storage effects (options_.store)
  void arm_store_timer();
  session::millis now() const;
  void log(log_level level, const std::string& text);
  void trace_bytes(connection& c, bool inbound, codec::bytes_view data);

  server_options options_;
  broker core_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::acceptor ws_acceptor_;
  asio::steady_timer timer_;
  asio::steady_timer store_timer_;  // the store's tick()
  std::map<connection_id, std::shared_ptr<connection>> connections_;
  // The one read buffer of every plain TCP connection (see read()); 16 KiB as each had before.
  static constexpr std::size_t read_buffer_size = 16 * 1024;
  std::unique_ptr<char[]> read_buffer_ = std::make_unique_for_overwrite<char[]>(read_buffer_size);
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();  // for the log
  std::chrono::steady_clock::time_point epoch_ = started_;  // the core's time 0 (with a store: the Unix epoch)
  std::uint16_t port_ = 0;
  std::uint16_t ws_port_ = 0;
  bool stopping_ = false;
  std::uint64_t qos0_dropped_ = 0;
  // Last: destroyed (joined) first, while what a finishing job posts back to can still take it.
  asio::thread_pool auth_workers_;
};

// The broker on its own thread, for tests and the conformance runner's embedded default.
class embedded_broker {
 public:
  explicit embedded_broker(server_options options = default_options());
  ~embedded_broker();  // stops the broker and joins its thread
  embedded_broker(const embedded_broker&) = delete;
  embedded_broker& operator=(const embedded_broker&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::uint16_t ws_port() const noexcept { return ws_port_; }  // 0 unless options.ws_port was set
  static server_options default_options();  // 127.0.0.1, port 0, no log

 private:
  asio::io_context io_;
  std::unique_ptr<server> server_;
  std::uint16_t port_ = 0;
  std::uint16_t ws_port_ = 0;
  std::thread thread_;
};

}  // namespace mqttspec::broker
