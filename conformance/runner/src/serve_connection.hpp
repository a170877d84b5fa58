#pragma once
// One connection a client library opened to `mqttspec serve`: the Server's side of it. Incoming
// bytes go through the codec's framer and decoder into a queue of events (client_connection's
// `incoming`), every packet in both directions passes the client's monitor, and like a normal
// Server it answers by itself unless told not to: PUBACK / PUBREC for the client's QoS 1 / 2
// PUBLISH and PUBCOMP for its PUBREL (auto-ack; the PUBLISH still reaches the steps, the answered
// PUBREL does not), and PINGRESP for its PINGREQ (auto-ping; the PINGREQ does not reach the steps).
// Answers owed before the CONNACK wait for it. Single-threaded, driven by the scenario's io_context.
#include "client_connection.hpp"
#include "serve_monitor.hpp"

#include <asio.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mqttspec::conformance {

class server_connection : public std::enable_shared_from_this<server_connection> {
 public:
  server_connection(asio::io_context& io, asio::ip::tcp::socket socket, std::string name, codec::protocol_version v,
                    wire_logger& log, client_monitor& monitor);

  void start();  // begins reading
  // Writes the packet, running the io_context until it is written or `deadline` passes. A packet
  // that decodes passes the monitor; a write error is logged (the client may have closed).
  void send(codec::bytes_view bytes, steady::time_point deadline);
  void close();  // our side, abruptly; later events of this socket are ignored
  bool is_open() const { return socket_.is_open() && !peer_closed_ && !closed_by_us_; }
  bool peer_closed() const { return peer_closed_; }

  std::vector<incoming>& events() { return events_; }
  std::size_t cursor = 0;  // next unread event (any-of rewinds it)
  const std::string& name() const { return name_; }
  bool drained() const { return cursor >= events_.size(); }

  bool auto_ack = true;
  bool auto_ping = true;

 private:
  void read();
  void on_bytes(codec::bytes_view data);
  void on_closed(std::string why);
  // The answer auto-ack or auto-ping owes for p; true when p is consumed (a PUBREL or PINGREQ so answered).
  bool answer(const codec::packet& p);
  void write(codec::bytes data);
  void pump();

  asio::io_context& io_;
  asio::ip::tcp::socket socket_;
  std::string name_;
  codec::protocol_version version_;
  wire_logger& log_;
  client_monitor& monitor_;
  codec::framer framer_{std::size_t{16} << 20};
  std::array<char, 4096> buf_{};
  std::vector<incoming> events_;
  std::vector<codec::bytes> held_;  // answers owed before the CONNACK went out
  std::deque<std::shared_ptr<codec::bytes>> out_;
  std::uint64_t queued_ = 0, written_ = 0;
  bool writing_ = false;
  bool connack_sent_ = false;
  bool peer_closed_ = false;
  bool closed_by_us_ = false;
};

}  // namespace mqttspec::conformance
