#pragma once
// A broker for the tests of `mqttspec bench` that forwards every PUBLISH to every subscriber but
// misbehaves on purpose, so that the bench's counting of loss, duplicates and order is checked
// against known answers. It numbers the messages it forwards (0, 1, 2, ...) and:
//   drop_every = k:    forwards no message n with n % k == k - 1;
//   dup_every = k:     sends message n twice when n % k == k - 1;
//   swap_every = k:    holds message n when n % k == 0 and sends it right after message n + 1.
// Publishers get PUBACK / PUBREC / PUBCOMP as usual; subscribers get the messages at the QoS they
// were granted (at most 1). In-process, on its own thread, on a free loopback port.
#include "mqttspec/codec/codec.hpp"

#include <asio.hpp>

#include <atomic>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace mqttspec::bench::testing {

struct misbehaviour {
  unsigned drop_every = 0;
  unsigned dup_every = 0;
  unsigned swap_every = 0;
};

class fake_broker {
 public:
  explicit fake_broker(misbehaviour m) : m_(m), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~fake_broker() {
    asio::post(io_, [this] { io_.stop(); });
    thread_.join();
  }
  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t duplicated() const { return duplicated_; }
  std::uint64_t swapped() const { return swapped_; }

 private:
  struct conn : std::enable_shared_from_this<conn> {
    explicit conn(asio::io_context& io) : sock(io) {}
    asio::ip::tcp::socket sock;
    std::array<char, 16384> buf{};
    codec::framer framer;
    codec::protocol_version version = codec::protocol_version::v5;
    bool subscriber = false;
    unsigned granted = 0;
    std::uint16_t next_id = 1;
  };

  void accept() {
    auto c = std::make_shared<conn>(io_);
    acceptor_.async_accept(c->sock, [this, c](std::error_code ec) {
      if (ec) return;
      c->sock.set_option(asio::ip::tcp::no_delay(true));
      conns_.insert(c);
      read(c);
      accept();
    });
  }

  template <class Ack>
  static Ack ack(std::uint16_t id) {
    Ack a;
    a.packet_id = id;
    return a;
  }

  void send(const std::shared_ptr<conn>& c, const codec::packet& p) {
    auto out = codec::encode(p, c->version);
    if (!out) return;
    std::error_code ignored;
    asio::write(c->sock, asio::buffer(*out), ignored);  // small and local: blocking is fine here
  }

  void forward_one(const codec::publish& p) {
    for (const auto& s : conns_) {
      if (!s->subscriber || !s->sock.is_open()) continue;
      codec::publish copy = p;
      copy.dup = false;
      copy.retain = false;
      copy.qos_level = static_cast<codec::qos>(std::min<unsigned>(s->granted, static_cast<unsigned>(p.qos_level)));
      copy.packet_id = copy.qos_level == codec::qos::at_most_once ? 0 : s->next_id++;
      if (s->next_id == 0) s->next_id = 1;
      send(s, copy);
    }
  }

  void route(const codec::publish& p) {
    const std::uint64_t n = forwarded_++;
    if (m_.drop_every && n % m_.drop_every == m_.drop_every - 1) {
      ++dropped_;
      return;
    }
    if (m_.swap_every && n % m_.swap_every == 0 && !held_) {
      held_payload_.assign(p.payload);
      held_topic_.assign(p.topic);
      held_ = p;
      held_->payload = held_payload_;
      held_->topic = held_topic_;
      return;
    }
    forward_one(p);
    if (m_.dup_every && n % m_.dup_every == m_.dup_every - 1) {
      ++duplicated_;
      forward_one(p);
    }
    if (held_) {
      forward_one(*held_);
      held_.reset();
      ++swapped_;
    }
  }

  void read(std::shared_ptr<conn> c) {
    c->sock.async_read_some(asio::buffer(c->buf), [this, c](std::error_code ec, std::size_t n) {
      if (ec) {
        conns_.erase(c);
        return;
      }
      c->framer.feed(codec::bytes_view(c->buf.data(), n));
      for (;;) {
        auto f = c->framer.next();
        if (!f) break;
        if (f->type_bits() == 1) {
          if (auto v = codec::peek_connect_version(*f)) c->version = *v;
          send(c, codec::connack{});
          continue;
        }
        auto d = codec::decode(*f, c->version);
        if (!d) continue;
        if (auto* s = std::get_if<codec::subscribe>(&*d)) {
          c->subscriber = true;
          c->granted = std::min<unsigned>(1, static_cast<unsigned>(s->subscriptions.at(0).options.max_qos));
          codec::suback ack;
          ack.packet_id = s->packet_id;
          ack.codes.push_back(static_cast<codec::reason_code>(c->granted));
          send(c, ack);
        } else if (auto* p = std::get_if<codec::publish>(&*d)) {
          if (p->qos_level == codec::qos::at_least_once) send(c, ack<codec::puback>(p->packet_id));
          if (p->qos_level == codec::qos::exactly_once) send(c, ack<codec::pubrec>(p->packet_id));
          route(*p);
        } else if (auto* rel = std::get_if<codec::pubrel>(&*d)) {
          send(c, ack<codec::pubcomp>(rel->packet_id));
        } else if (std::holds_alternative<codec::pingreq>(*d)) {
          send(c, codec::pingresp{});
        } else if (std::holds_alternative<codec::disconnect>(*d)) {
          std::error_code ignored;
          c->sock.close(ignored);
          conns_.erase(c);
          return;
        }
      }
      read(c);
    });
  }

  misbehaviour m_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::set<std::shared_ptr<conn>> conns_;
  std::uint64_t forwarded_ = 0;
  std::atomic<std::uint64_t> dropped_{0}, duplicated_{0}, swapped_{0};
  std::optional<codec::publish> held_;
  std::string held_payload_, held_topic_;
  std::thread thread_;
};

}  // namespace mqttspec::bench::testing
