#pragma once
// Drives a broker core with several named clients, in memory: packets in, decoded packets out.
#include "mqttspec/broker/broker.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace mqttspec::broker::testing {

class harness {
 public:
  explicit harness(config c = {}) : core(std::move(c)) {}

  struct client {
    connection_id id = 0;
    codec::protocol_version version = codec::protocol_version::v5;
    codec::framer framer;
    std::vector<codec::owned_packet> inbox;
    bool closed = false;
    std::string close_why;  // the broker's reason, with the statement it names
  };

  // Opens a connection for `name` and sends `c` (its version is the connection's).
  client& connect(const std::string& name, codec::connect c) {
    auto& cl = clients[name];
    cl = client{};
    cl.id = core.open(now);
    cl.version = c.version;
    send(name, c);
    return cl;
  }
  static codec::connect connect_packet(std::string_view client_id, codec::protocol_version v, bool clean = true) {
    codec::connect c;
    c.version = v;
    c.client_id = client_id;
    c.clean_start = clean;
    return c;
  }
  // An AUTH of `method` carrying `data` (enhanced authentication, 5.0 §4.12).
  static codec::auth auth_packet(codec::reason_code code, std::string_view method, std::string_view data) {
    codec::auth a;
    a.code = code;
    a.props.authentication_method = method;
    a.props.authentication_data = data;
    return a;
  }
  void send(const std::string& name, const codec::packet& p) {
    auto& cl = clients.at(name);
    auto wire = codec::encode(p, cl.version);
    ASSERT_TRUE(wire) << wire.error().message();
    core.receive(cl.id, *wire, now);
    pump();
  }
  void send_raw(const std::string& name, codec::bytes_view data) {
    core.receive(clients.at(name).id, data, now);
    pump();
  }
  void drop(const std::string& name) {
    core.transport_closed(clients.at(name).id, now);
    pump();
  }
  void advance(millis ms) {
    now += ms;
    while (auto d = core.deadline()) {
      if (*d > now) break;
      core.on_timer(now);
      pump();
    }
  }
  // Takes everything `name` has received so far.
  std::vector<codec::owned_packet> take(const std::string& name) { return std::exchange(clients.at(name).inbox, {}); }
  // Takes the only packet `name` received, checking its type.
  template <class P>
  P take_one(const std::string& name, codec::owned_packet& keep) {
    auto got = take(name);
    EXPECT_EQ(got.size(), 1u) << name << " received " << got.size() << " packets";
    if (got.empty()) return P{};
    keep = got.front();
    EXPECT_TRUE(std::holds_alternative<P>(keep.value)) << name << " got " << keep.value;
    return std::holds_alternative<P>(keep.value) ? std::get<P>(keep.value) : P{};
  }

  // config::defer_authentication: runs the auth_jobs the core handed out and gives their results back.
  void run_auth_jobs() {
    while (core.has_auth_jobs())
      for (auto& job : core.take_auth_jobs()) core.auth_done(job.id, job.work(), now);
    pump();
  }

  broker core;
  std::map<std::string, client> clients;
  millis now = 1'000;
  // Off: auth_jobs wait for run_auth_jobs(), as the work of a slow authentication would.
  bool auth_jobs_at_once = true;

 private:
  void pump() {
    if (auth_jobs_at_once && core.has_auth_jobs()) return run_auth_jobs();
    for (auto& a : core.take_actions()) {
      for (auto& [name, cl] : clients) {
        if (auto* t = std::get_if<transmit_to>(&a); t && t->id == cl.id) {
          ASSERT_FALSE(cl.closed) << "bytes sent to " << name << " after close";
          cl.framer.feed(t->data);
          for (auto f = cl.framer.next(); f; f = cl.framer.next()) {
            auto storage = std::make_shared<codec::bytes>(f->bytes);
            auto p = codec::decode(*codec::parse_frame(*storage), cl.version);
            ASSERT_TRUE(p) << name << ": broker sent an undecodable packet: " << p.error();
            cl.inbox.push_back({storage, *p});
          }
        } else if (auto* c = std::get_if<close_connection>(&a); c && c->id == cl.id) {
          cl.closed = true;
          cl.close_why = c->why;
        }
      }
    }
  }
};

// Packets and exchanges most tests share.
inline codec::publish make_publish(std::string_view topic, std::string_view payload,
                                   codec::qos q = codec::qos::at_most_once, std::uint16_t id = 0, bool retain = false) {
  codec::publish p;
  p.topic = topic;
  p.payload = payload;
  p.qos_level = q;
  p.packet_id = id;
  p.retain = retain;
  return p;
}

inline codec::subscribe make_subscribe(std::uint16_t id, std::string_view filter, codec::qos q,
                                       codec::retain_handling rh = codec::retain_handling::send_on_subscribe) {
  codec::subscribe s;
  s.packet_id = id;
  codec::subscription sub;
  sub.filter = filter;
  sub.options.max_qos = q;
  sub.options.handling = rh;
  s.subscriptions.push_back(sub);
  return s;
}

// Connects and checks the CONNACK; what follows it (resent or queued messages) stays in the inbox.
inline codec::connack connect(harness& h, const std::string& name, codec::connect c) {
  h.connect(name, c);
  auto& inbox = h.clients[name].inbox;
  EXPECT_FALSE(inbox.empty()) << name << " got no CONNACK";
  if (inbox.empty()) return {};
  const auto first = inbox.front();
  inbox.erase(inbox.begin());
  EXPECT_TRUE(std::holds_alternative<codec::connack>(first.value)) << first.value;
  if (!std::holds_alternative<codec::connack>(first.value)) return {};
  auto ack = std::get<codec::connack>(first.value);
  EXPECT_EQ(ack.code, codec::reason_code::success);
  ack.props = {};  // its views die with `first`; the tests read only numbers from it
  return ack;
}

// Subscribes and checks the SUBACK; retained messages sent after it stay in the inbox.
inline void subscribe(harness& h, const std::string& name, std::string_view filter, codec::qos q) {
  h.send(name, make_subscribe(1, filter, q));
  auto& inbox = h.clients[name].inbox;
  ASSERT_FALSE(inbox.empty()) << name << " got no SUBACK";
  const auto first = inbox.front();
  inbox.erase(inbox.begin());
  ASSERT_TRUE(std::holds_alternative<codec::suback>(first.value)) << first.value;
  const auto& ack = std::get<codec::suback>(first.value);
  ASSERT_EQ(ack.codes.size(), 1u);
  EXPECT_EQ(ack.codes[0], static_cast<codec::reason_code>(q));
}

// A toy enhanced-authentication method: one challenge "ping?", which "pong" answers.
inline auth_exchange toy_auth_exchange() {
  return [asked = false](std::string_view data) mutable {
    if (!asked) {
      asked = true;
      return auth_step{auth_outcome::challenge, "ping?", {}};
    }
    if (data == "pong") return auth_step{auth_outcome::success, "welcome", {}};
    return auth_step{auth_outcome::failure, {}, "no pong"};
  };
}

}  // namespace mqttspec::broker::testing
