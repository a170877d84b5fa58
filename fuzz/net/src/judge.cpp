#include "judge.hpp"

#include <memory>

namespace mqttspec::netfuzz {

using namespace codec;

std::string qualifier(protocol_version v) { return is_v5(v) ? "v5" : "v3.1.1"; }

namespace {

// The section of each packet's format, the same number in 3.1.1 and 5.0 (CONNECT 3.1 ... AUTH 3.15).
std::string packet_section(std::uint8_t type_bits) { return "3." + std::to_string(type_bits); }

// The section a codec error without a numbered statement is named by.
std::string section_of(const decode_error& e, protocol_version v, std::uint8_t type_bits) {
  switch (e.code) {
    case errc::remaining_length_too_long:
    case errc::non_minimal_varint:
    case errc::packet_too_large: return is_v5(v) ? "2.1.4" : "2.2.3";
    case errc::reserved_packet_type: return is_v5(v) ? "2.1.2" : "2.2.1";
    case errc::property_length_mismatch:
    case errc::unknown_property:
    case errc::property_not_allowed:
    case errc::duplicate_property:
    case errc::invalid_property_value: return "2.2.2";
    default: return type_bits >= 1 && type_bits <= 15 ? packet_section(type_bits) : (is_v5(v) ? "2.1.2" : "2.2.1");
  }
}

// The statement a codec error names, or its section when the rule has no number, qualified.
std::string statement_of(const decode_error& e, protocol_version v, std::uint8_t type_bits) {
  if (!e.statement.empty()) return e.statement;
  return qualifier(v) + ":" + section_of(e, v, type_bits);
}

std::string type_name(std::uint8_t type_bits) {
  if (type_bits >= 1 && type_bits <= 15) return std::string(to_string(static_cast<packet_type>(type_bits)));
  return "reserved type " + std::to_string(type_bits);
}

bool server_may_send(std::uint8_t t, protocol_version v) {
  switch (static_cast<packet_type>(t)) {
    case packet_type::connack:
    case packet_type::publish:
    case packet_type::puback:
    case packet_type::pubrec:
    case packet_type::pubrel:
    case packet_type::pubcomp:
    case packet_type::suback:
    case packet_type::unsuback:
    case packet_type::pingresp: return true;
    case packet_type::disconnect:
    case packet_type::auth: return is_v5(v);
    default: return false;
  }
}

// A message that says what broke without the byte offset's exact value ("at byte <n>" is
// normalized later anyway) and with the codec's statement.
std::string describe(const decode_error& e) { return e.message(); }

// Whether a packet carries a failure reason code (0x80 or above): a rejection, not acceptance.
bool has_failure(const packet& p) {
  return std::visit(
      [](const auto& x) {
        if constexpr (requires { x.codes; }) {
          for (auto c : x.codes)
            if (is_failure(c)) return true;
          return false;
        } else if constexpr (requires { x.code; }) {
          return is_failure(x.code);
        } else {
          return false;
        }
      },
      p);
}

}  // namespace

std::string judge::q(std::string_view label) const { return qualifier(version()) + ":" + std::string(label); }

void judge::fail(std::string statement, std::string rule, std::string rule_text, std::string observation,
                 bytes_view raw) {
  if (problem_) return;
  problem_ = problem{std::move(statement), std::move(rule), std::move(rule_text), std::move(observation), to_hex(raw)};
}

void judge::client_violation(std::string statement, std::string text, bytes_view raw) {
  if (violation_) return;
  violation_ = violation{std::move(statement), std::move(text), to_hex(raw.substr(0, 256)), pings_sent_ + 1,
                         first_frame_};
}

// ---- what the client sent ----

void judge::sent(bytes_view data) {
  if (!sent_ok_framing_) return;
  sent_buf_ += data;
  std::size_t pos = 0;
  for (;;) {
    auto f = parse_frame(bytes_view(sent_buf_).substr(pos));
    if (!f) {
      if (f.error().code != errc::need_more) {
        sent_ok_framing_ = false;
        first_frame_ = sent_frames_ == 0;
        client_violation(statement_of(f.error(), level_ ? *level_ : intended_, 0),
                         "bytes that do not frame: " + describe(f.error()), bytes_view(sent_buf_).substr(pos));
        sent_buf_.clear();
        return;
      }
      break;
    }
    on_sent_frame(f.value());
    pos += f->bytes.size();
  }
  sent_buf_.erase(0, pos);
  if (!sent_buf_.empty()) {
    // A step that ends inside a frame: the broker may cut the stream into packets differently
    // from here on (some brokers skip a 0x00 first byte), so its answers to requests are no
    // longer judged. A reserved packet type is a violation from its first byte.
    partial_ = true;
    const auto t = static_cast<std::uint8_t>(sent_buf_[0]) >> 4;
    const auto v = known_ ? *known_ : level_ ? *level_ : intended_;
    if (t == 0 || (t == 15 && !is_v5(v))) {
      first_frame_ = sent_frames_ == 0;
      client_violation(q(is_v5(v) ? "2.1.2" : "2.2.1"), "bytes starting with the reserved packet type " +
                                                             std::to_string(t), bytes_view(sent_buf_).substr(0, 16));
    }
  }
}

bool judge::whole_after(bytes_view data) const {
  if (!sent_ok_framing_) return false;
  const bytes all = sent_buf_ + bytes(data);
  bytes_view rest = all;
  while (!rest.empty()) {
    auto f = parse_frame(rest);
    if (!f) return false;
    rest.remove_prefix(f->bytes.size());
  }
  return true;
}

void judge::on_sent_frame(const frame& f) {
  const auto index = sent_frames_++;
  first_frame_ = index == 0;
  const auto t = f.type_bits();
  if (t == static_cast<std::uint8_t>(packet_type::pingreq) && f.bytes.size() == 2) ++pings_sent_;
  if (index == 0) {
    if (t != static_cast<std::uint8_t>(packet_type::connect)) {
      client_violation(q("MQTT-3.1.0-1"), "a first packet that is " + type_name(t) + ", not CONNECT", f.bytes);
      return;
    }
    auto peeked = peek_connect_version(f);
    if (!peeked) {
      client_violation(statement_of(peeked.error(), intended_, t), "a CONNECT whose version is unreadable: " +
                                                                       describe(peeked.error()), f.bytes);
      return;
    }
    level_ = peeked.value();
    auto d = decode(f, *level_);
    if (!d) {
      client_violation(statement_of(d.error(), *level_, t), "a CONNECT that breaks a rule: " + describe(d.error()),
                       f.bytes);
      return;
    }
    const auto& c = std::get<connect>(d.value());
    known_ = *level_;
    connect_valid_ = true;
    clean_start_ = c.clean_start;
    if (c.props.authentication_method) auth_method_ = std::string(*c.props.authentication_method);
    if (c.props.maximum_packet_size) max_packet_size_ = *c.props.maximum_packet_size;
    if (c.props.topic_alias_maximum) topic_alias_max_ = *c.props.topic_alias_maximum;
    if (c.props.receive_maximum) receive_max_ = *c.props.receive_maximum;
    return;
  }
  if (!known_) return;  // nothing after an invalid CONNECT is judged: the broker had to close
  if (t == static_cast<std::uint8_t>(packet_type::connect)) {
    client_violation(q("MQTT-3.1.0-2"), "a second CONNECT on the connection", f.bytes);
    return;
  }
  auto d = decode(f, *known_);
  if (!d) {
    client_violation(statement_of(d.error(), *known_, t), "a " + type_name(t) + " that breaks a rule: " +
                                                              describe(d.error()), f.bytes);
    return;
  }
  if (server_may_send(t, *known_) && t != static_cast<std::uint8_t>(packet_type::publish) &&
      t != static_cast<std::uint8_t>(packet_type::puback) && t != static_cast<std::uint8_t>(packet_type::pubrec) &&
      t != static_cast<std::uint8_t>(packet_type::pubrel) && t != static_cast<std::uint8_t>(packet_type::pubcomp) &&
      t != static_cast<std::uint8_t>(packet_type::disconnect) && t != static_cast<std::uint8_t>(packet_type::auth)) {
    client_violation(q(is_v5(*known_) ? "2.1.2" : "2.2.1"), "a " + type_name(t) + ", which only a Server sends",
                     f.bytes);
    return;
  }
  const auto& p = d.value();
  if (const auto* s = std::get_if<subscribe>(&p)) subscribes_[s->packet_id].push_back(s->subscriptions.size());
  else if (const auto* u = std::get_if<unsubscribe>(&p)) unsubscribes_[u->packet_id].push_back(u->filters.size());
  else if (const auto* pub = std::get_if<publish>(&p)) {
    if (pub->qos_level == qos::at_least_once) qos1_ids_.insert(pub->packet_id);
    if (pub->qos_level == qos::exactly_once) qos2_ids_.insert(pub->packet_id);
    if (is_v5(*known_) && pub->props.topic_alias) {
      const auto alias = *pub->props.topic_alias;
      if (connack_ && alias > server_alias_max_) {
        client_violation(server_alias_max_ ? q("MQTT-3.3.2-9") : q("MQTT-3.2.2-18"),
                         "a PUBLISH with Topic Alias " + std::to_string(alias) + " above the Server's maximum " +
                             std::to_string(server_alias_max_),
                         f.bytes);
        return;
      }
      if (pub->topic.empty() && !client_aliases_.count(alias)) {
        client_violation(q("3.3.2.3.4"), "a PUBLISH with an empty Topic Name and a Topic Alias never set", f.bytes);
        return;
      }
      client_aliases_.insert(alias);
    }
  } else if (const auto* rel = std::get_if<pubrel>(&p)) pubrel_ids_.insert(rel->packet_id);
  else if (const auto* ack = std::get_if<puback>(&p)) acked(ack->packet_id);
  else if (const auto* rec = std::get_if<pubrec>(&p)) {
    if (is_failure(rec->code)) acked(rec->packet_id);
  } else if (const auto* comp = std::get_if<pubcomp>(&p)) acked(comp->packet_id);
  else if (std::holds_alternative<auth>(p) && !auth_method_) {
    client_violation(q("MQTT-4.12.0-7"), "an AUTH although the CONNECT had no Authentication Method", f.bytes);
  }
}

void judge::acked(std::uint16_t id) {
  if (!inflight_.erase(id)) early_acks_.insert(id);
}

// ---- what the broker sent ----

void judge::received(bytes_view data, std::vector<owned_packet>& out) {
  if (problem_) return;
  recv_framer_.feed(data);
  for (;;) {
    auto f = recv_framer_.next();
    if (!f) {
      if (f.error().code != errc::need_more)
        fail(statement_of(f.error(), version(), 0), "framing", "the broker's bytes frame as MQTT packets",
             "broker bytes that do not frame: " + describe(f.error()), data.substr(0, 256));
      return;
    }
    on_received_frame(f.value(), out);
    if (problem_) return;
  }
}

void judge::on_received_frame(const frame& f, std::vector<owned_packet>& out) {
  const auto index = recv_frames_++;
  const auto t = f.type_bits();
  const bool first = index == 0;
  // Before anything: CONNACK comes first (an AUTH may precede it when the client asked for
  // enhanced authentication).
  if (first && !silence_allowed() && t != static_cast<std::uint8_t>(packet_type::connack) &&
      !(t == static_cast<std::uint8_t>(packet_type::auth) && known_ && is_v5(*known_) && auth_method_)) {
    fail(q("MQTT-3.2.0-1"), "first-connack", "the first packet the Server sends is CONNACK",
         "first packet from the broker is " + type_name(t) + ", not CONNACK", f.bytes);
    return;
  }
  if (refused_) {
    fail(q(is_v5(version()) ? "MQTT-3.2.2-7" : "MQTT-3.2.2-5"), "close-after-refusal",
         "after a CONNACK refusing the connection the Server closes it",
         "the broker sent " + type_name(t) + " after a CONNACK that refused the connection", f.bytes);
    return;
  }
  if (server_disconnect_) {
    fail(q("MQTT-3.14.4-1"), "nothing-after-disconnect", "after sending DISCONNECT the Server sends nothing more",
         "the broker sent " + type_name(t) + " after its DISCONNECT", f.bytes);
    return;
  }

  if (!known_) {
    // The broker cannot know the version: only CONNACK-or-close questions. A CONNACK is read in
    // either version's form.
    if (t != static_cast<std::uint8_t>(packet_type::connack)) return;
    auto storage = std::make_shared<const bytes>(f.bytes);
    auto d = decode(bytes_view(*storage), protocol_version::v3_1_1);
    if (!d) d = decode(bytes_view(*storage), protocol_version::v5);
    if (!d) return;  // a refusal in some form we cannot read: still a refusal
    const auto c = std::get<connack>(d.value());
    out.push_back(owned_packet{storage, std::move(d.value())});
    connack_ = true;
    if (c.code != reason_code::success) {
      refused_ = true;
      return;
    }
    accepted_ = true;
    if (violation_ && violation_->in_connect) {
      fail(violation_->statement, "accepted-invalid", "a Server closes the connection on a packet that breaks this rule",
           "the broker accepted (CONNACK 0) " + violation_->text, bytes_view());
      problem_->hex = violation_->hex;
    }
    return;
  }

  const auto v = *known_;
  if (!server_may_send(t, v)) {
    fail(q(is_v5(v) ? "2.1.2" : "2.2.1"), "direction",
         "a Server sends only the packet types the table of control packets gives for Server to Client",
         "the broker sent " + type_name(t) + ", a packet only a Client sends", f.bytes);
    return;
  }
  auto storage = std::make_shared<const bytes>(f.bytes);
  auto d = decode(bytes_view(*storage), v);
  if (!d) {
    fail(statement_of(d.error(), v, t), "decode", "every packet the Server sends is valid for the version",
         "invalid " + std::string(to_string(v)) + " " + type_name(t) + " from the broker: " + describe(d.error()),
         f.bytes);
    return;
  }
  if (is_v5(v) && max_packet_size_ && f.bytes.size() > max_packet_size_) {
    fail(q("MQTT-3.1.2-24"), "max-packet-size",
         "the Server sends no packet larger than the Client's Maximum Packet Size",
         "the broker sent a " + std::to_string(f.bytes.size()) + "-byte " + type_name(t) +
             " to a client whose Maximum Packet Size is " + std::to_string(max_packet_size_),
         f.bytes.substr(0, 64));
    return;
  }
  judge_packet(d.value(), f.bytes);
  out.push_back(owned_packet{storage, std::move(d.value())});  // valid, even if it broke a rule
}

void judge::judge_packet(const packet& p, bytes_view raw) {
  const auto v = *known_;
  const bool valid_so_far = connect_valid_ && !violation_ && !partial_;
  if (violation_ && has_failure(p)) rejected_since_violation_ = true;

  if (const auto* c = std::get_if<connack>(&p)) {
    if (connack_) {
      fail(q(is_v5(v) ? "MQTT-3.2.0-2" : "3.2"), "one-connack", "the Server sends one CONNACK per connection",
           "the broker sent a second CONNACK", raw);
      return;
    }
    connack_ = true;
    if (c->code != reason_code::success) {
      refused_ = true;
      return;
    }
    accepted_ = true;
    if (violation_ && violation_->in_connect) {
      fail(violation_->statement, "accepted-invalid", "a Server closes the connection on a packet that breaks this rule",
           "the broker accepted (CONNACK 0) " + violation_->text, bytes_view());
      problem_->hex = violation_->hex;
      return;
    }
    if (clean_start_ && c->session_present) {
      fail(q(is_v5(v) ? "MQTT-3.2.2-2" : "MQTT-3.2.2-1"), "session-present",
           "accepting a clean-start connection the Server sends Session Present 0",
           "CONNACK with Session Present 1 to a CONNECT with Clean Start 1", raw);
      return;
    }
    if (is_v5(v)) {
      server_alias_max_ = c->props.topic_alias_maximum.value_or(0);
      if (c->props.authentication_method && !auth_method_) {
        fail(q("MQTT-4.12.0-6"), "auth-unasked", "without an Authentication Method in CONNECT the Server uses none",
             "CONNACK with an Authentication Method to a CONNECT without one", raw);
        return;
      }
      if (auth_method_ && c->props.authentication_method && *c->props.authentication_method != *auth_method_) {
        fail(q("MQTT-4.12.0-5"), "auth-method", "the CONNACK ending an authentication carries the CONNECT's method",
             "CONNACK with another Authentication Method than the CONNECT's", raw);
        return;
      }
    }
    return;
  }
  if (!connack_ && !std::holds_alternative<auth>(p) && !silence_allowed()) {
    fail(q("MQTT-3.2.0-1"), "first-connack", "the first packet the Server sends is CONNACK",
         "the broker sent " + std::string(to_string(type_of(p))) + " before CONNACK", raw);
    return;
  }
  if (std::holds_alternative<disconnect>(p)) {
    if (!accepted_) {
      fail(q("MQTT-3.14.0-1"), "disconnect-before-connack",
           "the Server sends DISCONNECT only after a CONNACK that accepted the connection",
           "the broker sent DISCONNECT before accepting the connection", raw);
      return;
    }
    server_disconnect_ = true;
    return;
  }
  if (const auto* a = std::get_if<auth>(&p)) {
    if (!auth_method_) {
      fail(q("MQTT-4.12.0-6"), "auth-unasked", "without an Authentication Method in CONNECT the Server sends no AUTH",
           "the broker sent AUTH to a client that asked for no enhanced authentication", raw);
    } else if (a->props.authentication_method && *a->props.authentication_method != *auth_method_) {
      fail(q("MQTT-4.12.0-5"), "auth-method", "every AUTH carries the CONNECT's Authentication Method",
           "AUTH with another Authentication Method than the CONNECT's", raw);
    }
    return;
  }
  if (std::holds_alternative<pingresp>(p)) {
    ++pingresps_;
    if (violation_ && pingresps_ >= violation_->ping_after && !rejected_since_violation_) {
      fail(violation_->statement, "accepted-invalid", "a Server closes the connection on a packet that breaks this rule",
           "the broker answered the PINGREQ sent after " + violation_->text, bytes_view());
      problem_->hex = violation_->hex;
    }
    return;
  }
  if (const auto* pub = std::get_if<publish>(&p)) {
    if (is_v5(v) && pub->props.topic_alias && connect_valid_) {
      const auto alias = *pub->props.topic_alias;
      if (alias > topic_alias_max_) {
        fail(q(topic_alias_max_ ? "MQTT-3.3.2-11" : "MQTT-3.1.2-27"), "topic-alias-maximum",
             "the Server sends no Topic Alias above the Client's Topic Alias Maximum",
             "PUBLISH with Topic Alias " + std::to_string(alias) + " to a client whose Topic Alias Maximum is " +
                 std::to_string(topic_alias_max_),
             raw);
        return;
      }
    }
    if (pub->qos_level != qos::at_most_once && connect_valid_ && !early_acks_.erase(pub->packet_id)) {
      inflight_.insert(pub->packet_id);
      if (is_v5(v) && inflight_.size() > receive_max_) {
        fail(q("MQTT-3.3.4-9"), "receive-maximum",
             "the Server has no more unacknowledged QoS 1/2 PUBLISHes towards a Client than its Receive Maximum",
             "the broker had " + std::to_string(inflight_.size()) +
                 " unacknowledged QoS 1/2 PUBLISHes towards a client whose Receive Maximum is " +
                 std::to_string(receive_max_),
             raw);
      }
    }
    return;
  }
  if (!valid_so_far) return;
  // Answers to the client's requests: only judged while everything the client sent was valid.
  if (const auto* s = std::get_if<suback>(&p)) {
    auto it = subscribes_.find(s->packet_id);
    if (it == subscribes_.end() || it->second.empty()) {
      fail(q("MQTT-3.8.4-2"), "ack-id", "the SUBACK carries the Packet Identifier of the SUBSCRIBE it answers",
           "SUBACK id=" + std::to_string(s->packet_id) + " answers no outstanding SUBSCRIBE", raw);
      return;
    }
    const auto want = it->second.front();
    it->second.erase(it->second.begin());
    if (s->codes.size() != want)
      fail(q(is_v5(v) ? "MQTT-3.8.4-6" : "MQTT-3.8.4-5"), "suback-count",
           "the SUBACK has one code per Topic Filter of the SUBSCRIBE",
           "SUBACK with " + std::to_string(s->codes.size()) + " codes for a SUBSCRIBE of " + std::to_string(want) +
               " filters",
           raw);
    return;
  }
  if (const auto* u = std::get_if<unsuback>(&p)) {
    auto it = unsubscribes_.find(u->packet_id);
    if (it == unsubscribes_.end() || it->second.empty()) {
      fail(q(is_v5(v) ? "MQTT-3.10.4-5" : "MQTT-3.10.4-4"), "ack-id",
           "the UNSUBACK carries the Packet Identifier of the UNSUBSCRIBE it answers",
           "UNSUBACK id=" + std::to_string(u->packet_id) + " answers no outstanding UNSUBSCRIBE", raw);
      return;
    }
    const auto want = it->second.front();
    it->second.erase(it->second.begin());
    if (is_v5(v) && u->codes.size() != want)
      fail(q("MQTT-3.11.3-2"), "unsuback-count", "the UNSUBACK has one Reason Code per Topic Filter",
           "UNSUBACK with " + std::to_string(u->codes.size()) + " codes for an UNSUBSCRIBE of " +
               std::to_string(want) + " filters",
           raw);
    return;
  }
  auto unknown_id = [&](const char* what, std::uint16_t id, const std::set<std::uint16_t>& known, std::string label,
                        const char* text) {
    if (known.count(id)) return;
    fail(q(label), "ack-id", text,
         std::string(what) + " id=" + std::to_string(id) + " answers nothing the client sent with that id", raw);
  };
  if (const auto* a = std::get_if<puback>(&p))
    unknown_id("PUBACK", a->packet_id, qos1_ids_, is_v5(v) ? "MQTT-2.2.1-5" : "MQTT-2.3.1-6",
               "a PUBACK carries the Packet Identifier of the QoS 1 PUBLISH it answers");
  else if (const auto* r = std::get_if<pubrec>(&p))
    unknown_id("PUBREC", r->packet_id, qos2_ids_, is_v5(v) ? "MQTT-2.2.1-5" : "MQTT-2.3.1-6",
               "a PUBREC carries the Packet Identifier of the QoS 2 PUBLISH it answers");
  else if (const auto* c = std::get_if<pubcomp>(&p))
    unknown_id("PUBCOMP", c->packet_id, pubrel_ids_, is_v5(v) ? "MQTT-4.3.3-11" : "MQTT-4.3.3-2",
               "a PUBCOMP carries the Packet Identifier of the PUBREL it answers");
}

}  // namespace mqttspec::netfuzz
