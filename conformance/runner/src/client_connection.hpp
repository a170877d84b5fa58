#pragma once
// One raw MQTT client connection of a scenario: a TCP or TLS stream whose incoming bytes go through
// the codec's framer and decoder into a queue of events. Single-threaded: the scenario's engine
// drives the io_context and reads the queue; every wait here has a deadline.
#include "mqttspec/codec/codec.hpp"
#include "mqttspec/conformance/verdict.hpp"
#include "mqttspec/transport/stream.hpp"

#include <asio.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mqttspec::conformance {

using steady = std::chrono::steady_clock;

struct incoming {
  enum class kind { packet, malformed, closed } what = kind::packet;
  codec::owned_packet pkt;
  codec::decode_error error;  // malformed
  std::string raw_hex;        // malformed: the bytes that did not decode
  std::string note;           // closed: why
  steady::time_point at;
  bool tls_failure = false;  // closed by a TLS error (e.g. an alert): a setup problem, not the broker's MQTT
};

// The wire log of one scenario, shared by its connections.
class wire_logger {
 public:
  explicit wire_logger(codec::protocol_version v) : version_(v), start_(steady::now()) {}
  void sent(const std::string& client, codec::bytes_view bytes);
  void received(const std::string& client, const codec::packet& p);
  void malformed(const std::string& client, const std::string& hex, const codec::decode_error& e);
  void event(const std::string& client, std::string note);
  std::vector<wire_entry>& entries() { return entries_; }
  steady::time_point start() const { return start_; }

 private:
  wire_entry entry(const std::string& client, std::string direction);
  codec::protocol_version version_;
  steady::time_point start_;
  std::vector<wire_entry> entries_;
};

class client_connection : public std::enable_shared_from_this<client_connection> {
 public:
  // tls: nullptr for plain TCP.
  client_connection(asio::io_context& io, std::string name, codec::protocol_version v, wire_logger& log,
                    asio::ssl::context* tls);

  // Starts connecting (and the TLS handshake, whose certificate must name `host` when `verify`);
  // connect_done() turns true when finished, then connect_error() tells how it went.
  void start_connect(const asio::ip::tcp::resolver::results_type& endpoints, const std::string& host, bool verify);
  bool connect_done() const { return connect_done_; }
  const std::string& connect_error() const { return connect_error_; }

  // Writes all bytes, running the io_context until they are written or `deadline` passes (a
  // broker that stops reading must not hang the runner). A write error is logged and otherwise
  // ignored: the broker may have closed on purpose.
  void send(codec::bytes_view bytes, steady::time_point deadline);
  void close();  // our side, abruptly; later events of this socket are ignored
  bool is_open() const { return stream_.is_open() && !peer_closed_; }

  std::vector<incoming>& events() { return events_; }
  const std::vector<incoming>& events() const { return events_; }
  std::size_t cursor = 0;  // next unread event (any-of rewinds it)
  const std::string& name() const { return name_; }

 private:
  void read();
  void on_bytes(std::size_t n);

  asio::io_context& io_;
  transport::stream stream_;
  std::string name_;
  codec::protocol_version version_;
  wire_logger& log_;
  codec::framer framer_;
  std::array<char, 4096> buf_{};
  std::vector<incoming> events_;
  bool connect_done_ = false;
  bool peer_closed_ = false;
  bool closed_by_us_ = false;
  std::string connect_error_;
};

}  // namespace mqttspec::conformance
