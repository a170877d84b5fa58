#pragma once
// Plays a script against a broker and judges every connection (judge.hpp). Each send step is
// followed by a PINGREQ when the client's stream is made of whole frames, and the step ends with
// its PINGRESP (or a close, or the reply timeout): the broker has then handled everything sent so
// far on that connection, which makes a replay see the same broker state. Deliveries are
// acknowledged before the next step on connections whose open step says so. The script ends
// with a PINGREQ on every connection still open, so late deliveries are judged too. A step left
// unanswered ends the play (the caller judges liveness).
#include "conn.hpp"
#include "judge.hpp"
#include "script.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::netfuzz {

// One line of a session trace.
struct trace_entry {
  double t_ms = 0;
  std::uint8_t conn = 0;
  enum class dir : std::uint8_t { send, recv, event } d = dir::event;
  codec::bytes data;  // a frame (or unframed bytes) sent or received
  std::string note;
};

struct play_result {
  std::optional<problem> found;
  std::size_t step = 0;  // the step during which it was found
  std::uint8_t conn = 0;
  codec::protocol_version version = codec::protocol_version::v5;  // of that connection, as the broker knew it
  std::vector<trace_entry> trace;
  std::size_t steps = 0;        // steps played
  std::size_t connections = 0;  // connections opened
  std::size_t timeouts = 0;     // steps whose PINGRESP did not come on an open connection
  std::size_t open_failures = 0;
  bool aborted = false;  // stopped early on request (play_options::abort)
  bool unanswered() const { return timeouts > 0 || open_failures > 0; }
};

struct play_options {
  std::chrono::milliseconds reply_timeout{1000};
  // After a step that ends inside a frame (no PINGREQ can follow it): time for the broker to act.
  std::chrono::milliseconds settle{5};
  bool record = true;  // keep the trace
  std::uint32_t seed = 1;  // WebSocket masks
  const std::atomic<bool>* abort = nullptr;  // set: the play stops at the next step or wait
};

play_result play(asio::io_context& io, const net_target& target, const asio::ip::tcp::resolver::results_type& endpoints,
                 const script& s, const play_options& o);

// A fresh client's CONNECT + PINGREQ answered by CONNACK 0 + PINGRESP within the timeout.
bool probe(asio::io_context& io, const net_target& target, const asio::ip::tcp::resolver::results_type& endpoints,
           codec::protocol_version v, const std::string& client_id, std::chrono::milliseconds timeout);

// The trace as text lines ("12.345 ms  c1 -> CONNECT(...)"), frames decoded under `v`.
std::vector<std::string> trace_lines(const std::vector<trace_entry>& trace, codec::protocol_version v);

}  // namespace mqttspec::netfuzz
