#pragma once
// One raw MQTT client connection of a scenario: a TCP or TLS stream, optionally carrying MQTT over
// WebSocket, whose incoming bytes go through the codec's framer and decoder into a queue of
// events. Single-threaded: the scenario's engine drives the io_context and reads the queue; every
// wait here has a deadline.
#include "mqttspec/codec/codec.hpp"
#include "mqttspec/conformance/engine.hpp"
#include "mqttspec/conformance/scenario.hpp"
#include "mqttspec/conformance/verdict.hpp"
#include "mqttspec/transport/stream.hpp"
#include "mqttspec/transport/websocket/endpoint.hpp"

#include <asio.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <random>
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
  // closed: a violation that made us close (the broker sent a text frame: MQTT-6.0.0-1), reported
  // as a finding even when a step expected the close.
  std::string finding{};
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

// How a <send> step puts its bytes into WebSocket frames (its ws-* attributes). The default is
// one binary frame per send.
struct ws_framing {
  std::uint8_t op = 0x2;     // ws-opcode: text, binary, continuation, ping, pong, close or 0..15
  std::size_t split = 0;     // ws-split=N: two binary messages, the first holding N bytes
  std::size_t fragment = 0;  // ws-fragment=N: one binary message in two frames (N bytes, then a continuation)
  bool hold = false;         // ws-hold: not sent yet; the next send puts these bytes in front, in the same frame
  bool plain() const { return op == 0x2 && !split && !fragment && !hold; }
};
// The ws-* attributes of a step; error text for a bad value.
codec::basic_result<ws_framing, std::string> ws_framing_of(const attributes& a);

class client_connection : public std::enable_shared_from_this<client_connection> {
 public:
  // tls: nullptr for plain TCP.
  client_connection(asio::io_context& io, std::string name, codec::protocol_version v, wire_logger& log,
                    asio::ssl::context* tls);

  // Starts connecting: TCP, the TLS handshake (whose certificate must name t.host when `verify`),
  // and for a WebSocket target the HTTP upgrade offering "mqtt". connect_done() turns true when
  // finished, then connect_error() tells how it went.
  void start_connect(const asio::ip::tcp::resolver::results_type& endpoints, const target& t, bool verify);
  bool connect_done() const { return connect_done_; }
  const std::string& connect_error() const { return connect_error_; }

  bool is_websocket() const { return ws_.has_value(); }
  // The subprotocol the broker's handshake response selected (nullopt: none).
  const std::optional<std::string>& subprotocol() const { return subprotocol_; }

  // Writes all bytes (over WebSocket: in the frames `framing` says), running the io_context until
  // they are written or `deadline` passes (a broker that stops reading must not hang the runner).
  // A write error is logged and otherwise ignored: the broker may have closed on purpose.
  void send(codec::bytes_view bytes, steady::time_point deadline, const ws_framing& framing = {});
  void close();  // our side, abruptly; later events of this socket are ignored
  bool is_open() const { return stream_.is_open() && !peer_closed_; }

  std::vector<incoming>& events() { return events_; }
  const std::vector<incoming>& events() const { return events_; }
  std::size_t cursor = 0;  // next unread event (any-of rewinds it)
  // Received bytes that do not make a whole packet (yet): a wait that ran out can say so.
  std::size_t partial_bytes() const { return framer_.buffered(); }
  const std::string& name() const { return name_; }

  // Like a normal client, answer the broker's QoS 1/2 deliveries at once: PUBACK, PUBREC, and
  // PUBCOMP for its PUBREL. A broker may keep one message in flight and wait for the ack before
  // the next (v5:MQTT-4.9.0-1, 3.1.1 §4.6), so a client that does not ack would stall it. The
  // PUBLISH still reaches the steps; an answered PUBREL does not (it is only logged). Scenarios
  // about the acknowledgement flow itself turn this off (auto-ack="0").
  bool auto_ack = true;

  // Like a normal client, keep the connection alive: a PINGREQ whenever we sent nothing for
  // `interval` (half the Keep Alive in force), while the engine waits. The PINGRESPs owed to these
  // pings do not reach the steps. A broker's Server Keep Alive may be shorter than a wait the spec
  // allows (a resend 10 s late); scenarios about Keep Alive itself leave this off (auto-ping="0").
  void keep_alive(std::chrono::milliseconds interval);

 private:
  void read();
  void on_raw(codec::bytes_view raw);
  bool on_mqtt_bytes(codec::bytes_view data);  // false: the stream is unusable, stop reading
  void on_closed(std::string why, bool tls_failure, std::string finding = {});
  void start_ws_handshake(const target& t);
  // Writes are queued so that a pong never interleaves with a send; returns the item's ticket.
  std::uint64_t write_raw(codec::bytes data);
  // The acknowledgement auto_ack owes for p, sent without waiting; true when p is a PUBREL so answered.
  bool acknowledge(const codec::packet& p);
  void schedule_ping();
  void pump();

  asio::io_context& io_;
  transport::stream stream_;
  std::optional<transport::websocket::endpoint> ws_;
  std::optional<std::string> subprotocol_;
  codec::bytes held_;  // ws-hold: bytes waiting for the next send's frame
  std::mt19937 random_{std::random_device{}()};  // WebSocket key and masks
  std::deque<std::shared_ptr<codec::bytes>> out_;
  std::uint64_t queued_ = 0, written_ = 0;
  bool writing_ = false;
  std::string name_;
  codec::protocol_version version_;
  wire_logger& log_;
  // A length claim above 16 MiB is refused from the fixed header instead of buffered: no scenario
  // makes a broker send more than ~2 MiB, and a hostile target claiming 256 MB must not hold us.
  codec::framer framer_{std::size_t{16} << 20};
  std::array<char, 4096> buf_{};
  std::vector<incoming> events_;
  asio::steady_timer ping_timer_;
  std::chrono::milliseconds ping_interval_{0};
  steady::time_point last_sent_ = steady::now();
  unsigned pings_pending_ = 0;  // PINGRESPs owed to our own pings
  bool connect_done_ = false;
  bool peer_closed_ = false;
  bool closed_by_us_ = false;
  std::string connect_error_;
};

}  // namespace mqttspec::conformance
