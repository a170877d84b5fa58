// Connections and Sessions: CONNECT/CONNACK, takeover, DISCONNECT, closes, wills and expiry.
#include "mqttspec/broker/broker.hpp"

#include <algorithm>

namespace mqttspec::broker {

using codec::reason_code;

namespace {

constexpr std::uint32_t never_expires = 0xFFFF'FFFF;

std::uint32_t requested_expiry(const codec::connect& c) {
  if (codec::is_v5(c.version)) return c.props.session_expiry_interval.value_or(0);
  // 3.1.1: Clean Session 0 keeps the Session until the next Clean Session 1 (3.1.1 §3.1.2.4).
  return c.clean_start ? 0 : never_expires;
}

// What each connection's session machine decides by itself, e.g. the reason code it closes with.
session::server_options session_options(const config& c) {
  session::server_options o;
  o.specific_reason_codes = c.specific_reason_codes;  // 5.0 §4.13.1
  return o;
}

}  // namespace

broker::broker(config c) : config_(std::move(c)) {}
broker::~broker() = default;

connection_id broker::open(millis now) {
  const auto id = next_connection_++;
  connections_.emplace(id, connection{id, session::server_session(config_.limits, now, session_options(config_)), {}, {},
                                      {}, {}, {}, {}, {}});
  note_connection_deadline(id);
  return id;
}

void broker::receive(connection_id id, codec::bytes_view data, millis now) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  take_input(id, it->second.machine.receive(data, now), now);
  note_connection_deadline(id);
}

void broker::transport_closed(connection_id id, millis now) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  take_input(id, it->second.machine.transport_closed(now), now);
  note_connection_deadline(id);
}

// A connection's deadline changes only while its own input or authentication is handled (a
// CONNECT, the CONNACK going out, Keep Alive); the entry points note it afterwards.
void broker::note_connection_deadline(connection_id id) {
  if (auto it = connections_.find(id); it != connections_.end()) note_deadline(it->second.machine.deadline());
}

// What the machine made of the peer's input, in order: behind an auth_job that is out it waits
// (auth_done takes it up); otherwise it is handled, then whatever the machine held back meanwhile.
void broker::take_input(connection_id id, std::vector<session::event> events, millis now) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  if (it->second.waiting != auth_wait::none) {
    auto& held = it->second.held;
    held.insert(held.end(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
    return;
  }
  run(id, std::move(events), now);
  read_buffered(id, now);
}

// The machine pauses after a CONNECT until the CONNACK is out; resume with what is buffered.
void broker::read_buffered(connection_id id, millis now) {
  for (auto it = connections_.find(id);
       it != connections_.end() && !it->second.machine.paused() && it->second.waiting == auth_wait::none;) {
    auto more = it->second.machine.receive({}, now);
    if (more.empty()) break;
    run(id, std::move(more), now);
    it = connections_.find(id);
  }
}

void broker::auth_done(connection_id id, auth_step result, millis now) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second.waiting == auth_wait::none) return;
  auto& c = it->second;
  const auto waited = std::exchange(c.waiting, auth_wait::none);
  auto held = std::exchange(c.held, {});
  if (waited == auth_wait::password) {
    const auto p = std::move(*c.connecting);
    c.connecting.reset();
    accept_connect(id, c, p, {}, now, result.outcome == auth_outcome::success);
  } else {
    auth_step_taken(c, std::move(result), now);
  }
  take_input(id, std::move(held), now);  // `c` may be gone: a refusal closes it
  note_connection_deadline(id);
}

std::vector<action> broker::take_actions() { return std::exchange(actions_, {}); }

const session_state* broker::find_session(std::string_view client_id) const {
  auto it = sessions_.find(client_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

void broker::run(connection_id id, std::vector<session::event> events, millis now) {
  for (auto e = events.begin(); e != events.end(); ++e) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    if (auto* t = std::get_if<session::transmit>(&*e)) {
      actions_.push_back(transmit_to{id, std::move(t->data)});
    } else if (auto* d = std::get_if<session::deliver>(&*e)) {
      handle(id, it->second, d->packet, now);
      // Its authentication became an auth_job: the input behind it waits for the result.
      if (!config_.defer_authentication) continue;
      it = connections_.find(id);
      if (it != connections_.end() && it->second.waiting != auth_wait::none) {
        auto& held = it->second.held;
        held.insert(held.end(), std::make_move_iterator(std::next(e)), std::make_move_iterator(events.end()));
        return;
      }
    } else if (auto* c = std::get_if<session::close>(&*e)) {
      if (!c->statement.empty() && !c->by_peer) ++stats_.protocol_violations;
      on_closed(id, *c, now);
    }
  }
}

void broker::send(connection& c, const codec::packet& p, millis now) {
  std::vector<session::event> events;
  c.machine.send(p, now, events);
  run(c.id, std::move(events), now);  // may transmit, and close after a DISCONNECT
}

void broker::handle(connection_id id, connection& c, const codec::owned_packet& p, millis now) {
  if (std::holds_alternative<codec::connect>(p.value)) return on_connect(id, c, p, now);
  if (const auto* a = std::get_if<codec::auth>(&p.value)) return on_auth(c, *a, now);
  if (c.connecting) return;  // a DISCONNECT mid-authentication: the session closes
  auto it = sessions_.find(c.client_id);
  if (it == sessions_.end()) return;  // cannot happen: only a CONNECTed connection delivers more
  session_state& s = it->second;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, codec::publish>) {
          on_publish(c, s, p, now);
        } else if constexpr (std::is_same_v<T, codec::puback> || std::is_same_v<T, codec::pubcomp>) {
          constexpr auto awaited = std::is_same_v<T, codec::puback> ? inflight::stage::awaiting_puback
                                                                    : inflight::stage::awaiting_pubcomp;
          if (const auto* f = s.in_flight.find(x.packet_id); f && f->at == awaited) {
            emit_done(s, f->item);
            s.in_flight.erase(x.packet_id);
          }
          pump(s, now);
        } else if constexpr (std::is_same_v<T, codec::pubrec>) {
          auto* f = s.in_flight.find(x.packet_id);
          if (!f || f->at != inflight::stage::awaiting_pubrec) {
            // A PUBREC for an identifier we are not sending: answer PUBREL "not found" (5.0 §3.6.2.1).
            codec::pubrel rel{x.packet_id, codec::is_v5(s.version) ? reason_code::packet_identifier_not_found
                                                                   : reason_code::success, {}};
            return send(c, rel, now);
          }
          if (codec::is_failure(x.code)) {  // acknowledged with an error: never resent (v5:MQTT-4.4.0-2)
            emit_done(s, f->item);
            s.in_flight.erase(x.packet_id);
            return pump(s, now);
          }
          f->at = inflight::stage::awaiting_pubcomp;  // v5:MQTT-4.3.3-4, v3.1.1:MQTT-4.3.3-1
          emit_sent(s, *f);
          send(c, codec::pubrel{x.packet_id, reason_code::success, {}}, now);
        } else if constexpr (std::is_same_v<T, codec::pubrel>) {
          // v5:MQTT-4.3.3-11, v3.1.1:MQTT-4.3.3-2: PUBCOMP with the same identifier.
          const bool known = s.inbound_qos2.erase(x.packet_id) > 0;
          if (known && tracked(s)) emit(storage::delete_inbound{s.client_id, x.packet_id});
          codec::pubcomp comp{x.packet_id, reason_code::success, {}};
          if (!known && codec::is_v5(s.version)) comp.code = reason_code::packet_identifier_not_found;
          send(c, comp, now);
        } else if constexpr (std::is_same_v<T, codec::subscribe>) {
          on_subscribe(c, s, x, now);
        } else if constexpr (std::is_same_v<T, codec::unsubscribe>) {
          on_unsubscribe(c, s, x, now);
        } else if constexpr (std::is_same_v<T, codec::pingreq>) {
          send(c, codec::pingresp{}, now);  // v5:MQTT-3.12.4-1, v3.1.1:MQTT-3.12.4-1
        } else if constexpr (std::is_same_v<T, codec::disconnect>) {
          on_disconnect(c, s, x, now);
        } else {
          // CONNACK, SUBACK, UNSUBACK, PINGRESP are server-to-client only.
          violation(c, reason_code::protocol_error, {}, now);
        }
      },
      p.value);
}

void broker::violation(connection& c, reason_code code, std::string_view statement, millis now) {
  ++stats_.protocol_violations;
  c.violated = statement;
  // Before the CONNACK (mid-authentication) the refusal is a CONNACK with the reason (§4.13.1).
  if (!c.machine.connack_sent()) return refuse_connect(c, code, now);
  if (codec::is_v5(c.machine.version())) {
    codec::disconnect d;
    d.code = code;
    return send(c, d, now);
  }
  run(c.id, {session::close{std::nullopt, {}, "protocol violation"}}, now);  // counted above
}

reason_code broker::protocol_error_or(reason_code specific) const {
  return config_.specific_reason_codes ? specific : reason_code::protocol_error;
}

void broker::refuse_connect(connection& c, reason_code code, millis now) {
  codec::connack ack;
  ack.code = code;  // Session Present stays 0 (v5:MQTT-3.2.2-6, v3.1.1:MQTT-3.2.2-4)
  send(c, ack, now);
}

std::string broker::assign_client_id() {
  for (;;) {
    auto id = "mqttspec-" + std::to_string(next_assigned_id_++);
    if (!sessions_.contains(id)) return id;  // unique among Sessions (v5:MQTT-3.2.2-16)
  }
}

void broker::on_connect(connection_id id, connection& c, const codec::owned_packet& p, millis now) {
  const auto& req = std::get<codec::connect>(p.value);
  const bool v5 = codec::is_v5(req.version);
  ++stats_.messages_received;

  if (v5 && req.props.authentication_method) {
    const auto method = config_.enhanced_auth.find(*req.props.authentication_method);
    // A method we do not offer (v5:MQTT-4.12.0-1).
    if (method == config_.enhanced_auth.end()) return refuse_connect(c, reason_code::bad_authentication_method, now);
    c.auth_method = std::string(*req.props.authentication_method);
    c.exchange = std::make_shared<auth_exchange>(method->second());
    c.connecting = std::make_unique<codec::owned_packet>(p);
    const auto data = req.props.authentication_data.value_or(codec::bytes_view{});
    return auth_continue(c, data, now);
  }
  accept_connect(id, c, p, {}, now);
}

void broker::accept_connect(connection_id id, connection& c, const codec::owned_packet& p, std::string_view auth_data,
                            millis now, std::optional<bool> password_ok) {
  const auto& req = std::get<codec::connect>(p.value);
  // A password check may be slow (PBKDF2): deferred, this CONNECT goes on, from the top, once its
  // verdict is back (auth_done).
  if (config_.defer_authentication && config_.authenticate && c.auth_method.empty() && !password_ok) {
    c.connecting = std::make_unique<codec::owned_packet>(p);
    c.waiting = auth_wait::password;
    std::optional<std::string> password;
    if (req.password) password.emplace(*req.password);
    auth_jobs_.push_back({id, [check = config_.authenticate, user = std::string(req.user_name.value_or("")),
                               password = std::move(password)] {
      const bool ok = check(user, password ? std::optional<codec::bytes_view>(*password) : std::nullopt);
      return auth_step{ok ? auth_outcome::success : auth_outcome::failure, {}, {}};
    }});
    return;
  }
  const bool v5 = codec::is_v5(req.version);
  std::string client_id(req.client_id);
  // MQTT 3.1 limited ClientIds to 1..23 characters and had no assignment.
  if (req.version == codec::protocol_version::v3_1 && (client_id.empty() || client_id.size() > 23))
    return refuse_connect(c, reason_code::client_identifier_not_valid, now);
  bool assigned = false;
  if (client_id.empty()) {
    // 3.1.1 needs Clean Session 1 for an empty ClientId (v3.1.1:MQTT-3.1.3-8); 5.0 always assigns.
    if (!v5 && !req.clean_start) return refuse_connect(c, reason_code::client_identifier_not_valid, now);
    client_id = assign_client_id();  // v5:MQTT-3.1.3-6, v3.1.1:MQTT-3.1.3-6
    assigned = true;
  }
  // An enhanced-authentication method has already authenticated the client.
  const bool authenticated = !c.auth_method.empty();
  if (!authenticated && !req.user_name && !config_.allow_anonymous)
    return refuse_connect(c, reason_code::not_authorized, now);
  if (!authenticated && config_.authenticate) {
    const bool ok = password_ok ? *password_ok : config_.authenticate(req.user_name.value_or(""), req.password);
    if (!ok) return refuse_connect(c, reason_code::bad_user_name_or_password, now);
  }
  if (req.will) {
    if (v5 && req.will->qos_level > config_.maximum_qos)  // v5:MQTT-3.2.2-12
      return refuse_connect(c, reason_code::qos_not_supported, now);
    if (v5 && req.will->retain && !config_.retain_available)  // v5:MQTT-3.2.2-13
      return refuse_connect(c, reason_code::retain_not_supported, now);
  }

  // Session takeover: the existing connection is closed (v5:MQTT-3.1.4-3, v3.1.1:MQTT-3.1.4-2).
  if (auto existing = sessions_.find(client_id); existing != sessions_.end() && existing->second.connection) {
    const auto old_id = *existing->second.connection;
    auto old = connections_.find(old_id);
    if (old != connections_.end()) {
      if (codec::is_v5(old->second.machine.version())) {
        codec::disconnect d;
        d.code = reason_code::session_taken_over;
        send(old->second, d, now);
      } else {
        run(old_id, {session::close{std::nullopt, {}, "session taken over"}}, now);
      }
    }
  }

  // Clean Start discards any existing Session (v5:MQTT-3.1.2-4, v3.1.1:MQTT-3.1.2-6).
  auto existing = sessions_.find(client_id);
  if (existing != sessions_.end() && req.clean_start) {
    end_session(client_id, now);  // a Will still waiting for its delay goes out now
    existing = sessions_.end();
  }
  const bool session_present = existing != sessions_.end();  // v5:MQTT-3.2.2-2/-3, v3.1.1:MQTT-3.2.2-1/-2/-3
  session_state& s = session_present ? existing->second : sessions_[client_id];
  s.client_id = client_id;
  s.version = req.version;
  s.connection = id;
  s.expires_at.reset();
  s.expiry_interval = std::min(requested_expiry(req), config_.session_expiry_cap);
  s.client_receive_maximum = req.props.receive_maximum.value_or(65535);
  // A reconnection within the Will Delay Interval cancels that Will (v5:MQTT-3.1.3-9).
  s.will_pending.reset();
  s.will.reset();
  s.will_delay = 0;
  if (req.will) {  // v5:MQTT-3.1.2-7, v3.1.1:MQTT-3.1.2-8
    codec::publish w;
    w.topic = req.will->topic;
    w.payload = req.will->payload;
    w.qos_level = req.will->qos_level;
    w.retain = req.will->retain;
    w.props = req.will->props;
    w.props.will_delay_interval.reset();
    s.will = std::make_unique<message>(make_message(w));
    s.will_delay = req.will->props.will_delay_interval.value_or(0);
  }
  c.client_id = client_id;
  persist(s);  // before the CONNACK says the Session is present

  codec::connack ack;
  ack.session_present = session_present;
  if (v5) {
    auto& props = ack.props;
    if (config_.receive_maximum != 65535) props.receive_maximum = config_.receive_maximum;
    if (config_.maximum_qos != codec::qos::exactly_once) props.maximum_qos = static_cast<std::uint8_t>(config_.maximum_qos);
    if (!config_.retain_available) props.retain_available = 0;
    if (config_.limits.maximum_packet_size < codec::max_packet_size)
      props.maximum_packet_size = static_cast<std::uint32_t>(config_.limits.maximum_packet_size);
    if (config_.limits.topic_alias_maximum) props.topic_alias_maximum = config_.limits.topic_alias_maximum;
    if (assigned) props.assigned_client_identifier = client_id;  // v5:MQTT-3.1.3-7, v5:MQTT-3.2.2-16
    if (requested_expiry(req) != s.expiry_interval) props.session_expiry_interval = s.expiry_interval;
    if (config_.server_keep_alive) props.server_keep_alive = *config_.server_keep_alive;  // v5:MQTT-3.2.2-21
    if (authenticated) {  // the method of the CONNECT (v5:MQTT-4.12.0-5), with the method's last word
      props.authentication_method = c.auth_method;
      if (!auth_data.empty()) props.authentication_data = auth_data;
    }
  }
  if (config_.server_keep_alive && v5) c.machine.set_keep_alive(*config_.server_keep_alive, now);
  send(c, ack, now);  // v5:MQTT-3.2.0-1, v5:MQTT-3.1.4-5, v3.1.1:MQTT-3.1.4-4
  resume(s, session_present, now);
}

void broker::on_auth(connection& c, const codec::auth& a, millis now) {
  // Without a method at CONNECT no AUTH may come (v5:MQTT-4.12.0-7).
  if (c.auth_method.empty()) return violation(c, reason_code::protocol_error, "v5:MQTT-4.12.0-7", now);
  const auto method = a.props.authentication_method.value_or(std::string_view{});
  const auto data = a.props.authentication_data.value_or(codec::bytes_view{});
  const auto wrong_method = protocol_error_or(reason_code::bad_authentication_method);
  if (c.connecting) {
    // Before the CONNACK: only AUTH 0x18 with the CONNECT's method (v5:MQTT-4.12.0-3, v5:MQTT-4.12.0-5).
    if (a.code != reason_code::continue_authentication)
      return violation(c, reason_code::protocol_error, "v5:MQTT-4.12.0-3", now);
    if (method != c.auth_method) return violation(c, wrong_method, "v5:MQTT-4.12.0-5", now);
    return auth_continue(c, data, now);
  }
  // Re-authentication uses the method of the CONNECT (v5:MQTT-4.12.1-1) and starts with 0x19.
  if (method != c.auth_method) return violation(c, wrong_method, "v5:MQTT-4.12.1-1", now);
  if (!c.exchange) {
    if (a.code != reason_code::re_authenticate) return violation(c, reason_code::protocol_error, "v5:MQTT-4.12.1-1", now);
    // Offered: the CONNECT used it.
    c.exchange = std::make_shared<auth_exchange>(config_.enhanced_auth.at(c.auth_method)());
  } else if (a.code != reason_code::continue_authentication) {
    return violation(c, reason_code::protocol_error, "v5:MQTT-4.12.0-3", now);
  }
  auth_continue(c, data, now);
}

void broker::auth_continue(connection& c, std::string_view data, millis now) {
  if (config_.defer_authentication) {
    c.waiting = auth_wait::exchange_step;
    auth_jobs_.push_back({c.id, [exchange = c.exchange, data = std::string(data)] { return (*exchange)(data); }});
    return;
  }
  auth_step_taken(c, (*c.exchange)(data), now);
}

void broker::auth_step_taken(connection& c, auth_step step, millis now) {
  if (step.outcome != auth_outcome::challenge) c.exchange = nullptr;
  switch (step.outcome) {
    case auth_outcome::challenge: {
      // Every AUTH carries the CONNECT's method (v5:MQTT-4.12.0-5) and asks for more with 0x18
      // (v5:MQTT-4.12.0-2).
      codec::auth a;
      a.code = reason_code::continue_authentication;
      a.props.authentication_method = c.auth_method;
      a.props.authentication_data = step.data;
      send(c, a, now);
      if (c.connecting) c.machine.expect_auth();
      return;
    }
    case auth_outcome::success: {
      if (c.connecting) {
        auto p = std::move(*c.connecting);
        c.connecting.reset();
        return accept_connect(c.id, c, p, step.data, now);
      }
      codec::auth a;  // re-authenticated (§4.12.1)
      a.props.authentication_method = c.auth_method;
      if (!step.data.empty()) a.props.authentication_data = step.data;
      return send(c, a, now);
    }
    case auth_outcome::failure: {
      // Refused at any step: CONNACK 0x87 and close (v5:MQTT-4.12.0-4); a failed
      // re-authentication: DISCONNECT 0x87 and close (v5:MQTT-4.12.1-2).
      const bool connecting = c.connecting != nullptr;
      c.violated = (connecting ? "v5:MQTT-4.12.0-4" : "v5:MQTT-4.12.1-2") + (" (" + step.why + ")");
      if (connecting) return refuse_connect(c, reason_code::not_authorized, now);
      codec::disconnect d;
      d.code = reason_code::not_authorized;
      return send(c, d, now);
    }
  }
}

void broker::on_disconnect(connection& c, session_state& s, const codec::disconnect& d, millis now) {
  if (codec::is_v5(s.version) && d.props.session_expiry_interval) {
    // Setting a non-zero expiry at DISCONNECT after a zero one at CONNECT is a Protocol Error (§3.14.2.2.2).
    if (s.expiry_interval == 0 && *d.props.session_expiry_interval != 0)
      return violation(c, reason_code::protocol_error, {}, now);
    s.expiry_interval = std::min(*d.props.session_expiry_interval, config_.session_expiry_cap);
  }
  // Only a normal DISCONNECT (0x00; any DISCONNECT in 3.1.1) discards the Will; 0x04 and the error
  // codes leave it to be published (v5:MQTT-3.14.4-3, v5:MQTT-3.1.2-10, v3.1.1:MQTT-3.14.4-3).
  if (!codec::is_v5(s.version) || d.code == reason_code::success) s.will.reset();
}

void broker::on_closed(connection_id id, const session::close& why, millis now) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  const std::string client_id = it->second.client_id;
  // The log line of the close names the rule that was broken, whoever detected it.
  const std::string& statement = why.statement.empty() ? it->second.violated : why.statement;
  actions_.push_back(close_connection{id, statement.empty() ? why.why : why.why + " [" + statement + "]"});
  connections_.erase(it);
  auto s = sessions_.find(client_id);
  if (s == sessions_.end() || s->second.connection != id) return;
  detach(s->second, now);
}

void broker::detach(session_state& st, millis now) {
  st.connection.reset();
  // An unclean end publishes the Will, after its delay (v5:MQTT-3.1.2-8, v3.1.1:MQTT-3.1.2-8).
  if (st.will) {
    if (st.will_delay == 0) {
      publish_will(st, now);
    } else {
      st.will_pending = std::make_unique<pending_will>(pending_will{std::move(*st.will), now + millis{st.will_delay} * 1000});
      note_deadline(st.will_pending->due);
      st.will.reset();
    }
  }
  if (st.expiry_interval == 0) return end_session(st.client_id, now);
  if (st.expiry_interval != never_expires) st.expires_at = now + millis{st.expiry_interval} * 1000;
  note_deadline(st.expires_at);
  persist(st);
}

void broker::publish_will(session_state& s, millis now) {
  std::optional<message> will;
  if (s.will_pending) will = std::move(s.will_pending->msg);
  else if (s.will) will = std::move(*s.will);
  s.will_pending.reset();
  s.will.reset();
  if (!will) return;
  if (tracked(s)) persist(s);
  if (will->publish.retain) retain(*will, now);  // v5:MQTT-3.1.2-15, v3.1.1:MQTT-3.1.2-17
  route(*will, std::nullopt, now);
}

void broker::end_session(const std::string& client_id, millis now) {
  auto it = sessions_.find(client_id);
  if (it == sessions_.end()) return;
  if (it->second.will_pending) publish_will(it->second, now);  // the Session ends first (v5:MQTT-3.1.2-8)
  if (it->second.stored) emit(storage::delete_session{client_id});
  subscriptions_.remove_all(client_id);
  sessions_.erase(it);
}

std::optional<millis> broker::deadline() const { return next_deadline_; }

std::optional<millis> broker::earliest_deadline() const {
  std::optional<millis> next;
  auto consider = [&](std::optional<millis> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& [id, c] : connections_) consider(c.machine.deadline());
  for (const auto& [name, s] : sessions_) {
    consider(s.expires_at);
    consider(s.resume_at);
    if (s.will_pending) consider(s.will_pending->due);
  }
  return next;
}

void broker::on_timer(millis now) {
  std::vector<connection_id> due;
  for (const auto& [id, c] : connections_)
    if (auto d = c.machine.deadline(); d && *d <= now) due.push_back(id);
  for (auto id : due) {
    auto it = connections_.find(id);
    if (it != connections_.end()) run(id, it->second.machine.on_timer(now), now);
  }
  std::vector<std::string> expired;
  for (auto& [name, s] : sessions_) {
    if (s.will_pending && s.will_pending->due <= now) publish_will(s, now);
    if (s.resume_at && *s.resume_at <= now) {
      s.resume_at.reset();
      pump(s, now);
    }
    if (s.expires_at && *s.expires_at <= now) expired.push_back(name);  // v5:MQTT-4.1.0-2
  }
  for (const auto& name : expired) end_session(name, now);
  if (config_.storage_effects || config_.max_retained_bytes) {
    for (const auto* r : retained_.all()) {
      if (!r->expired(now)) continue;
      retained_bytes_ -= message_bytes(r->message);
      if (config_.storage_effects) emit(storage::delete_retained{std::string(r->message.publish.topic)});
    }
  }
  retained_.erase_expired(now);
  next_deadline_ = earliest_deadline();
}

void broker::shutdown(millis now) {
  std::vector<connection_id> ids;
  for (const auto& [id, c] : connections_) ids.push_back(id);
  for (auto id : ids) {
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;
    if (codec::is_v5(it->second.machine.version()) && it->second.machine.connack_sent()) {
      codec::disconnect d;
      d.code = reason_code::server_shutting_down;
      send(it->second, d, now);
    } else {
      run(id, {session::close{std::nullopt, {}, "server shutting down"}}, now);
    }
  }
}

}  // namespace mqttspec::broker
