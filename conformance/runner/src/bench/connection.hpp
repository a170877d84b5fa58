#pragma once
// One benchmark client connection: TCP or TLS (transport::stream), optionally MQTT over WebSocket
// (transport::websocket), with batched I/O and no allocation per message once warm. Incoming bytes
// are framed in place with the codec (parse_frame) and each whole packet goes to the owner; the
// owner appends outgoing packets to out() and calls flush(), which writes everything queued in one
// operation while no write is pending. Single-threaded: everything runs on one io_context.
#include "mqttspec/codec/codec.hpp"
#include "mqttspec/conformance/engine.hpp"
#include "mqttspec/transport/stream.hpp"
#include "mqttspec/transport/websocket/endpoint.hpp"

#include <asio.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace mqttspec::bench {

class connection;

// What a connection reports to its owner (the engine).
class connection_events {
 public:
  virtual void opened(connection& c) = 0;                          // TCP, TLS and WebSocket are up
  virtual void packet(connection& c, const codec::frame& f) = 0;   // one whole MQTT packet
  virtual void read_done(connection& c) = 0;                       // after the packets of one read
  virtual void written(connection& c) = 0;                         // a write finished; out() may be refilled
  virtual void closed(connection& c, const std::string& why) = 0;  // once; not after our own close()

 protected:
  ~connection_events() = default;
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  // tls: nullptr for plain TCP. read_size: the initial read buffer (grows for larger packets).
  connection(asio::io_context& io, asio::ssl::context* tls, connection_events& events, std::uint32_t tag,
             std::size_t read_size);

  // Connects (then the TLS handshake, checking the certificate names where.host when `verify`, and
  // the WebSocket upgrade when where.ws_path is set); then events.opened(), or events.closed().
  void start(const asio::ip::tcp::resolver::results_type& endpoints, const conformance::target& where, bool verify);

  codec::bytes& out() noexcept { return out_; }
  void flush();
  bool writing() const noexcept { return writing_; }
  bool is_open() const noexcept { return open_; }
  // Ours, abrupt; no closed() event follows.
  void close();

  std::uint32_t tag() const noexcept { return tag_; }
  codec::protocol_version version = codec::protocol_version::v5;
  bool dirty = false;  // the owner's: queued for a deferred flush

 private:
  void read();
  void received(std::size_t n);
  void parse();
  void fail(const std::string& why);
  void ws_connect(const conformance::target& where);

  transport::stream stream_;
  connection_events& events_;
  std::uint32_t tag_;
  std::optional<transport::websocket::endpoint> ws_;
  std::mt19937 random_{std::random_device{}()};
  codec::bytes in_;      // MQTT bytes: [0, have_) filled
  std::size_t have_ = 0;
  codec::bytes raw_;     // WebSocket: bytes as read, before unframing
  codec::bytes out_;     // queued by the owner
  codec::bytes wbuf_;    // being written
  codec::bytes pending_raw_;  // WebSocket control frames to send (pongs)
  bool writing_ = false;
  bool open_ = false;
  bool done_ = false;    // closed, by either side
};

}  // namespace mqttspec::bench
