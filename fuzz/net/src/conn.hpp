#pragma once
// One client connection of the fuzzer over TCP, TLS or WebSocket (wss too), driven by the
// worker's io_context: a read is always pending, and every wait runs the io_context until a
// condition holds or a deadline passes, so all connections of a worker advance together.
#include "mqttspec/codec/codec.hpp"
#include "mqttspec/netfuzz/net_fuzz.hpp"
#include "mqttspec/transport/stream.hpp"
#include "mqttspec/transport/websocket/endpoint.hpp"

#include <asio.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace mqttspec::netfuzz {

using clock = std::chrono::steady_clock;

// Runs `io` until `done()` holds or the deadline passes. True when it holds.
bool run_until(asio::io_context& io, clock::time_point deadline, const std::function<bool()>& done);

class connection : public std::enable_shared_from_this<connection> {
 public:
  static std::shared_ptr<connection> make(asio::io_context& io, const net_target& target, std::uint32_t seed);

  // TCP connect, TLS handshake and WebSocket upgrade as the target asks. False when it failed or
  // did not finish by the deadline (error() says which).
  bool open(const asio::ip::tcp::resolver::results_type& endpoints, clock::time_point deadline);
  // Writes MQTT bytes (one binary frame over WebSocket). False when the connection is gone.
  bool send(codec::bytes_view data, clock::time_point deadline);
  // MQTT bytes received since the last call.
  codec::bytes take() { return std::exchange(inbox_, {}); }
  bool has_input() const { return !inbox_.empty(); }
  bool is_open() const { return opened_ && !closed_ && !closed_by_us_; }
  bool peer_closed() const { return closed_; }
  const std::string& error() const { return error_; }
  // Abrupt close by the client (no DISCONNECT, no TLS close_notify, no WebSocket close frame).
  void close();

  connection(asio::io_context& io, const net_target& target, std::uint32_t seed);

 private:
  void read();
  void on_raw(codec::bytes_view raw);
  void queue(codec::bytes data);
  void write_next();
  void lost(std::string why);

  asio::io_context& io_;
  net_target target_;
  transport::stream stream_;
  std::optional<transport::websocket::endpoint> ws_;
  std::mt19937 rng_;
  std::array<char, 16384> buf_{};
  codec::bytes inbox_;
  std::deque<codec::bytes> writes_;
  bool writing_ = false;
  bool opened_ = false, open_done_ = false, closed_ = false, closed_by_us_ = false;
  std::string error_;
};

}  // namespace mqttspec::netfuzz
