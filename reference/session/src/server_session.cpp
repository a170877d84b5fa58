#include "mqttspec/session/server_session.hpp"

#include <stdexcept>

namespace mqttspec::session {
namespace {

using codec::reason_code;

std::string qualified(codec::protocol_version v, std::string_view id) {
  return std::string(codec::is_v5(v) ? "v5:" : "v3.1.1:") + std::string(id);
}

// Refusing a protocol level we do not speak, in the format its client most likely reads: a level
// above 5 gets the 5.0 CONNACK 0x84 (v5:MQTT-3.1.2-2), an older one the 3.1.1 return code 0x01
// (v3.1.1:MQTT-3.1.2-2).
constexpr std::string_view v5_connack_refused_version{"\x20\x03\x00\x84\x00", 5};
constexpr std::string_view v311_connack_refused_version{"\x20\x02\x00\x01", 4};

// The protocol level byte of a CONNECT frame whose name is "MQTT", if it is that far.
std::optional<std::uint8_t> protocol_level(const codec::frame& f) {
  const auto body = f.body();
  if (body.size() < 7 || body.substr(0, 6) != std::string_view("\x00\x04MQTT", 6)) return std::nullopt;
  return static_cast<std::uint8_t>(body[6]);
}

}  // namespace

std::optional<reason_code> specific_reason(const close_cause& cause) noexcept {
  if (const auto* r = std::get_if<rule>(&cause)) {
    if (*r == rule::unknown_topic_alias) return reason_code::topic_alias_invalid;
    return std::nullopt;
  }
  const auto* e = std::get_if<codec::errc>(&cause);
  if (!e) return std::nullopt;
  switch (*e) {
    case codec::errc::wildcard_in_topic_name:
    case codec::errc::empty_topic_name:
      return reason_code::topic_name_invalid;
    case codec::errc::empty_topic_filter:
    case codec::errc::misplaced_multi_level_wildcard:
    case codec::errc::misplaced_single_level_wildcard:
    case codec::errc::empty_share_name:
    case codec::errc::invalid_shared_subscription:
      return reason_code::topic_filter_invalid;
    default:
      return std::nullopt;
  }
}

server_session::server_session(server_limits limits, millis now, server_options options)
    : limits_(limits),
      options_(options),
      framer_(limits.maximum_packet_size),
      accepted_at_(now),
      last_received_(now) {}

std::vector<event> server_session::receive(codec::bytes_view data, millis now) {
  std::vector<event> out;
  if (state_ == state::closed) return out;  // after a close nothing more is processed (v5:MQTT-3.1.4-6)
  framer_.feed(data);
  while (state_ != state::closed) {
    // Stop after a CONNECT: the broker answers it before anything pipelined behind it is read.
    if (paused()) break;
    auto f = framer_.next();
    if (!f) {
      if (f.error().code != codec::errc::need_more) fail(f.error(), out);
      break;
    }
    handle_frame(*f, now, out);
  }
  return out;
}

void server_session::handle_frame(const codec::frame& f, millis now, std::vector<event>& out) {
  last_received_ = now;
  if (state_ == state::awaiting_connect) {
    if (f.type_bits() != static_cast<std::uint8_t>(codec::packet_type::connect))
      return finish({std::nullopt, qualified(version_, "MQTT-3.1.0-1"), "first packet is not CONNECT", false,
                     rule::first_packet_not_connect},
                    out);
    return handle_connect(f, now, out);
  }
  if (f.type_bits() == static_cast<std::uint8_t>(codec::packet_type::connect))
    return protocol_close(reason_code::protocol_error, rule::second_connect, qualified(version_, "MQTT-3.1.0-2"),
                          "second CONNECT", out);
  if (!connack_sent_) {
    // Mid-authentication only AUTH or DISCONNECT may come (v5:MQTT-3.1.2-30).
    auth_expected_ = false;
    if (f.type_bits() != static_cast<std::uint8_t>(codec::packet_type::auth) &&
        f.type_bits() != static_cast<std::uint8_t>(codec::packet_type::disconnect))
      return protocol_close(reason_code::protocol_error, rule::packet_before_connack, "v5:MQTT-3.1.2-30",
                            "packet other than AUTH before CONNACK", out);
  }

  // Copy the frame once into shared storage, and decode from there: the delivered packet's views
  // must outlive the framer's buffer.
  auto storage = std::make_shared<codec::bytes>(f.bytes);
  auto decoded = codec::decode(*codec::parse_frame(*storage), version_);
  if (!decoded) return fail(decoded.error(), out);
  if (auto* p = std::get_if<codec::publish>(&*decoded); p && codec::is_v5(version_)) {
    const bool alias_only = p->topic.empty() && p->props.topic_alias;
    if (!resolve_topic_alias(*p, out)) return;
    if (alias_only) {
      // The topic lives in this connection's alias table: the delivered packet gets a storage that
      // holds it too. The rare path, so it decodes once more, from the new storage.
      const std::size_t frame_size = storage->size();
      auto with_topic = std::make_shared<codec::bytes>();
      with_topic->reserve(frame_size + p->topic.size());
      with_topic->append(*storage).append(p->topic);
      decoded = codec::decode(*codec::parse_frame(std::string_view(*with_topic).substr(0, frame_size)), version_);
      std::get<codec::publish>(*decoded).topic = std::string_view(*with_topic).substr(frame_size);
      storage = std::move(with_topic);
    }
  }
  const bool is_disconnect = std::holds_alternative<codec::disconnect>(*decoded);
  // Emplaced: a packet is hundreds of bytes, and each move copies its property block.
  out.emplace_back(deliver{{std::move(storage), std::move(*decoded)}});
  if (is_disconnect) finish({std::nullopt, {}, "client sent DISCONNECT", true}, out);
}

void server_session::handle_connect(const codec::frame& f, millis now, std::vector<event>& out) {
  auto version = codec::peek_connect_version(f);
  if (!version) {
    const auto& e = version.error();
    if (e.code == codec::errc::unsupported_protocol_version) {  // v3.1.1:MQTT-3.1.2-2, v5:MQTT-3.1.2-2
      const auto level = protocol_level(f);
      out.push_back(transmit{codec::bytes(level && *level > 5 ? v5_connack_refused_version : v311_connack_refused_version)});
      return finish({reason_code::unsupported_protocol_version, e.statement, "unsupported protocol level", false, e.code},
                    out);
    }
    return finish({std::nullopt, e.statement, e.message(), false, e.code}, out);  // e.g. not "MQTT": v3.1.1:MQTT-3.1.2-1
  }
  version_ = *version;
  version_known_ = true;
  auto storage = std::make_shared<codec::bytes>(f.bytes);
  auto decoded = codec::decode(*codec::parse_frame(*storage), version_);
  if (!decoded) return fail(decoded.error(), out);
  const auto& c = std::get<codec::connect>(*decoded);
  state_ = state::connected;
  set_keep_alive(c.keep_alive, now);
  if (c.props.maximum_packet_size) client_max_packet_ = *c.props.maximum_packet_size;
  if (codec::is_v5(version_)) client_alias_maximum_ = c.props.topic_alias_maximum.value_or(0);
  out.emplace_back(deliver{{std::move(storage), std::move(*decoded)}});
}

bool server_session::resolve_topic_alias(codec::publish& p, std::vector<event>& out) {
  if (!p.props.topic_alias) return true;
  const auto alias = *p.props.topic_alias;
  if (alias > limits_.topic_alias_maximum) {  // v5:MQTT-3.2.2-17, v5:MQTT-3.3.2-9
    protocol_close(reason_code::topic_alias_invalid, rule::topic_alias_above_maximum, "v5:MQTT-3.3.2-9",
                   "Topic Alias above the maximum", out);
    return false;
  }
  if (!p.topic.empty()) {
    inbound_aliases_[alias] = std::string(p.topic);
    return true;
  }
  auto it = inbound_aliases_.find(alias);
  if (it == inbound_aliases_.end()) {  // §3.3.2.3.4: an unknown alias with no topic is a Protocol Error
    protocol_close(reason_code::protocol_error, rule::unknown_topic_alias, {}, "Topic Alias not set on this connection",
                   out);
    return false;
  }
  p.topic = it->second;
  return true;
}

bool server_session::send(const codec::packet& p, millis /*now*/, std::vector<event>& out) {
  if (state_ == state::closed) return false;
  // Outbound Topic Aliases (5.0, §3.3.2.3.4): a topic seen before goes as its alias alone; a new
  // one gets the next alias while the client's Topic Alias Maximum allows (v5:MQTT-3.1.2-26,
  // v5:MQTT-3.3.2-11; none when it gave 0 or nothing: v5:MQTT-3.1.2-27). Aliases last for this
  // connection only (v5:MQTT-3.3.2-7).
  std::optional<codec::packet> aliased;
  std::optional<std::pair<std::string, std::uint16_t>> new_alias;
  if (const auto* pub = std::get_if<codec::publish>(&p); pub && client_alias_maximum_ > 0 && !pub->props.topic_alias) {
    codec::publish a = *pub;
    if (auto it = outbound_aliases_.find(pub->topic); it != outbound_aliases_.end()) {
      a.props.topic_alias = it->second;
      a.topic = {};
    } else if (outbound_aliases_.size() < client_alias_maximum_) {
      new_alias.emplace(std::string(pub->topic), static_cast<std::uint16_t>(outbound_aliases_.size() + 1));
      a.props.topic_alias = new_alias->second;
    }
    if (a.props.topic_alias) aliased = a;
  }
  const codec::packet& to_send = aliased ? *aliased : p;
  auto wire = codec::encode(to_send, version_);
  if (!wire) throw std::logic_error("server_session::send: packet not encodable: " + wire.error().message());
  if (wire->size() > client_max_packet_) {
    if (std::holds_alternative<codec::publish>(p)) return false;  // dropped, as if sent (v5:MQTT-3.1.2-25)
    // Other packets: leave out the Reason String and User Properties (e.g. v5:MQTT-3.2.2-19/-20).
    codec::packet slim = to_send;
    std::visit(
        [](auto& x) {
          if constexpr (requires { x.props; }) {
            x.props.reason_string.reset();
            x.props.user_properties.clear();
          }
        },
        slim);
    wire = codec::encode(slim, version_);
    if (wire->size() > client_max_packet_) return false;
  }
  // Only an alias that really went out may be used alone later.
  if (new_alias) outbound_aliases_.insert(*new_alias);
  out.push_back(transmit{std::move(*wire)});
  if (const auto* ack = std::get_if<codec::connack>(&p)) {
    connack_sent_ = true;
    if (ack->code != reason_code::success)  // v5:MQTT-3.2.2-7, v3.1.1:MQTT-3.2.2-5
      finish({ack->code, {}, "CONNECT refused"}, out);
  } else if (const auto* d = std::get_if<codec::disconnect>(&p)) {
    finish({d->code, {}, "server sent DISCONNECT"}, out);  // v5:MQTT-3.14.4-1, v5:MQTT-3.14.4-2
  }
  return true;
}

std::vector<event> server_session::send(const codec::packet& p, millis now) {
  std::vector<event> out;
  send(p, now, out);
  return out;
}

void server_session::set_keep_alive(std::uint16_t seconds, millis now) {
  keep_alive_ = seconds;
  last_received_ = now;
}

std::optional<millis> server_session::deadline() const noexcept {
  // Until the CONNACK: an enhanced-authentication exchange must finish within the CONNECT timeout too.
  if (state_ == state::awaiting_connect || (state_ == state::connected && !connack_sent_))
    return accepted_at_ + limits_.connect_timeout;
  if (state_ == state::connected && keep_alive_ > 0) return last_received_ + millis{keep_alive_} * 1500;
  return std::nullopt;
}

std::vector<event> server_session::on_timer(millis now) {
  std::vector<event> out;
  const auto due = deadline();
  if (!due || now < *due) return out;
  if (state_ == state::awaiting_connect) {
    finish({std::nullopt, {}, "no CONNECT within the connect timeout", false, rule::connect_timeout}, out);
  } else if (!connack_sent_) {
    finish({std::nullopt, {}, "authentication not finished within the connect timeout", false, rule::connect_timeout},
           out);
  } else {
    // Keep Alive ×1.5 without a packet: close as for a network failure (v5:MQTT-3.1.2-22,
    // v3.1.1:MQTT-3.1.2-24); 5.0 lets the server say why first.
    const auto statement = qualified(version_, codec::is_v5(version_) ? "MQTT-3.1.2-22" : "MQTT-3.1.2-24");
    protocol_close(reason_code::keep_alive_timeout, rule::keep_alive_timeout, statement, "Keep Alive timeout", out);
  }
  return out;
}

std::vector<event> server_session::transport_closed(millis /*now*/) {
  std::vector<event> out;
  if (state_ != state::closed) finish({std::nullopt, {}, "connection closed by the peer", true}, out);
  return out;
}

void server_session::fail(const codec::decode_error& e, std::vector<event>& out) {
  // Before a CONNECT has told us the version we cannot answer in a format the client reads
  // (v3.1.1:MQTT-3.1.4-1, v5:MQTT-4.13.1-1 makes the CONNACK optional): just close.
  if (!version_known_ || !codec::is_v5(version_))
    return finish({std::nullopt, e.statement, e.message(), false, e.code}, out);
  // 5.0: say why with the error's reason code, in a CONNACK while connecting, else a DISCONNECT
  // (v5:MQTT-4.13.1-1).
  const auto t = connack_sent_ ? codec::packet_type::disconnect : codec::packet_type::connack;
  auto reason = e.reason();
  if (!codec::is_valid_for(reason, t)) reason = reason_code::malformed_packet;
  reason = close_reason(reason, e.code, t);
  if (!connack_sent_) {
    codec::connack ack;
    ack.code = reason;
    out.push_back(transmit{*codec::encode(ack, version_)});
    connack_sent_ = true;
  } else {
    codec::disconnect d;
    d.code = reason;
    out.push_back(transmit{*codec::encode(d, version_)});
  }
  finish({reason, e.statement, e.message(), false, e.code}, out);
}

void server_session::protocol_close(reason_code reason, rule cause, std::string statement, std::string why,
                                    std::vector<event>& out) {
  if (codec::is_v5(version_) && connack_sent_) {
    codec::disconnect d;
    d.code = close_reason(reason, cause, codec::packet_type::disconnect);
    out.push_back(transmit{*codec::encode(d, version_)});
    return finish({d.code, std::move(statement), std::move(why), false, cause}, out);
  }
  finish({std::nullopt, std::move(statement), std::move(why), false, cause}, out);
}

reason_code server_session::close_reason(reason_code usual, const close_cause& cause,
                                       codec::packet_type t) const noexcept {
  // §4.13.1: a Malformed Packet or Protocol Error "or a more specific Reason Code".
  if (!options_.specific_reason_codes || (usual != reason_code::malformed_packet && usual != reason_code::protocol_error))
    return usual;
  const auto specific = specific_reason(cause);
  return specific && codec::is_valid_for(*specific, t) ? *specific : usual;
}

void server_session::finish(close c, std::vector<event>& out) {
  state_ = state::closed;
  out.push_back(std::move(c));
}

}  // namespace mqttspec::session
