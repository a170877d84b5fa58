#include "mqttspec/conformance/version_probe.hpp"

#include "client_connection.hpp"
#include "mqttspec/conformance/packet_builder.hpp"

namespace mqttspec::conformance {
namespace {

struct problem {
  std::string expected;
  std::string observed;
  bool unsupported = false;
};

// One client that plays the probe. Written against client_connection directly rather than as a
// synthesized scenario: it must accept what the spec leaves open (granted QoS, Maximum QoS 0, the
// order of PUBACK and delivery, unrelated PUBLISHes) and read the CONNACK as a typed packet.
class probe_client {
 public:
  probe_client(suite_version v, const engine_options& o, const profile& prof)
      : v_(v),
        version_(v == suite_version::v5 ? codec::protocol_version::v5 : codec::protocol_version::v3_1_1),
        o_(o),
        prof_(prof),
        log_(version_),
        work_(asio::make_work_guard(io_)),
        client_id_("ms" + o.run_token + "probe"),
        // No "." in the topic: a broker that (wrongly) treats it as a level separator would otherwise
        // fail the probe, and a finding about that belongs to a scenario, not to the control.
        topic_("mqttspec/" + client_id_ + (v == suite_version::v5 ? "/v5" : "/v311")) {}

  ~probe_client() {
    if (c_) c_->close();
  }

  version_probe run() {
    version_probe p;
    p.version = v_;
    const auto start = steady::now();
    if (auto trouble = play()) {
      p.result = trouble->unsupported ? version_probe::outcome::unsupported : version_probe::outcome::broken;
      p.closed_at_connect = closed_at_connect_;
      p.expected = std::move(trouble->expected);
      p.observed = std::move(trouble->observed);
      const std::string name = "MQTT " + std::string(display_name(v_));
      p.summary = trouble->unsupported
                      ? "the broker does not support " + name + ": it answered a valid " + name + " CONNECT with " + p.observed
                      : "the " + name + " probe failed: expected " + p.expected + "; observed " + p.observed;
    } else {
      p.result = version_probe::outcome::works;
      p.caps = std::move(caps_);
    }
    p.log = std::move(log_.entries());
    p.duration_ms = std::chrono::duration<double, std::milli>(steady::now() - start).count();
    return p;
  }

 private:
  std::optional<problem> play() {
    std::error_code ec;
    const auto endpoints = asio::ip::tcp::resolver(io_).resolve(o_.broker.host, o_.broker.port, ec);
    if (ec) return problem{"to resolve " + o_.broker.display(), ec.message()};
    c_ = std::make_shared<client_connection>(io_, "probe", version_, log_, o_.tls.get());
    c_->start_connect(endpoints, o_.broker, o_.tls_verify);
    const auto connection = "a connection to " + o_.broker.display();
    if (!wait_until([&] { return c_->connect_done(); }, steady::now() + o_.timeout))
      return problem{connection, nothing()};
    if (!c_->connect_error().empty()) return problem{connection, c_->connect_error()};

    const auto connect = build_connect({}, {}, version_, client_id_, o_.cred);
    if (!connect) return problem{"a CONNECT to send", connect.error().message};
    send(*connect);
    if (auto p = await_connack()) return p;

    send(codec::pingreq{});
    if (auto p = await("PINGRESP", [&] { return got_pingresp_; })) return p;

    codec::subscribe sub{1, {}, {{topic_, {codec::qos::at_least_once}}}};
    send(sub);
    if (auto p = await("SUBACK granting a QoS to SUBSCRIBE " + topic_, [&] { return got_suback_; })) return p;

    // A broker without QoS 1 (5.0: Maximum QoS 0; 3.1.1: a profile says so) would take a QoS 1
    // PUBLISH as a protocol error, so the probe publishes at QoS 0 there.
    auto declared = caps_;
    apply(prof_, declared);
    const auto qos = declared.tags.count("qos1") ? codec::qos::at_least_once : codec::qos::at_most_once;
    codec::publish pub;
    pub.qos_level = qos;
    pub.topic = topic_;
    pub.packet_id = qos == codec::qos::at_most_once ? 0 : 2;
    pub.payload = payload;
    send(pub);
    const bool qos0 = qos == codec::qos::at_most_once;
    if (auto p = await(qos0 ? "the message published at QoS 0 back" : "PUBACK and the message published at QoS 1 back",
                       [&] { return delivered_ && (qos0 || got_puback_); }))
      return p;

    send(codec::disconnect{});
    return std::nullopt;
  }

  // CONNACK 0x00. A refusal for the version itself is `unsupported`: 5.0's 0x84, 3.1.1's return
  // code 0x01 (the codec maps it to 0x84), or a 3.1.1-style CONNACK 0x01 sent to a 5.0 CONNECT,
  // which does not decode as 5.0 (no property length, a reason code 5.0 does not have).
  std::optional<problem> await_connack() {
    const auto expected = "CONNACK 0x00 to a valid " + std::string(display_name(v_)) + " CONNECT";
    const auto* e = next_event(steady::now() + o_.timeout);
    if (!e) return problem{expected, nothing()};
    auto refuses_version = [](const codec::packet& p) {
      const auto* ack = std::get_if<codec::connack>(&p);
      return ack && ack->code == codec::reason_code::unsupported_protocol_version;
    };
    const std::string v311_refusal = "CONNACK return code 0x01 (unacceptable protocol version)";
    if (const auto raw = codec::from_hex(e->raw_hex); raw && codec::is_v5(version_)) {
      const auto as_v311 = codec::decode(*raw, codec::protocol_version::v3_1_1);
      if (as_v311 && refuses_version(*as_v311))
        return problem{expected, "a 3.1.1 " + v311_refusal + ": " + e->raw_hex, true};
    }
    closed_at_connect_ = e->what == incoming::kind::closed && c_->partial_bytes() == 0;
    if (e->what != incoming::kind::packet) return problem{expected, describe(*e)};
    if (refuses_version(e->pkt.value))
      return problem{expected, codec::is_v5(version_) ? codec::to_string(e->pkt.value) : v311_refusal, true};
    const auto* ack = std::get_if<codec::connack>(&e->pkt.value);
    if (!ack || ack->code != codec::reason_code::success) return problem{expected, describe(*e)};
    caps_ = codec::is_v5(version_) ? from_connack(ack->props) : default_v311();
    return std::nullopt;
  }

  // Reads packets until `done()` holds. PUBLISHes may come at any time (a broker may deliver
  // other messages, and client_connection acks QoS 1 and 2); any other packet must be an answer
  // the probe asked for.
  template <class Done>
  std::optional<problem> await(const std::string& expected, Done done) {
    const auto deadline = steady::now() + o_.timeout;
    while (!done()) {
      const auto* e = next_event(deadline);
      if (!e) return problem{expected, nothing()};
      if (auto wrong = take(*e)) return problem{expected, *wrong};
    }
    return std::nullopt;
  }

  // Notes what a packet answers; says what is wrong with it otherwise.
  std::optional<std::string> take(const incoming& e) {
    if (e.what != incoming::kind::packet) return describe(e);
    const auto& p = e.pkt.value;
    if (const auto* pub = std::get_if<codec::publish>(&p)) {
      delivered_ = delivered_ || (pub->topic == topic_ && pub->payload == payload);
      if (pub->payload == payload && pub->topic != topic_) elsewhere_ = pub->topic;
      return std::nullopt;
    }
    if (std::holds_alternative<codec::pingresp>(p)) {
      got_pingresp_ = true;
      return std::nullopt;
    }
    if (const auto* ack = std::get_if<codec::suback>(&p); ack && ack->packet_id == 1 && ack->codes.size() == 1) {
      // Any granted QoS is success (§3.8.4); 0x80 and above refuse the subscription.
      if (codec::is_failure(ack->codes.front())) return codec::to_string(p) + ": the subscription was refused";
      got_suback_ = true;
      return std::nullopt;
    }
    if (const auto* ack = std::get_if<codec::puback>(&p); ack && ack->packet_id == 2) {
      if (codec::is_failure(ack->code)) return codec::to_string(p) + ": the message was refused";
      got_puback_ = true;
      return std::nullopt;
    }
    return "unexpected " + codec::to_string(p);
  }

  static std::string describe(const incoming& e) {
    switch (e.what) {
      case incoming::kind::packet: return codec::to_string(e.pkt.value);
      case incoming::kind::malformed: {
        // Garbage can be long: the first 32 bytes say enough.
        constexpr std::size_t shown = 32 * 3;
        const auto bytes = e.raw_hex.size() > shown ? e.raw_hex.substr(0, shown) + "..." : e.raw_hex;
        return "bytes that are no valid packet (" + e.error.message() + (bytes.empty() ? "" : ": " + bytes) + ")";
      }
      case incoming::kind::closed: return "the connection " + e.note;
    }
    return "?";
  }

  std::string nothing() const {
    const auto within = " within " + std::to_string(o_.timeout.count()) + " ms";
    const auto partial = c_ ? c_->partial_bytes() : 0;
    if (!elsewhere_.empty()) return "nothing" + within + " (the message came back on topic \"" + elsewhere_ + "\" instead)";
    if (partial == 0) return "nothing" + within;
    return "no whole packet" + within + ", only " + std::to_string(partial) + (partial == 1 ? " byte" : " bytes") + " of one";
  }

  void send(const codec::packet& p) {
    if (auto bytes = codec::encode(p, version_)) c_->send(*bytes, steady::now() + o_.timeout);
  }
  void send(const codec::bytes& bytes) { c_->send(bytes, steady::now() + o_.timeout); }

  template <class Pred>
  bool wait_until(Pred ready, steady::time_point deadline) {
    while (!ready()) {
      if (steady::now() >= deadline) return false;
      io_.run_one_until(deadline);
    }
    return true;
  }

  const incoming* next_event(steady::time_point deadline) {
    if (!wait_until([&] { return c_->cursor < c_->events().size(); }, deadline)) return nullptr;
    return &c_->events()[c_->cursor++];
  }

  static constexpr std::string_view payload = "mqttspec probe";

  suite_version v_;
  codec::protocol_version version_;
  const engine_options& o_;
  const profile& prof_;
  asio::io_context io_;
  wire_logger log_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::string client_id_;
  std::string topic_;
  std::shared_ptr<client_connection> c_;
  capability_set caps_;
  bool got_pingresp_ = false, got_suback_ = false, got_puback_ = false, delivered_ = false;
  bool closed_at_connect_ = false;
  std::string elsewhere_;  // the topic our message came back on, when not ours
};

}  // namespace

version_probe probe_version(suite_version v, const engine_options& o, const profile& prof) {
  return probe_client(v, o, prof).run();
}

void reconcile(std::vector<version_probe*> probes) {
  const version_probe* working = nullptr;
  for (const auto* p : probes)
    if (p->result == version_probe::outcome::works) working = p;
  if (!working) return;
  for (auto* p : probes) {
    if (p->result != version_probe::outcome::broken || !p->closed_at_connect) continue;
    p->result = version_probe::outcome::unsupported;
    p->summary = "the broker does not support MQTT " + std::string(display_name(p->version)) +
                 ": it closed the connection on a valid CONNECT without answering, while MQTT " +
                 std::string(display_name(working->version)) + " works";
  }
}

scenario_result not_played(const scenario& s, const version_probe& p) {
  scenario_result r;
  r.sc = &s;
  r.v = p.result == version_probe::outcome::unsupported ? verdict::unsupported : verdict::error;
  r.expected = p.expected;
  r.observed = p.observed;
  r.message = "not played: " + p.summary;
  r.log = p.log;
  return r;
}

}  // namespace mqttspec::conformance
