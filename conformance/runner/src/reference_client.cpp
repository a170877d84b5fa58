// `mqttspec client-driver`: the reference client. A small MQTT 3.1.1 / 5.0 client on the codec
// that speaks the client-driver contract (docs/client-drivers.md): actions on stdin, what the
// application sees on stdout. It is the client the suite's client scenarios hold for: every packet
// it sends is decoded again before it goes out (so it never sends what the decoder refuses), it
// keeps the Server's limits from the CONNACK, keeps its Session across connections, and closes on
// anything it must not accept.
#include "mqttspec/conformance/client_role.hpp"
#include "mqttspec/conformance/packet_builder.hpp"
#include "mqttspec/conformance/variables.hpp"

#include "mqttspec/codec/codec.hpp"

#include <asio.hpp>

#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace mqttspec::conformance {
namespace {

using namespace codec;
using steady = std::chrono::steady_clock;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode_word(std::string_view w) {
  std::string out;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i] == '%' && i + 2 < w.size() && hex_digit(w[i + 1]) >= 0 && hex_digit(w[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(w[i + 1]) * 16 + hex_digit(w[i + 2]));
      i += 2;
    } else {
      out += w[i];
    }
  }
  return out;
}

std::string encode_word(std::string_view w) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : w) {
    if (c > 0x20 && c < 0x7F && c != '%' && c != '=') out += static_cast<char>(c);
    else (out += '%') += std::string{digits[c >> 4], digits[c & 15]};
  }
  return out;
}

// One action line: the verb, positional words and key=value options, all percent-decoded.
struct action {
  std::string verb;
  std::vector<std::string> args;
  std::map<std::string, std::string, std::less<>> opts;
  std::string opt(std::string_view k, std::string fallback = {}) const {
    auto it = opts.find(k);
    return it == opts.end() ? fallback : it->second;
  }
  bool has(std::string_view k) const { return opts.count(k) > 0; }
};

// How many positional words a verb takes before its key=value options.
std::size_t positional(std::string_view verb) {
  if (verb == "publish") return 3;
  if (verb == "subscribe") return 2;
  if (verb == "unsubscribe" || verb == "wait") return 1;
  return 0;
}

action parse_action(std::string_view line) {
  action a;
  std::size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && line[at] == ' ') ++at;
    if (at >= line.size()) break;
    auto end = line.find(' ', at);
    if (end == std::string_view::npos) end = line.size();
    const auto w = line.substr(at, end - at);
    const auto eq = w.find('=');
    if (a.verb.empty()) a.verb = std::string(w);
    else if (a.args.size() < positional(a.verb) || eq == std::string_view::npos) a.args.push_back(w == "-" ? std::string{} : decode_word(w));
    else a.opts[std::string(w.substr(0, eq))] = decode_word(w.substr(eq + 1));
    at = end;
  }
  return a;
}

struct outgoing {
  std::uint16_t id = 0;
  std::string topic, payload;
  qos q = qos::at_least_once;
  bool retain = false;
  bool released = false;  // QoS 2: PUBREC received, PUBREL sent
  std::optional<std::uint16_t> alias;
  std::map<std::string, std::string> props;  // snake_case name -> value
};

class reference_client {
 public:
  explicit reference_client(const client_driver_options& o)
      : o_(o),
        version_(o.version == "3.1.1" ? protocol_version::v3_1_1 : protocol_version::v5),
        socket_(io_),
        input_(io_, ::dup(STDIN_FILENO)),
        keep_alive_timer_(io_),
        wait_timer_(io_) {}

  int run() {
    emit("ready");
    read_input();
    io_.run();
    return 0;
  }

 private:
  // ---- output
  void emit(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

  // ---- input: one action at a time; connect and wait hold the queue until they are done
  void read_input() {
    asio::async_read_until(input_, asio::dynamic_buffer(in_buf_), '\n', [this](const std::error_code& ec, std::size_t n) {
      if (ec) {
        input_closed_ = true;
        if (!busy_ && actions_.empty()) shutdown();
        return;
      }
      std::string line = in_buf_.substr(0, n - 1);
      in_buf_.erase(0, n);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) actions_.push_back(line);
      next_action();
      read_input();
    });
  }

  void next_action() {
    while (!busy_ && !actions_.empty()) {
      auto line = actions_.front();
      actions_.pop_front();
      perform(parse_action(line));
    }
    if (!busy_ && actions_.empty() && input_closed_) shutdown();
  }

  void done() {
    busy_ = false;
    asio::post(io_, [this] { next_action(); });
  }

  void shutdown() {
    close_connection();
    std::error_code ignored;
    input_.close(ignored);
    keep_alive_timer_.cancel();
    wait_timer_.cancel();
  }

  void perform(const action& a) {
    if (a.verb == "connect") return do_connect(a);
    if (a.verb == "subscribe") return do_subscribe(a);
    if (a.verb == "unsubscribe") return do_unsubscribe(a);
    if (a.verb == "publish") return do_publish(a);
    if (a.verb == "disconnect") return do_disconnect(a);
    if (a.verb == "reauth") return do_reauth(a);
    if (a.verb == "wait") {
      busy_ = true;
      wait_timer_.expires_after(std::chrono::milliseconds(parse_number(a.args.empty() ? "0" : a.args[0], 600000).value_or(0)));
      wait_timer_.async_wait([this](const std::error_code&) { done(); });
      return;
    }
    if (a.verb == "exit") {
      actions_.clear();
      input_closed_ = true;
      return shutdown();
    }
    emit("unsupported " + a.verb);
  }

  // ---- packets out
  // Encodes and decodes again: what our decoder refuses does not go out. Error text when refused.
  std::optional<std::string> send(const packet& p) {
    auto bytes = encode(p, version_);
    if (!bytes) return "cannot encode: " + bytes.error().message();
    if (auto back = decode(*bytes, version_); !back) return back.error().message();
    if (server_max_packet_ && bytes->size() > *server_max_packet_)
      return "the packet is " + std::to_string(bytes->size()) + " bytes, above the Server's Maximum Packet Size " +
             std::to_string(*server_max_packet_);
    if (!socket_.is_open()) return std::string("not connected");
    // Written at once (small packets on a local connection): what follows goes out after it.
    std::error_code ec;
    asio::write(socket_, asio::buffer(*bytes), ec);
    last_sent_ = steady::now();
    if (ec) return "write: " + ec.message();
    return std::nullopt;
  }

  void close_connection() {
    connected_ = false;
    std::error_code ignored;
    if (socket_.is_open()) {
      socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
    }
    keep_alive_timer_.cancel();
    inbound_aliases_.clear();
    ++generation_;
  }

  // A violation by the Server: 5.0 says why in a DISCONNECT, then the connection closes.
  void protocol_violation(reason_code why, const std::string& text) {
    if (is_v5(version_) && socket_.is_open() && connected_) send(disconnect{why, {}});
    const bool was_connecting = connecting_;
    close_connection();
    if (was_connecting) {
      connecting_ = false;
      emit("connect-failed reason=" + std::to_string(static_cast<unsigned>(why)) + " detail=" + encode_word(text));
      done();
    } else {
      emit("connection-lost reason=" + std::to_string(static_cast<unsigned>(why)) + " detail=" + encode_word(text));
    }
  }

  // ---- connect
  void do_connect(const action& a) {
    close_connection();
    const bool clean = parse_bool(a.opt("clean", "1")).value_or(true);
    const auto client_id = a.has("client-id") ? a.opt("client-id") : o_.client_id;
    if (!is_v5(version_) && client_id.empty() && !clean) {
      emit("error a zero-length ClientId needs CleanSession 1");
      return;
    }
    if (!is_v5(version_) && a.has("password") && !a.has("username")) {
      emit("error a password needs a user name in MQTT 3.1.1");
      return;
    }
    c_ = {};
    c_.topic_alias_maximum = static_cast<std::uint16_t>(parse_number(a.opt("topic-alias-maximum", "0"), 65535).value_or(0));
    keep_alive_ = static_cast<std::uint16_t>(parse_number(a.opt("keep-alive", "60"), 65535).value_or(60));
    strings_ = {client_id, a.opt("username"), a.opt("password"), a.opt("will-topic"), a.opt("will-payload"),
                a.opt("auth-method"), a.opt("auth-data")};
    auth_response_ = a.opt("auth-response");
    auth_method_ = a.opt("auth-method");
    connect c;
    c.version = version_;
    c.clean_start = clean;
    c.keep_alive = keep_alive_;
    c.client_id = strings_[0];
    if (a.has("username")) c.user_name = strings_[1];
    if (a.has("password")) c.password = strings_[2];
    if (a.has("will-topic")) {
      will_message w;
      w.topic = strings_[3];
      w.payload = strings_[4];
      w.qos_level = static_cast<qos>(parse_number(a.opt("will-qos", "0"), 2).value_or(0));
      w.retain = parse_bool(a.opt("will-retain", "0")).value_or(false);
      c.will = w;
    }
    if (is_v5(version_)) {
      if (a.has("session-expiry")) c.props.session_expiry_interval = static_cast<std::uint32_t>(parse_number(a.opt("session-expiry"), 0xFFFFFFFFul).value_or(0));
      if (a.has("receive-maximum")) c.props.receive_maximum = static_cast<std::uint16_t>(parse_number(a.opt("receive-maximum"), 65535).value_or(65535));
      if (a.has("topic-alias-maximum")) c.props.topic_alias_maximum = c_.topic_alias_maximum;
      if (a.has("maximum-packet-size")) c.props.maximum_packet_size = static_cast<std::uint32_t>(parse_number(a.opt("maximum-packet-size"), 0xFFFFFFFFul).value_or(0));
      if (a.has("auth-method")) c.props.authentication_method = strings_[5];
      if (a.has("auth-data")) c.props.authentication_data = strings_[6];
    }
    // Clean Start: the Session State is thrown away before the CONNECT goes out.
    if (clean) {
      inflight_.clear();
      inbound_qos2_.clear();
      has_session_ = false;
    }
    persistent_ = is_v5(version_) ? c.props.session_expiry_interval.value_or(0) > 0 : !clean;
    server_max_packet_.reset();
    busy_ = true;
    connecting_ = true;
    std::error_code ec;
    const auto endpoints = asio::ip::tcp::resolver(io_).resolve(o_.host, o_.port, ec);
    if (ec) {
      connecting_ = false;
      emit("connect-failed detail=" + encode_word(ec.message()));
      return done();
    }
    const auto gen = generation_;
    asio::async_connect(socket_, endpoints, [this, c, gen](const std::error_code& cec, const asio::ip::tcp::endpoint&) {
      if (gen != generation_) return;
      if (cec) {
        connecting_ = false;
        emit("connect-failed detail=" + encode_word(cec.message()));
        return done();
      }
      std::error_code ignored;
      socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
      framer_ = framer{};
      read();
      if (auto e = send(c)) {
        close_connection();
        connecting_ = false;
        emit("connect-failed detail=" + encode_word(*e));
        return done();
      }
      connect_deadline(gen);
    });
  }

  void connect_deadline(unsigned gen) {
    auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(10));
    t->async_wait([this, t, gen](const std::error_code&) {
      if (gen != generation_ || !connecting_) return;
      close_connection();
      connecting_ = false;
      emit("connect-failed detail=no%20CONNACK%20within%2010%20s");
      done();
    });
  }

  void on_connack(const connack& ack) {
    if (!connecting_) return protocol_violation(reason_code::protocol_error, "a second CONNACK");
    const auto rc = static_cast<unsigned>(ack.code);
    if (is_failure(ack.code)) {
      const auto wire = is_v5(version_) ? rc : to_v311_connack(ack.code).value_or(0);
      close_connection();
      connecting_ = false;
      emit("connect-failed reason=" + std::to_string(wire));
      return done();
    }
    // Session Present 1 for a Session we do not have: close (v5:MQTT-3.2.2-4).
    if (ack.session_present && !has_session_) {
      close_connection();
      connecting_ = false;
      emit("connect-failed detail=Session%20Present%201%20without%20a%20Session");
      return done();
    }
    // Session Present 0: the Server has no Session; ours is discarded (v5:MQTT-3.2.2-5).
    if (!ack.session_present) {
      inflight_.clear();
      inbound_qos2_.clear();
    }
    connecting_ = false;
    connected_ = true;
    has_session_ = persistent_;
    const auto& p = ack.props;
    receive_maximum_ = p.receive_maximum.value_or(65535);
    server_max_packet_ = p.maximum_packet_size;
    topic_alias_max_ = p.topic_alias_maximum.value_or(0);
    max_qos_ = p.maximum_qos.value_or(2);
    retain_available_ = p.retain_available.value_or(1) != 0;
    if (p.assigned_client_identifier) assigned_id_ = std::string(*p.assigned_client_identifier);
    effective_keep_alive_ = p.server_keep_alive.value_or(keep_alive_);
    emit("connected session-present=" + std::string(ack.session_present ? "1" : "0"));
    // Unacknowledged PUBLISH and PUBREL packets again, in their original order, PUBLISH with DUP 1.
    for (auto& f : order_) {
      auto it = inflight_.find(f);
      if (it == inflight_.end()) continue;
      if (it->second.released) send(pubrel{it->second.id, {}, {}});
      else send_publish(it->second, true);
    }
    flush_pending();
    arm_keep_alive();
    done();
  }

  void arm_keep_alive() {
    if (effective_keep_alive_ == 0) return;
    // A PINGREQ when nothing was sent for three quarters of the Keep Alive.
    const auto interval = std::chrono::milliseconds(effective_keep_alive_ * 750);
    keep_alive_timer_.expires_at(last_sent_ + interval);
    const auto gen = generation_;
    keep_alive_timer_.async_wait([this, gen, interval](const std::error_code& ec) {
      if (ec || gen != generation_ || !connected_) return;
      if (steady::now() >= last_sent_ + interval) send(pingreq{});
      arm_keep_alive();
    });
  }

  // ---- reading
  void read() {
    const auto gen = generation_;
    socket_.async_read_some(asio::buffer(buf_), [this, gen](const std::error_code& ec, std::size_t n) {
      if (gen != generation_) return;
      if (ec) {
        const bool was_connecting = connecting_;
        close_connection();
        if (was_connecting) {
          connecting_ = false;
          emit("connect-failed detail=closed%20by%20the%20server");
          return done();
        }
        emit("connection-lost");
        return;
      }
      framer_.feed(std::string_view(buf_.data(), n));
      for (;;) {
        auto f = framer_.next();
        if (!f) {
          if (f.error().code == errc::need_more) break;
          return protocol_violation(reason_code::malformed_packet, f.error().message());
        }
        const auto bytes = std::make_shared<std::string>(f->bytes);
        auto d = decode(*bytes, version_);
        if (!d) return protocol_violation(d.error().reason(), d.error().message());
        on_packet(*d);
        if (gen != generation_) return;
      }
      read();
    });
  }

  void on_packet(const packet& p) {
    if (const auto* ack = std::get_if<connack>(&p)) return on_connack(*ack);
    if (connecting_ && !std::holds_alternative<auth>(p) && !std::holds_alternative<disconnect>(p))
      return protocol_violation(reason_code::protocol_error, "a packet before the CONNACK");
    if (const auto* pub = std::get_if<publish>(&p)) return on_publish(*pub);
    if (const auto* a = std::get_if<puback>(&p)) return settle(a->packet_id, false, false);
    if (const auto* r = std::get_if<pubrec>(&p)) {
      auto it = inflight_.find(r->packet_id);
      if (it == inflight_.end() || it->second.q != qos::exactly_once) {
        send(pubrel{r->packet_id, reason_code::packet_identifier_not_found, {}});
        return;
      }
      if (is_failure(r->code)) return settle(r->packet_id, true, true);
      it->second.released = true;
      send(pubrel{r->packet_id, {}, {}});
      return;
    }
    if (const auto* c = std::get_if<pubcomp>(&p)) return settle(c->packet_id, true, false);
    if (const auto* rel = std::get_if<pubrel>(&p)) {
      inbound_qos2_.erase(rel->packet_id);
      send(pubcomp{rel->packet_id, {}, {}});
      return;
    }
    if (const auto* s = std::get_if<suback>(&p)) {
      std::string codes;
      for (auto c : s->codes) codes += (codes.empty() ? "" : ",") + std::to_string(static_cast<unsigned>(c));
      sub_ids_.erase(s->packet_id);
      emit("subscribed codes=" + codes);
      return;
    }
    if (const auto* u = std::get_if<unsuback>(&p)) {
      sub_ids_.erase(u->packet_id);
      emit("unsubscribed");
      return;
    }
    if (std::holds_alternative<pingresp>(p)) return;
    if (const auto* d = std::get_if<disconnect>(&p)) {
      close_connection();
      emit("connection-lost reason=" + std::to_string(static_cast<unsigned>(d->code)));
      return;
    }
    if (const auto* a = std::get_if<auth>(&p)) return on_auth(*a);
    protocol_violation(reason_code::protocol_error, "a " + std::string(to_string(type_of(p))) + " from the Server");
  }

  void on_auth(const auth& a) {
    if (auth_method_.empty() || !a.props.authentication_method || *a.props.authentication_method != auth_method_)
      return protocol_violation(reason_code::protocol_error, "AUTH without our Authentication Method");
    if (a.code == reason_code::continue_authentication) {
      auth reply;
      reply.code = reason_code::continue_authentication;
      reply.props.authentication_method = auth_method_;
      reply.props.authentication_data = auth_response_;
      send(reply);
      return;
    }
    if (a.code == reason_code::success) emit("reauthenticated");
  }

  void on_publish(const publish& pub) {
    std::string topic(pub.topic);
    if (is_v5(version_) && pub.props.topic_alias) {
      const auto alias = *pub.props.topic_alias;
      if (alias == 0 || alias > c_.topic_alias_maximum)
        return protocol_violation(reason_code::topic_alias_invalid, "Topic Alias " + std::to_string(alias) + " out of range");
      if (topic.empty()) {
        auto it = inbound_aliases_.find(alias);
        if (it == inbound_aliases_.end())
          return protocol_violation(reason_code::protocol_error, "Topic Alias " + std::to_string(alias) + " not set on this connection");
        topic = it->second;
      } else {
        inbound_aliases_[alias] = topic;
      }
    } else if (topic.empty()) {
      return protocol_violation(reason_code::protocol_error, "an empty Topic Name without a Topic Alias");
    }
    const auto deliver = [&] {
      emit("message topic=" + encode_word(topic) + " qos=" + std::to_string(static_cast<int>(pub.qos_level)) +
           " retain=" + (pub.retain ? "1" : "0") + " payload=" + to_hex(pub.payload));
    };
    switch (pub.qos_level) {
      case qos::at_most_once: deliver(); break;
      case qos::at_least_once:
        deliver();
        send(puback{pub.packet_id, {}, {}});
        break;
      case qos::exactly_once:
        // Delivered once: a repeat before the PUBREL is answered, not delivered again.
        if (inbound_qos2_.insert(pub.packet_id).second) deliver();
        send(pubrec{pub.packet_id, {}, {}});
        break;
    }
  }

  void settle(std::uint16_t id, bool qos2, bool refused) {
    auto it = inflight_.find(id);
    if (it == inflight_.end()) return;
    if (qos2 != (it->second.q == qos::exactly_once)) return;
    if (qos2 && !refused && !it->second.released) return;
    inflight_.erase(it);
    std::erase(order_, id);
    flush_pending();
  }

  // ---- identifiers
  std::uint16_t next_id() {
    for (int tries = 0; tries < 65536; ++tries) {
      last_id_ = static_cast<std::uint16_t>(last_id_ == 65535 ? 1 : last_id_ + 1);
      if (!inflight_.count(last_id_) && !sub_ids_.count(last_id_)) return last_id_;
    }
    return 0;
  }

  // ---- subscribe / unsubscribe
  void do_subscribe(const action& a) {
    if (a.args.size() < 2) return emit("error subscribe wants FILTER QOS");
    subscribe s;
    s.packet_id = next_id();
    subscription sub;
    sub.filter = a.args[0];
    sub.options.max_qos = static_cast<qos>(parse_number(a.args[1], 2).value_or(0));
    sub.options.no_local = parse_bool(a.opt("no-local", "0")).value_or(false);
    sub.options.retain_as_published = parse_bool(a.opt("retain-as-published", "0")).value_or(false);
    sub.options.handling = static_cast<retain_handling>(parse_number(a.opt("retain-handling", "0"), 2).value_or(0));
    s.subscriptions.push_back(sub);
    if (auto e = send(s)) return emit("error " + encode_word(*e));
    sub_ids_.insert(s.packet_id);
  }

  void do_unsubscribe(const action& a) {
    if (a.args.empty()) return emit("error unsubscribe wants FILTER");
    unsubscribe u;
    u.packet_id = next_id();
    u.filters.push_back(a.args[0]);
    if (auto e = send(u)) return emit("error " + encode_word(*e));
    sub_ids_.insert(u.packet_id);
  }

  // ---- publish
  void do_publish(const action& a) {
    if (a.args.size() < 3) return emit("error publish wants TOPIC QOS PAYLOAD");
    outgoing m;
    m.topic = a.args[0];
    m.payload = a.args[2];
    auto q = parse_number(a.args[1], 2).value_or(0);
    // Never above the Server's Maximum QoS (v5:MQTT-3.2.2-11): the message goes at that QoS.
    if (is_v5(version_) && connected_ && q > max_qos_) q = max_qos_;
    m.q = static_cast<qos>(q);
    m.retain = parse_bool(a.opt("retain", "0")).value_or(false);
    if (m.retain && is_v5(version_) && connected_ && !retain_available_)
      return emit("error the Server does not support retained messages");
    if (a.has("topic-alias")) m.alias = static_cast<std::uint16_t>(parse_number(a.opt("topic-alias"), 65535).value_or(0));
    for (const char* k : {"response-topic", "content-type", "message-expiry", "user-property", "correlation-data"})
      if (a.has(k)) m.props[k] = a.opt(k);
    if (m.q == qos::at_most_once) {
      if (auto e = send_publish(m, false)) emit("error " + encode_word(*e));
      return;
    }
    // Checked before it takes an identifier: what our decoder refuses is refused now.
    if (auto e = check_publish(m)) return emit("error " + encode_word(*e));
    pending_.push_back(std::move(m));
    flush_pending();
  }

  publish make_publish(const outgoing& m, bool dup, std::string& response_topic) {
    publish p;
    p.topic = m.topic;
    p.payload = m.payload;
    p.qos_level = m.q;
    p.retain = m.retain;
    p.dup = dup && m.q != qos::at_most_once;
    p.packet_id = m.id;
    if (is_v5(version_)) {
      // A Topic Alias goes out only within the Server's Topic Alias Maximum (v5:MQTT-3.2.2-17, -18).
      if (m.alias && *m.alias > 0 && *m.alias <= topic_alias_max_) p.props.topic_alias = m.alias;
      if (auto it = m.props.find("response-topic"); it != m.props.end()) {
        response_topic = it->second;
        p.props.response_topic = response_topic;
      }
      if (auto it = m.props.find("content-type"); it != m.props.end()) p.props.content_type = it->second;
      if (auto it = m.props.find("correlation-data"); it != m.props.end()) p.props.correlation_data = it->second;
      if (auto it = m.props.find("message-expiry"); it != m.props.end())
        p.props.message_expiry_interval = static_cast<std::uint32_t>(parse_number(it->second, 0xFFFFFFFFul).value_or(0));
      if (auto it = m.props.find("user-property"); it != m.props.end()) {
        const auto colon = std::string_view(it->second).find(':');
        if (colon != std::string_view::npos)
          p.props.user_properties.push_back({std::string_view(it->second).substr(0, colon), std::string_view(it->second).substr(colon + 1)});
      }
    }
    return p;
  }

  std::optional<std::string> check_publish(const outgoing& m) {
    std::string rt;
    auto probe = m;
    probe.id = 1;
    auto bytes = encode(make_publish(probe, false, rt), version_);
    if (!bytes) return "cannot encode: " + bytes.error().message();
    if (auto back = decode(*bytes, version_); !back) return back.error().message();
    if (check_topic_name(m.topic)) return std::string("not a valid Topic Name");
    if (server_max_packet_ && bytes->size() > *server_max_packet_)
      return "the packet is " + std::to_string(bytes->size()) + " bytes, above the Server's Maximum Packet Size " +
             std::to_string(*server_max_packet_);
    return std::nullopt;
  }

  std::optional<std::string> send_publish(const outgoing& m, bool dup) {
    std::string rt;
    if (check_topic_name(m.topic)) return std::string("not a valid Topic Name");
    return send(make_publish(m, dup, rt));
  }

  // QoS 1 and 2 messages go out while the send quota lasts (Receive Maximum, v5:MQTT-3.3.4-7).
  void flush_pending() {
    while (connected_ && !pending_.empty()) {
      std::size_t in_flight = inflight_.size();
      if (is_v5(version_) && in_flight >= receive_maximum_) return;
      auto m = std::move(pending_.front());
      pending_.pop_front();
      m.id = next_id();
      if (auto e = send_publish(m, false)) {
        emit("error " + encode_word(*e));
        continue;
      }
      order_.push_back(m.id);
      inflight_[m.id] = std::move(m);
    }
  }

  // ---- disconnect, re-authentication
  void do_disconnect(const action& a) {
    if (socket_.is_open()) {
      disconnect d;
      d.code = static_cast<reason_code>(parse_number(a.opt("reason", "0"), 255).value_or(0));
      send(d);
    }
    close_connection();
    emit("disconnected");
  }

  void do_reauth(const action& a) {
    if (!is_v5(version_)) return emit("unsupported reauth");
    if (auth_method_.empty()) return emit("error the CONNECT had no Authentication Method");
    auth_data_ = a.opt("auth-data");
    auth r;
    r.code = reason_code::re_authenticate;
    r.props.authentication_method = auth_method_;
    if (a.has("auth-data")) r.props.authentication_data = auth_data_;
    if (auto e = send(r)) emit("error " + encode_word(*e));
  }

  client_driver_options o_;
  protocol_version version_;
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  asio::posix::stream_descriptor input_;
  asio::steady_timer keep_alive_timer_, wait_timer_;
  std::string in_buf_;
  std::deque<std::string> actions_;
  bool busy_ = false, input_closed_ = false;
  bool connecting_ = false, connected_ = false;
  unsigned generation_ = 0;
  framer framer_;
  std::array<char, 4096> buf_{};
  steady::time_point last_sent_ = steady::now();
  // What the last CONNECT said (the strings outlive the packet views).
  struct {
    std::uint16_t topic_alias_maximum = 0;
  } c_;
  std::vector<std::string> strings_;
  std::uint16_t keep_alive_ = 60, effective_keep_alive_ = 60;
  std::string auth_method_, auth_response_, auth_data_;
  // The Server's limits from its CONNACK.
  std::uint16_t receive_maximum_ = 65535, topic_alias_max_ = 0;
  std::optional<std::uint32_t> server_max_packet_;
  unsigned max_qos_ = 2;
  bool retain_available_ = true;
  std::string assigned_id_;
  // Session State.
  bool has_session_ = false, persistent_ = false;
  std::map<std::uint16_t, outgoing> inflight_;
  std::vector<std::uint16_t> order_;  // in-flight identifiers in sending order
  std::deque<outgoing> pending_;      // QoS 1/2 messages waiting for send quota
  std::set<std::uint16_t> inbound_qos2_;
  std::set<std::uint16_t> sub_ids_;
  std::uint16_t last_id_ = 0;
  std::map<std::uint16_t, std::string> inbound_aliases_;
};

}  // namespace

int client_driver_command(const client_driver_options& o) {
  if (o.port.empty()) {
    std::cerr << "mqttspec client-driver: --port is required\n";
    return 2;
  }
  reference_client c(o);
  return c.run();
}

}  // namespace mqttspec::conformance
