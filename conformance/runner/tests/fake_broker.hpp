#pragma once
// An in-process stand-in for a broker on loopback with one fixed misbehaviour, so tests can check
// that the runner neither hangs nor crashes and still judges correctly.
#include <asio.hpp>

#include <memory>
#include <string>
#include <thread>

namespace mqttspec::conformance::testing {

enum class behaviour {
  silent,     // accepts and never answers
  close,      // accepts and closes at once
  garbage,    // answers anything with bytes that are no MQTT packet
  well,       // answers CONNECT with CONNACK 0 and PINGREQ with PINGRESP
  scripted,   // answers CONNECT with fixed bytes (any packets), then closes
};

class fake_broker {
 public:
  // behaviour::scripted: `connect_reply` goes out for every CONNECT.
  explicit fake_broker(behaviour b, std::string connect_reply = {})
      : b_(b), script_(std::move(connect_reply)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~fake_broker() {
    io_.stop();
    thread_.join();
  }
  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }

 private:
  struct conn : std::enable_shared_from_this<conn> {
    explicit conn(asio::io_context& io) : sock(io) {}
    asio::ip::tcp::socket sock;
    std::array<unsigned char, 1024> buf{};
  };

  void accept() {
    auto c = std::make_shared<conn>(io_);
    acceptor_.async_accept(c->sock, [this, c](std::error_code ec) {
      if (ec) return;
      if (b_ == behaviour::close) {
        c->sock.close();
      } else {
        read(c);
      }
      accept();
    });
  }

  void read(std::shared_ptr<conn> c) {
    c->sock.async_read_some(asio::buffer(c->buf), [this, c](std::error_code ec, std::size_t n) {
      if (ec) return;
      std::string reply;
      if (b_ == behaviour::garbage) reply = std::string("\x00\xff\xff\xff\xff\x7f", 6);
      if (b_ == behaviour::well) {
        // Good enough for the tests: every CONNECT and PINGREQ arrives in a read of its own.
        if ((c->buf[0] >> 4) == 1) reply = std::string("\x20\x02\x00\x00", 4);
        if (c->buf[0] == 0xC0) reply = std::string("\xD0\x00", 2);
      }
      if (b_ == behaviour::scripted && (c->buf[0] >> 4) == 1) reply = script_;
      (void)n;
      if (!reply.empty()) {
        std::error_code ignored;
        asio::write(c->sock, asio::buffer(reply), ignored);
        if (b_ == behaviour::scripted) {
          c->sock.close(ignored);
          return;
        }
      }
      read(c);
    });
  }

  behaviour b_;
  std::string script_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace mqttspec::conformance::testing
