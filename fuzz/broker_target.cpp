// Target `broker`: the sans-I/O broker core (with its session machines) and several clients,
// driven by a program in the operation language of broker_ops.hpp. Clients reach "connected" only
// by sending CONNECT bytes. After every operation the actions the broker queued are checked
// against a model of each connection built from what its client sent:
//  - every byte sent to a client frames and decodes as a server-to-client packet of its version,
//    CONNACK first, PUBLISH only after a successful CONNACK;
//  - nothing is sent to, or closed on, a connection that is closed;
//  - packet ids of QoS > 0 PUBLISHes in flight towards a client are unique, and (5.0) never more
//    than the Receive Maximum the client sent;
//  - every PUBLISH matches a filter its Session subscribed to (ever, in this Session: messages
//    queued before an UNSUBSCRIBE may still be delivered, v5:MQTT-3.10.4-3);
//  - AUTH goes only to a 5.0 client whose CONNECT named a method, and carries that method, as does
//    the CONNACK that ends the exchange (v5:MQTT-4.12.0-5). The broker offers a toy method (one
//    challenge, then "ok" succeeds) so the enhanced-authentication paths are fuzzed without crypto.
#include "broker_ops.hpp"
#include "fuzz_common.hpp"
#include "mqttspec/broker/broker.hpp"
#include "mqttspec/broker/topic_match.hpp"

#include <map>
#include <set>

namespace {

using namespace mqttspec::codec;
using namespace std::literals;
namespace mb = mqttspec::broker;
using mqttspec::fuzz::op;
using mqttspec::fuzz::op_kind;

constexpr std::size_t max_connections = 6;
constexpr std::string_view topics[] = {"a/b", "a/c", "a", "b/x/y", "$SYS/x", "w/t", "a/b/c", "/"};
constexpr std::string_view toy_method = "toy";
constexpr std::string_view filters[] = {"a/+", "#", "a/b", "+/+", "b/#", "$share/g/a/#", "w/#", "+"};

// In-flight state of a QoS > 0 PUBLISH the broker sent to a client.
enum class flight : std::uint8_t { qos1, qos2, rec_sent, rel_received };

struct conn_model {
  mb::connection_id id = 0;
  bool open = true;
  bool dropped = false;           // the client's transport closed (the broker may still say close)
  framer from_client, from_broker;
  bool client_stream_ok = true;   // false once the client sent something the broker must refuse
  std::optional<protocol_version> version;  // of the first CONNECT
  protocol_version reply_version = protocol_version::v3_1_1;
  bool saw_first_frame = false, saw_connack = false, connected = false;
  std::string key;                // Client Identifier, or a unique stand-in for an anonymous one
  std::optional<std::string> auth_method;  // of the CONNECT
  std::uint16_t receive_maximum = 65535;
  std::map<std::uint16_t, flight> inflight;
  std::set<std::uint16_t> rel_pending;  // broker PUBRECs our client still has to answer with PUBREL
  std::multiset<std::uint16_t> stray_pubrecs;  // PUBRECs our client sent for ids the broker had not in flight
  std::map<std::uint16_t, std::string> aliases;
  std::set<std::string> filters;  // subscribed on this connection
  std::uint16_t next_id = 1;
};

struct harness {
  mb::broker broker{make_config()};
  std::vector<conn_model> conns;
  std::map<std::string, std::set<std::string>> session_filters;
  mb::millis now = 0;

  static mb::config make_config() {
    mb::config c;
    c.limits.topic_alias_maximum = 4;  // let the fuzzer use inbound aliases
    c.limits.maximum_packet_size = 64 * 1024;
    c.receive_maximum = 4;
    c.max_queued_messages = 16;
    c.enhanced_auth[std::string(toy_method)] = [] {
      return [round = 0](std::string_view data) mutable -> mb::auth_step {
        if (round++ == 0) return {mb::auth_outcome::challenge, "nonce", {}};
        if (data == "ok") return {mb::auth_outcome::success, "welcome", {}};
        return {mb::auth_outcome::failure, {}, "wrong answer"};
      };
    };
    return c;
  }

  conn_model* client(std::uint8_t arg) {
    if (conns.empty()) return nullptr;
    return &conns[arg % conns.size()];
  }

  protocol_version version_of(const conn_model& c) const { return c.version.value_or(protocol_version::v5); }

  // --- what the client sends ------------------------------------------------------------------
  void client_frame(conn_model& c, const frame& f) {
    if (!c.saw_first_frame) {
      c.saw_first_frame = true;
      if (f.type_bits() != 1) { c.client_stream_ok = false; return; }
      auto v = peek_connect_version(f);
      if (!v) { c.client_stream_ok = false; return; }
      c.version = c.reply_version = v.value();
      auto d = decode(f, v.value());
      if (!d) { c.client_stream_ok = false; return; }
      const auto& cn = std::get<connect>(d.value());
      c.key = cn.client_id.empty() ? "#anonymous" + std::to_string(c.id) : std::string(cn.client_id);
      if (cn.props.receive_maximum) c.receive_maximum = *cn.props.receive_maximum;
      if (cn.props.authentication_method) c.auth_method = std::string(*cn.props.authentication_method);
      return;
    }
    auto d = decode(f, version_of(c));
    if (!d) { c.client_stream_ok = false; return; }
    std::visit([&](const auto& p) {
      using T = std::decay_t<decltype(p)>;
      if constexpr (std::is_same_v<T, subscribe>) {
        for (const auto& s : p.subscriptions) {
          // Kept as the filter that matches: a 5.0 shared subscription matches without its
          // $share/{group}/ prefix, also after a 3.1.1 connection resumed the Session.
          std::string_view plain = s.filter;
          if (version_of(c) == protocol_version::v5)
            if (auto shared = parse_shared(s.filter)) plain = shared->filter;
          c.filters.insert(std::string(plain));
          if (c.connected) session_filters[c.key].insert(std::string(plain));
        }
      } else if constexpr (std::is_same_v<T, puback> || std::is_same_v<T, pubcomp>) {
        c.inflight.erase(p.packet_id);  // generous: the model may only under-count
      } else if constexpr (std::is_same_v<T, pubrec>) {
        auto it = c.inflight.find(p.packet_id);
        if (it != c.inflight.end()) {
          if (static_cast<unsigned>(p.code) >= 0x80) c.inflight.erase(it);
          else if (it->second == flight::qos2) it->second = flight::rec_sent;
        } else {
          c.stray_pubrecs.insert(p.packet_id);
        }
      } else if constexpr (std::is_same_v<T, connect> || std::is_same_v<T, disconnect>) {
        c.client_stream_ok = false;  // a second CONNECT or the end: nothing after it counts
      }
    }, d.value());
  }

  void send(conn_model& c, bytes_view data) {
    if (!c.open) return;
    if (c.client_stream_ok) {
      c.from_client.feed(data);
      while (c.client_stream_ok) {
        auto f = c.from_client.next();
        if (!f) {
          if (f.error().code != errc::need_more) c.client_stream_ok = false;
          break;
        }
        client_frame(c, f.value());
      }
    }
    broker.receive(c.id, data, now);
    check_actions();
  }

  void send_packet(conn_model& c, const packet& p) {
    auto e = encode(p, version_of(c));
    if (e) send(c, e.value());
  }

  // --- what the broker sends ------------------------------------------------------------------
  bool subscribed(const conn_model& c, std::string_view topic) const {
    auto match_any = [&](const std::set<std::string>& fs) {
      for (const auto& f : fs)
        if (mqttspec::broker::topic_matches(f, topic)) return true;
      return false;
    };
    if (match_any(c.filters)) return true;
    auto it = session_filters.find(c.key);
    return it != session_filters.end() && match_any(it->second);
  }

  void broker_packet(conn_model& c, const packet& p) {
    const auto t = type_of(p);
    MQTTSPEC_FUZZ_CHECK(t != packet_type::connect && t != packet_type::subscribe && t != packet_type::unsubscribe &&
                            t != packet_type::pingreq,
                        "broker sent a client-to-server packet: " + to_string(p));
    if (!c.saw_connack) {
      MQTTSPEC_FUZZ_CHECK(t == packet_type::connack || t == packet_type::disconnect || t == packet_type::auth,
                          "first packet to a client is not CONNACK (or AUTH): " + to_string(p));
    }
    std::visit([&](const auto& x) {
      using T = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<T, connack>) {
        MQTTSPEC_FUZZ_CHECK(!c.saw_connack, "second CONNACK");
        c.saw_connack = true;
        if (x.code != reason_code::success) return;
        c.connected = true;
        if (c.auth_method)
          MQTTSPEC_FUZZ_CHECK(x.props.authentication_method == std::optional<std::string_view>(*c.auth_method),
                              "CONNACK after enhanced authentication without its method: " + to_string(p));
        if (x.props.assigned_client_identifier) c.key = std::string(*x.props.assigned_client_identifier);
        auto& fs = session_filters[c.key];
        if (!x.session_present) fs.clear();
        fs.insert(c.filters.begin(), c.filters.end());
      } else if constexpr (std::is_same_v<T, publish>) {
        MQTTSPEC_FUZZ_CHECK(c.connected, "PUBLISH before a successful CONNACK");
        std::string topic(x.topic);
        if (x.props.topic_alias) {
          if (topic.empty()) {
            auto it = c.aliases.find(*x.props.topic_alias);
            MQTTSPEC_FUZZ_CHECK(it != c.aliases.end(), "PUBLISH with an unknown topic alias");
            topic = it->second;
          } else {
            c.aliases[*x.props.topic_alias] = topic;
          }
        }
        MQTTSPEC_FUZZ_CHECK(subscribed(c, topic), "PUBLISH to \"" + topic + "\" without a matching subscription");
        if (x.qos_level != qos::at_most_once) {
          auto [it, fresh] = c.inflight.try_emplace(x.packet_id, x.qos_level == qos::at_least_once ? flight::qos1 : flight::qos2);
          MQTTSPEC_FUZZ_CHECK(fresh || x.dup, "packet id " + std::to_string(x.packet_id) + " reused while in flight");
          if (c.reply_version == protocol_version::v5)
            MQTTSPEC_FUZZ_CHECK(c.inflight.size() <= c.receive_maximum,
                                "more QoS>0 PUBLISHes in flight than Receive Maximum " + std::to_string(c.receive_maximum));
        }
      } else if constexpr (std::is_same_v<T, pubrel>) {
        // The answer to a stray PUBREC ("Packet Identifier not found" in 5.0, a plain PUBREL in
        // 3.1.1) puts no message in flight; any other PUBREL does, resent ones after a resume too.
        if (auto stray = c.stray_pubrecs.find(x.packet_id); stray != c.stray_pubrecs.end()) {
          c.stray_pubrecs.erase(stray);  // one answer per PUBREC
          if (!c.inflight.contains(x.packet_id)) return;
        }
        if (is_failure(x.code)) return;
        c.inflight[x.packet_id] = flight::rel_received;
        if (c.reply_version == protocol_version::v5)
          MQTTSPEC_FUZZ_CHECK(c.inflight.size() <= c.receive_maximum, "PUBREL beyond Receive Maximum");
      } else if constexpr (std::is_same_v<T, pubrec>) {
        if (static_cast<unsigned>(x.code) < 0x80) c.rel_pending.insert(x.packet_id);
      } else if constexpr (std::is_same_v<T, auth>) {
        MQTTSPEC_FUZZ_CHECK(c.reply_version == protocol_version::v5 && c.auth_method.has_value(),
                            "AUTH to a client that asked for no enhanced authentication: " + to_string(p));
        MQTTSPEC_FUZZ_CHECK(x.props.authentication_method == std::optional<std::string_view>(*c.auth_method),
                            "AUTH without the CONNECT's method: " + to_string(p));
      }
    }, p);
  }

  conn_model* find(mb::connection_id id) {
    for (auto& c : conns) if (c.id == id) return &c;
    return nullptr;
  }

  void check_actions() {
    for (auto& a : broker.take_actions()) {
      if (auto* t = std::get_if<mb::transmit_to>(&a)) {
        conn_model* c = find(t->id);
        MQTTSPEC_FUZZ_CHECK(c != nullptr, "transmit to an unknown connection");
        MQTTSPEC_FUZZ_CHECK(c->open, "transmit to a closed connection");
        c->from_broker.feed(t->data);
        for (;;) {
          auto f = c->from_broker.next();
          if (!f) {
            MQTTSPEC_FUZZ_CHECK(f.error().code == errc::need_more, "broker bytes do not frame: " + f.error().message());
            break;
          }
          auto d = decode(f.value(), c->reply_version);
          // A CONNECT whose version could not be read (bad protocol name or level) may be refused
          // in the version its level byte names or in 3.1.1 (v5:MQTT-3.1.2-1, -2): either will do.
          if (!d && !c->version && !c->saw_connack) d = decode(f.value(), protocol_version::v5);
          MQTTSPEC_FUZZ_CHECK(d.has_value(), "broker sent an invalid " + std::string(to_string(c->reply_version)) +
                                                 " packet " + to_hex(f->bytes) + ": " + (d ? "" : d.error().message()));
          broker_packet(*c, d.value());
        }
      } else {
        const auto& cl = std::get<mb::close_connection>(a);
        conn_model* c = find(cl.id);
        // Closing a transport the peer already closed is harmless (the shell ignores it); closing
        // one the broker closed before means it lost track of the connection.
        MQTTSPEC_FUZZ_CHECK(c != nullptr && (c->open || c->dropped), "close of a connection the broker closed before");
        c->open = false;
      }
    }
  }

  // --- the operations ---------------------------------------------------------------------
  packet canned(const conn_model& c, std::uint8_t n) {
    static const std::string ids[] = {"a", "b", "", "a"};
    const auto v = version_of(c);
    if (n < 16) {
      // CONNECTs: bit 0 version, bits 1-2 client id, bit 3 clean start; wills and limits vary with n.
      connect cn;
      cn.version = (n & 1) ? protocol_version::v3_1_1 : protocol_version::v5;
      cn.client_id = ids[n >> 1 & 3];
      cn.clean_start = (n & 8) == 0 || cn.client_id.empty();
      cn.keep_alive = 10;
      if (n % 3 == 0) {
        cn.will.emplace();
        cn.will->qos_level = qos::at_least_once;
        cn.will->retain = (n & 4) != 0;
        cn.will->topic = "w/t";
        cn.will->payload = "gone";
      }
      if (cn.version == protocol_version::v5) {
        if (n & 2) cn.props.receive_maximum = 2;
        if (n & 4) cn.props.session_expiry_interval = 30;
        if (n & 8) cn.props.topic_alias_maximum = 3;
      }
      return cn;
    }
    if (n >= 248) {
      // AUTH: bit 0 re-authenticate or continue, bit 1 the right answer, bit 2 a method never offered.
      auth a{.code = (n & 1) ? reason_code::re_authenticate : reason_code::continue_authentication};
      a.props.authentication_method = (n & 4) ? "other"sv : toy_method;
      a.props.authentication_data = (n & 2) ? "ok"sv : "no"sv;
      return a;
    }
    if (n >= 240) {
      // A 5.0 CONNECT asking for the toy method (bit 2: a method the broker does not offer).
      connect cn{.version = protocol_version::v5, .clean_start = (n & 1) != 0, .keep_alive = 10};
      cn.client_id = ids[n >> 1 & 1];
      cn.props.authentication_method = (n & 4) ? "other"sv : toy_method;
      return cn;
    }
    n -= 16;
    const std::uint16_t id = static_cast<std::uint16_t>(1 + n % 7);
    switch (n % 6) {
      case 0: case 1:
        return subscribe{.packet_id = id, .subscriptions = {{filters[n / 6 % 8], {.max_qos = static_cast<qos>(n % 3)}}}};
      case 2: return unsubscribe{.packet_id = id, .filters = {filters[n / 6 % 8]}};
      case 3: return pingreq{};
      case 4: return disconnect{.code = (n & 8) && is_v5(v) ? reason_code::disconnect_with_will_message : reason_code::success};
      default:
        return publish{.qos_level = static_cast<qos>(n / 6 % 3), .retain = (n & 16) != 0, .topic = topics[n / 6 % 8],
                       .packet_id = static_cast<std::uint16_t>((n / 6 % 3) ? id : 0), .payload = "m"};
    }
  }

  void ack(conn_model& c, std::uint8_t how) {
    std::vector<packet> out;
    for (auto& [id, st] : c.inflight) {
      switch (st) {
        case flight::qos1: out.push_back(puback{.packet_id = id}); break;
        case flight::qos2:
          out.push_back(pubrec{.packet_id = id, .code = (how & 1) && is_v5(version_of(c)) ? reason_code::unspecified_error
                                                                                           : reason_code::success});
          break;
        case flight::rel_received: out.push_back(pubcomp{.packet_id = id}); break;
        case flight::rec_sent: break;
      }
      if (how & 2) break;  // only the oldest
    }
    for (auto id : c.rel_pending) out.push_back(pubrel{.packet_id = id});
    c.rel_pending.clear();
    bytes all;
    for (const auto& p : out) (void)encode_to(p, version_of(c), all);
    if (!all.empty()) send(c, all);
  }

  void run(const op& o) {
    switch (o.kind) {
      case op_kind::open:
        if (conns.size() >= max_connections) break;
        conns.emplace_back();
        conns.back().id = broker.open(now);
        check_actions();
        break;
      case op_kind::canned:
        if (auto* c = client(o.arg)) send_packet(*c, canned(*c, o.operand));
        break;
      case op_kind::raw:
        if (auto* c = client(o.arg)) send(*c, o.bytes);
        break;
      case op_kind::advance:
        now += static_cast<mb::millis>(o.operand) * 100;
        if (auto d = broker.deadline(); d && *d <= now) broker.on_timer(now);
        check_actions();
        break;
      case op_kind::timer:
        broker.on_timer(now);
        check_actions();
        break;
      case op_kind::drop:
        if (auto* c = client(o.arg); c && c->open) {
          c->open = false;
          c->dropped = true;
          broker.transport_closed(c->id, now);
          check_actions();
        }
        break;
      case op_kind::ack:
        if (auto* c = client(o.arg)) ack(*c, o.arg >> 3);
        break;
      case op_kind::publish:
        if (auto* c = client(o.arg)) {
          const auto q = static_cast<qos>(o.operand >> 3 & 3);
          if (q == static_cast<qos>(3)) break;
          send_packet(*c, publish{.qos_level = q, .retain = (o.operand & 0x20) != 0, .topic = topics[o.operand & 7],
                                  .packet_id = static_cast<std::uint16_t>(q == qos::at_most_once ? 0 : c->next_id++ % 50 + 1),
                                  .payload = "p"});
        }
        break;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 8192) return 0;
  harness h;
  for (const auto& o : mqttspec::fuzz::parse_ops(mqttspec::fuzz::as_view(data, size))) {
    h.run(o);
  }
  // Shutting down must still respect every invariant.
  h.broker.shutdown(h.now);
  h.check_actions();
  return 0;
}
