#pragma once
// A deliberately dumb MQTT client for the broker's socket tests: a blocking POSIX TCP socket on
// the loopback interface, every read bounded by a deadline (poll), packets encoded and decoded
// with the codec, and raw bytes for input that breaks the rules on purpose. It makes no protocol
// decision of its own: each test says exactly what is sent and what must come back.
#include "mqttspec/codec/codec.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace mqttspec::broker::test {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// How long to wait for something that must come. Generous: a passing test never waits it out.
inline constexpr milliseconds patience = 5s;

// What the next read produced.
struct arrival {
  enum class kind : std::uint8_t { packet, closed, timeout, garbage };
  kind what = kind::timeout;
  const codec::packet* packet = nullptr;  // kind::packet; owned by the client, valid while it lives
  codec::bytes raw;                       // the frame as received (kind::packet, kind::garbage)
  std::string error;                      // kind::garbage: why it did not decode
};
std::ostream& operator<<(std::ostream& os, const arrival& a);

class loopback_client {
 public:
  // Connects a TCP socket to 127.0.0.1:port; the MQTT CONNECT is up to the test.
  loopback_client(std::uint16_t port, codec::protocol_version v);
  ~loopback_client();
  loopback_client(const loopback_client&) = delete;
  loopback_client& operator=(const loopback_client&) = delete;

  codec::protocol_version version() const noexcept { return version_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  std::uint16_t local_port() const;  // this end's TCP port

  void send_bytes(codec::bytes_view data);  // a failed write fails the test
  void send(const codec::packet& p);        // encoded in version()
  // Closes the socket without DISCONNECT (an abrupt end as far as MQTT is concerned).
  void drop();

  // The next packet, the close of the connection, or a timeout.
  arrival next(milliseconds timeout = patience);

  // The next arrival must be a packet of type T; anything else fails the test and gives nullopt.
  // Views in the result point into storage the client keeps for its lifetime.
  template <class T>
  std::optional<T> expect(milliseconds timeout = patience) {
    const arrival a = next(timeout);
    if (a.what == arrival::kind::packet) {
      if (const auto* p = std::get_if<T>(a.packet)) return *p;
    }
    ADD_FAILURE() << "expected " << codec::to_string(codec::type_of(codec::packet{T{}})) << ", observed " << a;
    return std::nullopt;
  }

  // The broker must close the connection within `timeout`, sending nothing more before.
  ::testing::AssertionResult expect_closed(milliseconds timeout = patience);
  // Sends PINGREQ and requires PINGRESP to be the next packet: proves that nothing else was on its
  // way to this client. The broker runs on one thread and handles input in order, so whatever it
  // owes this client for input it has already processed (from this client or, once their
  // acknowledgements came back, from others) is queued before the PINGRESP.
  ::testing::AssertionResult expect_nothing_pending(milliseconds timeout = patience);

 private:
  codec::protocol_version version_;
  int fd_ = -1;
  codec::framer framer_;
  bool eof_ = false;
  std::deque<std::unique_ptr<const codec::bytes>> storage_;
  std::deque<std::unique_ptr<const codec::packet>> packets_;
};

}  // namespace mqttspec::broker::test
