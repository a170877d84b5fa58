#pragma once
// A blocking TCP client with deadlines (poll on the native socket: no threads, no timers) and a
// checker that frames and judges everything the broker sends.
#include "mqttspec/codec/codec.hpp"

#include <asio.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::netfuzz {

using clock = std::chrono::steady_clock;

// A conformance problem in what the broker sent.
struct violation {
  std::string statement;  // e.g. "v5:MQTT-1.5.4-1"; empty when the rule has no number
  std::string detail;
  std::string hex;        // the offending frame or bytes
};

// Frames and decodes the broker's bytes for one connection.
class reply_checker {
 public:
  explicit reply_checker(codec::protocol_version v) : version_(v) {}
  // Feeds bytes; decoded packets are appended to `out`. Stops at the first violation.
  void feed(codec::bytes_view data, std::vector<codec::owned_packet>& out);
  const std::optional<violation>& problem() const { return problem_; }
  codec::protocol_version version() const { return version_; }
  // Before any byte arrived: the version the broker will answer in (that of the CONNECT sent).
  void set_version(codec::protocol_version v) { version_ = v; }
  // The CONNECT's version was unreadable or unsupported: its refusal may come in 3.1.1 or in 5.0
  // form (v5:MQTT-3.1.2-2 allows a 5.0 CONNACK 0x84), so accept either for the first packet.
  void accept_either_connack() { either_ = true; }

 private:
  codec::protocol_version version_;
  codec::framer framer_;
  bool first_ = true;
  bool either_ = false;
  std::optional<violation> problem_;
};

class wire_client {
 public:
  wire_client(asio::io_context& io, codec::protocol_version v) : sock_(io), checker_(v) {}

  bool connect(const asio::ip::tcp::resolver::results_type& endpoints);
  bool send(codec::bytes_view data);
  enum class outcome { matched, closed, timeout };
  // Reads until a packet of type `want` arrives, the peer closes, or the deadline passes.
  // Every packet read is appended to `packets` (may be cleared by the caller).
  outcome read_until(codec::packet_type want, clock::time_point deadline);
  void close();
  bool is_open() const { return sock_.is_open(); }
  reply_checker& checker() { return checker_; }
  std::vector<codec::owned_packet>& packets() { return packets_; }

 private:
  asio::ip::tcp::socket sock_;
  reply_checker checker_;
  std::vector<codec::owned_packet> packets_;
  std::array<char, 16384> buf_{};
};

}  // namespace mqttspec::netfuzz
