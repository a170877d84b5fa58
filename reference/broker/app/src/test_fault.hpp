#pragma once
// TEST ONLY: `mqttspec-broker --test-fault crash|hang|misbehave` makes a deliberately buggy broker,
// so the network fuzzer's tests can show that it catches crashes, hangs and conformance bugs end
// to end. The broker core and shell stay as they are: the broker listens on an internal port and
// this relay, on the public one, passes bytes both ways. When a client sends bytes holding EF BB BF
// (the UTF-8 BOM, a valid character that normal clients hardly ever send; the fuzzer's mutator
// writes it into topics and client identifiers), the relay
//   crash:     aborts the process;
//   hang:      stops the I/O thread for good (the process lives, nobody is answered);
//   misbehave: sends that client a PUBLISH to "a/#", a Topic Name with a wildcard, which no Server
//              may send (MQTT-3.3.2-2), in the form of the version the client's CONNECT named.
// Plain TCP only (TLS and WebSocket bytes are not inspected). Never use it outside tests.
#include "mqttspec/codec/codec.hpp"

#include <asio.hpp>

#include <array>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace mqttspec::broker::test_fault {

enum class mode { crash, hang, misbehave };

class pipe : public std::enable_shared_from_this<pipe> {
 public:
  pipe(asio::ip::tcp::socket client, mode m) : client_(std::move(client)), broker_(client_.get_executor()), m_(m) {}

  void start(const asio::ip::tcp::endpoint& broker) {
    broker_.async_connect(broker, [self = shared_from_this()](const std::error_code& ec) {
      if (ec) return self->stop();
      self->up();
      self->down();
    });
  }

 private:
  void up() {
    client_.async_read_some(asio::buffer(up_), [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
      if (ec) return self->stop();
      const std::string_view data(self->up_.data(), n);
      if (!self->version_) {
        if (auto f = codec::parse_frame(data); f && f->type_bits() == 1)
          if (auto v = codec::peek_connect_version(f.value())) self->version_ = v.value();
      }
      if (data.find("\xEF\xBB\xBF") != std::string_view::npos) self->fault();
      asio::async_write(self->broker_, asio::buffer(self->up_.data(), n), [self](const std::error_code& wec, std::size_t) {
        if (wec) return self->stop();
        self->up();
      });
    });
  }

  void down() {
    broker_.async_read_some(asio::buffer(down_), [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
      if (ec) return self->stop();
      self->send(std::string(self->down_.data(), n), true);
    });
  }

  // Bytes for the client, one write at a time; `resume`: read the broker's next bytes once sent.
  void send(std::string data, bool resume) {
    pending_ += data;
    resume_ = resume_ || resume;
    if (!writing_) flush();
  }
  void flush() {
    if (pending_.empty()) {
      if (std::exchange(resume_, false)) down();
      return;
    }
    writing_ = true;
    auto out = std::make_shared<std::string>(std::exchange(pending_, {}));
    asio::async_write(client_, asio::buffer(*out), [self = shared_from_this(), out](const std::error_code& ec, std::size_t) {
      self->writing_ = false;
      if (ec) return self->stop();
      self->flush();
    });
  }

  void fault() {
    switch (m_) {
      case mode::crash: std::abort();
      case mode::hang:
        for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
      case mode::misbehave: {
        const bool v5 = version_ && codec::is_v5(*version_);
        send(v5 ? std::string("\x30\x06\x00\x03" "a/#" "\x00", 8) : std::string("\x30\x05\x00\x03" "a/#", 7), false);
        return;
      }
    }
  }

  void stop() {
    std::error_code ignored;
    client_.close(ignored);
    broker_.close(ignored);
  }

  asio::ip::tcp::socket client_, broker_;
  mode m_;
  std::optional<codec::protocol_version> version_;
  std::array<char, 16384> up_{}, down_{};
  std::string pending_;
  bool writing_ = false, resume_ = false;
};

// Listens on bind:port (0: any free port) and relays every connection to the broker's port.
class relay {
 public:
  relay(asio::io_context& io, const std::string& bind, std::uint16_t port, std::uint16_t broker_port, mode m)
      : acceptor_(io, {asio::ip::make_address(bind), port}), broker_({asio::ip::make_address(bind), broker_port}), m_(m) {
    accept();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void stop() {
    std::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  void accept() {
    acceptor_.async_accept([this](const std::error_code& ec, asio::ip::tcp::socket s) {
      if (ec) return;
      std::error_code ignored;
      s.set_option(asio::ip::tcp::no_delay(true), ignored);
      std::make_shared<pipe>(std::move(s), m_)->start(broker_);
      accept();
    });
  }

  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::endpoint broker_;
  mode m_;
};

}  // namespace mqttspec::broker::test_fault
