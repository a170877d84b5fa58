#include "generator.hpp"

#include "mutator.hpp"

#include <deque>
#include <map>
#include <random>
#include <set>

namespace mqttspec::netfuzz {

using namespace codec;

bytes probe_connect(protocol_version v, const std::string& client_id) {
  connect c{.version = v, .clean_start = true, .keep_alive = 60, .client_id = client_id};
  return encode(c, v).value();
}

namespace {

struct client_model {
  std::string id;
  bool connected = false;     // as far as the script knows (a mutation may have got it closed)
  bool persistent = false;    // its Session may outlive the connection (cleaned up at the end)
  bool will = false;          // a CONNECT of it carried a Will
  std::uint16_t next_id = 1;
  std::vector<std::uint16_t> unreleased;  // our QoS 2 PUBLISHes awaiting PUBREL
  std::vector<std::string> filters;
  std::map<std::string, std::uint16_t> aliases;  // topic -> alias set on this connection (5.0)
  std::uint16_t alias_max = 0;  // what the broker grants is unknown: we use 1 and 2 at most
};

class builder {
 public:
  builder(protocol_version v, std::uint64_t seed, std::uint64_t n, const generator_options& o)
      : v_(v), rng_(static_cast<std::uint32_t>((seed * 0x9E3779B97F4A7C15ull) ^ (n * 0xBF58476D1CE4E5B9ull) ^ (n >> 7))),
        o_(o) {
    s_.version = v;
    s_.token = make_token((static_cast<std::uint64_t>(rng_()) << 32) | rng_());
  }

  script run() {
    const unsigned clients = 1 + below(3);
    for (unsigned i = 0; i < clients; ++i) {
      client_model m;
      m.id = s_.token + "c" + std::to_string(i);
      c_.push_back(std::move(m));
    }
    connect_client(0, true);
    const unsigned actions = 2 + below(11);
    for (unsigned a = 0; a < actions; ++a) act(below(clients));
    const std::size_t walk_end = s_.steps.size();
    const bool mutated = below(1000) < static_cast<unsigned>(o_.mutation_rate * 1000);
    if (mutated) mutate(walk_end);
    cleanup(mutated);
    return std::move(s_);
  }

 private:
  unsigned below(unsigned n) { return n == 0 ? 0 : static_cast<unsigned>(rng_() % n); }
  bool chance(unsigned one_in) { return below(one_in) == 0; }
  std::string_view keep(std::string s) { return arena_.emplace_back(std::move(s)); }

  std::string topic(unsigned k) const { return s_.token + "/t/" + std::to_string(k); }
  static constexpr unsigned topics = 5;  // <token>/t/0 ... <token>/t/4
  std::string any_topic() { return topic(below(3)); }
  std::string any_filter() {
    // Only filters inside the script's namespace: a case sees no other case's messages, so its
    // replay on a fresh broker meets the same state (mutations may still widen a filter).
    switch (below(6)) {
      case 0: return s_.token + "/t/+";
      case 1: return s_.token + "/#";
      case 2: return s_.token + "/+/" + std::to_string(below(3));
      case 3:
        if (is_v5(v_)) return "$share/" + s_.token + "/" + s_.token + "/t/+";
        [[fallthrough]];
      default: return any_topic();
    }
  }

  void emit(unsigned client, const packet& p) {
    auto e = encode(p, v_);
    if (!e) return;
    s_.steps.push_back(send_step(static_cast<std::uint8_t>(client), std::move(e.value())));
  }
  std::uint16_t next_id(client_model& m) {
    const auto id = m.next_id;
    m.next_id = static_cast<std::uint16_t>(m.next_id % 60000 + 1);
    return id;
  }

  void connect_client(unsigned i, bool first) {
    auto& m = c_[i];
    s_.steps.push_back(open_step(static_cast<std::uint8_t>(i), !chance(5)));
    connect c{.version = v_, .clean_start = first || !chance(3), .keep_alive = 60, .client_id = m.id};
    if (!c.clean_start) m.persistent = true;
    if (chance(4)) {
      will_message w;
      w.qos_level = static_cast<qos>(below(3));
      w.retain = chance(3);
      w.topic = keep(s_.token + "/w/" + std::to_string(i));
      w.payload = "will";
      if (w.retain) retained_.insert(std::string(w.topic));
      m.will = true;
      if (is_v5(v_)) {
        if (chance(3)) w.props.will_delay_interval = 0;
        if (chance(4)) w.props.content_type = "text/plain";
        if (chance(4)) w.props.message_expiry_interval = 30;
      }
      c.will = w;
    }
    if (chance(8)) {
      c.user_name = "u";
      if (chance(2)) c.password = "p";
    }
    if (is_v5(v_)) {
      auto& p = c.props;
      if (chance(3)) {
        // Sessions that outlive the connection expire soon, so long runs leave little behind.
        p.session_expiry_interval = chance(2) ? 5 : 0;
        if (*p.session_expiry_interval) m.persistent = true;
      }
      if (chance(4)) p.receive_maximum = static_cast<std::uint16_t>(1 + below(3));
      if (chance(6)) p.maximum_packet_size = 96 + below(2000);
      if (chance(3)) p.topic_alias_maximum = static_cast<std::uint16_t>(below(4));
      if (chance(6)) p.request_problem_information = static_cast<std::uint8_t>(below(2));
      if (chance(8)) p.request_response_information = 1;
      if (chance(6)) p.user_properties.emplace_back("k", "v");
      if (chance(25)) p.authentication_method = "mqttspec-netfuzz-unknown";  // the broker must refuse or run it
    }
    emit(i, c);
    m.connected = true;
    m.aliases.clear();
    m.alias_max = 2;
    m.filters.clear();
  }

  void act(unsigned i) {
    auto& m = c_[i];
    if (!m.connected) return connect_client(i, false);
    const unsigned pick = below(100);
    if (pick < 20) return subscribe_step(m, i);
    if (pick < 46) return publish_step(m, i);
    if (pick < 50) return burst_step(m, i);
    if (pick < 58) {
      if (m.unreleased.empty()) return publish_step(m, i);
      const auto id = m.unreleased.front();
      m.unreleased.erase(m.unreleased.begin());
      return emit(i, pubrel{.packet_id = id});
    }
    if (pick < 64) {
      unsubscribe u{.packet_id = next_id(m)};
      const auto n = 1 + below(2);
      for (unsigned k = 0; k < n; ++k)
        u.filters.push_back(keep(!m.filters.empty() && chance(2) ? m.filters[below(static_cast<unsigned>(m.filters.size()))]
                                                                 : any_filter()));
      return emit(i, u);
    }
    if (pick < 68) return emit(i, pingreq{});
    if (pick < 69 && is_v5(v_)) {
      // Re-authentication on a connection that did not authenticate with a method: a Protocol
      // Error the broker has to close on (the oracle expects that close).
      m.connected = false;
      return emit(i, auth{.code = reason_code::re_authenticate});
    }
    if (pick < 73) {
      // A stray acknowledgement: valid packets the broker has to cope with.
      const auto id = static_cast<std::uint16_t>(1 + below(5));
      switch (below(3)) {
        case 0: return emit(i, puback{.packet_id = id});
        case 1: return emit(i, pubrec{.packet_id = id});
        default: return emit(i, pubcomp{.packet_id = id});
      }
    }
    if (pick < 82) {
      disconnect d;
      if (is_v5(v_) && chance(3)) d.code = reason_code::disconnect_with_will_message;
      emit(i, d);
      m.connected = false;
      return;
    }
    if (pick < 90) {
      s_.steps.push_back(close_step(static_cast<std::uint8_t>(i)));
      m.connected = false;
      return;
    }
    // Reconnect on the same client identifier: a takeover of the open connection, and the
    // Session resumed when it was persistent.
    connect_client(i, false);
  }

  void subscribe_step(client_model& m, unsigned i) {
    subscribe s{.packet_id = next_id(m)};
    const auto n = 1 + below(2);
    for (unsigned k = 0; k < n; ++k) {
      subscription sub;
      const auto f = any_filter();
      sub.filter = keep(f);
      sub.options.max_qos = static_cast<qos>(below(3));
      if (is_v5(v_)) {
        if (!f.starts_with("$share/") && chance(4)) sub.options.no_local = true;
        sub.options.retain_as_published = chance(2);
        sub.options.handling = static_cast<retain_handling>(below(3));
      }
      s.subscriptions.push_back(sub);
      m.filters.push_back(f);
    }
    if (is_v5(v_) && chance(3)) s.props.subscription_identifiers.push_back(1 + below(100));
    emit(i, s);
  }

  void publish_step(client_model& m, unsigned i) {
    publish p;
    p.qos_level = static_cast<qos>(below(3));
    if (p.qos_level != qos::at_most_once) p.packet_id = next_id(m);
    p.retain = chance(4);
    const auto t = any_topic();
    p.topic = keep(t);
    // Appended, not `"m" + std::to_string(...)`: that form draws a false -Wrestrict from GCC 12.
    std::string payload = "m";
    payload += std::to_string(below(100));
    p.payload = chance(8) ? std::string_view{} : keep(std::move(payload));
    if (p.retain) retained_.insert(t);
    if (is_v5(v_)) {
      auto& pr = p.props;
      if (chance(4)) pr.message_expiry_interval = 60;
      if (chance(6)) pr.response_topic = keep(s_.token + "/r");
      if (chance(6)) pr.correlation_data = "cd";
      if (chance(6)) pr.user_properties.emplace_back("k", "v");
      if (chance(8)) pr.content_type = "text/plain";
      if (chance(8)) pr.payload_format_indicator = 1;
      if (chance(4)) {
        // Topic aliases: set one with the topic, then publish by the alias alone.
        auto it = m.aliases.find(t);
        if (it != m.aliases.end()) {
          pr.topic_alias = it->second;
          p.topic = {};
        } else if (m.aliases.size() < m.alias_max) {
          const auto alias = static_cast<std::uint16_t>(m.aliases.size() + 1);
          m.aliases[t] = alias;
          pr.topic_alias = alias;
        }
      }
    }
    emit(i, p);
    if (p.qos_level == qos::exactly_once) {
      if (chance(2)) emit(i, pubrel{.packet_id = p.packet_id});  // PUBREC has come back before the step ended
      else m.unreleased.push_back(p.packet_id);
    }
  }

  // Several QoS 1 PUBLISHes in one step, retained now and then on distinct topics: more
  // deliveries than a small Receive Maximum lets through at once (flow control), also when a
  // later SUBSCRIBE gets them as retained messages.
  void burst_step(client_model& m, unsigned i) {
    const bool retain = chance(2);
    const unsigned n = 3 + below(3);
    bytes out;
    for (unsigned k = 0; k < n; ++k) {
      const auto t = retain ? topic(k) : any_topic();
      publish p{.qos_level = qos::at_least_once, .retain = retain, .topic = t, .packet_id = next_id(m), .payload = "b"};
      if (retain) retained_.insert(t);
      (void)encode_to(p, v_, out);
    }
    s_.steps.push_back(send_step(static_cast<std::uint8_t>(i), std::move(out)));
  }

  void mutate(std::size_t end) {
    std::vector<std::size_t> sends;
    for (std::size_t k = 0; k < end; ++k)
      if (s_.steps[k].op == step_op::send) sends.push_back(k);
    if (sends.empty()) return;
    const auto rounds = 1 + below(3);
    for (unsigned r = 0; r < rounds; ++r) {
      auto& target = s_.steps[sends[below(static_cast<unsigned>(sends.size()))]];
      std::mt19937 byte_rng(rng_());
      fuzz::byte_mutator bytes_mut = [&](std::uint8_t* d, std::size_t sz, std::size_t mx) {
        return fuzz::basic_byte_mutate(byte_rng, d, sz, mx);
      };
      target.mutated = true;
      // Mostly structure-aware (lengths stay consistent, the broker must judge the content),
      // sometimes raw bytes (lengths break, the framer must cope).
      if (!chance(8) && fuzz::mutate_stream(target.data, v_, rng_, bytes_mut, 8192)) continue;
      const std::size_t old = target.data.size();
      target.data.resize(old + 8);
      target.data.resize(bytes_mut(reinterpret_cast<std::uint8_t*>(target.data.data()), old, old + 8));
    }
  }

  // Leaves nothing behind: every client that may have a Session or a Will is taken over by a
  // clean start with Session Expiry 0 and DISCONNECTs (the takeover publishes its Will); then
  // the retained messages are cleared, Wills included. After mutations, which may have set
  // RETAIN or Clean Start anywhere, every client and every topic of the namespace.
  void cleanup(bool mutated) {
    if (mutated)
      for (unsigned k = 0; k < topics; ++k) retained_.insert(topic(k));
    auto& out = s_.cleanup;
    for (unsigned i = 0; i < c_.size(); ++i) {
      auto& m = c_[i];
      if (mutated) retained_.insert(s_.token + "/w/" + std::to_string(i));
      if (!m.persistent && !m.will && !mutated) continue;
      out.push_back(open_step(static_cast<std::uint8_t>(i)));
      out.push_back(send_step(static_cast<std::uint8_t>(i), clean_connect(m.id)));
      out.push_back(send_step(static_cast<std::uint8_t>(i), encode(disconnect{}, v_).value()));
    }
    if (retained_.empty()) return;
    out.push_back(open_step(0));
    out.push_back(send_step(0, clean_connect(c_[0].id)));
    bytes clears;  // one step: the clears and the DISCONNECT travel together
    for (const auto& t : retained_) (void)encode_to(publish{.retain = true, .topic = t}, v_, clears);
    (void)encode_to(disconnect{}, v_, clears);
    out.push_back(send_step(0, std::move(clears)));
  }

  bytes clean_connect(const std::string& id) const {
    connect c{.version = v_, .clean_start = true, .keep_alive = 60, .client_id = id};
    if (is_v5(v_)) c.props.session_expiry_interval = 0;
    return encode(c, v_).value();
  }

  protocol_version v_;
  std::mt19937 rng_;
  generator_options o_;
  script s_;
  std::vector<client_model> c_;
  std::set<std::string> retained_;
  std::deque<std::string> arena_;
};

}  // namespace

script generate(protocol_version v, std::uint64_t seed, std::uint64_t n, const generator_options& o) {
  return builder(v, seed, n, o).run();
}

}  // namespace mqttspec::netfuzz
