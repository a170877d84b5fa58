// Durability: the storage effects of durable Sessions and retained messages, and the restore of
// what a previous run stored (storage.hpp).
#include "mqttspec/broker/broker.hpp"

#include <algorithm>

namespace mqttspec::broker {

namespace {

// A Session outlives its connection, and so is stored, when its expiry interval is not 0.
bool durable(const session_state& s) noexcept { return s.expiry_interval != 0; }

storage::session_record record_of(const session_state& s) {
  storage::session_record r;
  r.client_id = s.client_id;
  r.version = s.version;
  r.expiry_interval = s.expiry_interval;
  r.connected = s.connection.has_value();
  r.expires_at = s.expires_at;
  if (s.will_pending) {
    r.will = s.will_pending->msg;
    r.will_due = s.will_pending->due;
  } else {
    if (s.will) r.will = *s.will;
  }
  r.will_delay = s.will_delay;
  return r;
}

}  // namespace

std::vector<storage::effect> broker::take_storage() { return std::exchange(storage_, {}); }

void broker::persist(session_state& s) {
  if (!config_.storage_effects) return;
  if (!durable(s)) {
    // It ends with its connection now (e.g. a CONNECT with expiry 0 resumed it): no longer kept.
    if (s.stored) emit(storage::delete_session{s.client_id});
    s.stored = false;
    return;
  }
  emit(storage::put_session{record_of(s)});
  if (s.stored) return;
  // Newly durable: whatever it holds already is stored with it.
  s.stored = true;
  for (const auto& sub : subscriptions_.subscriptions_of(s.client_id))
    emit(storage::put_subscription{{s.client_id, std::string(sub.filter), sub.options, sub.identifier}});
  for (const auto& f : s.in_flight) emit_message(s, f.item, &f);
  for (const auto& item : s.queue) emit_message(s, item, nullptr);
  for (auto id : s.inbound_qos2) emit(storage::put_inbound{{s.client_id, id}});
}

// Only QoS 1/2 messages are stored: QoS 0 may be lost (§4.3.1).
void broker::emit_message(const session_state& s, const outgoing& item, const inflight* f) {
  if (!tracked(s) || item.qos_level == codec::qos::at_most_once) return;
  storage::message_record r;
  r.client_id = s.client_id;
  r.item = item;
  if (f) {
    r.stage = f->at;
    r.packet_id = f->packet_id;
  }
  emit(storage::put_message{std::move(r)});
}

void broker::emit_sent(const session_state& s, const inflight& f) {
  if (!tracked(s)) return;
  emit(storage::update_message{s.client_id, f.item.seq, f.packet_id, f.at});
}

void broker::emit_done(const session_state& s, const outgoing& item) {
  if (!tracked(s) || item.qos_level == codec::qos::at_most_once) return;
  emit(storage::delete_message{s.client_id, item.seq});
}

storage::restore_report broker::restore(storage::snapshot snap, millis now) {
  storage::restore_report report;
  std::vector<std::string> attached;  // had a connection when the previous run ended
  for (auto& r : snap.sessions) {
    if (r.client_id.empty() || sessions_.contains(r.client_id)) continue;
    session_state& s = sessions_[r.client_id];
    s.client_id = r.client_id;
    s.version = r.version;
    s.expiry_interval = r.expiry_interval;
    s.expires_at = r.expires_at;
    s.will_delay = r.will_delay;
    if (r.will && r.will_due) s.will_pending = std::make_unique<pending_will>(pending_will{std::move(*r.will), *r.will_due});
    else if (r.connected && r.will) s.will = std::make_unique<message>(std::move(*r.will));
    s.stored = true;
    if (r.connected) attached.push_back(r.client_id);  // detached below, once everything is in place
    ++report.sessions;
  }
  const auto find = [&](const std::string& client_id) -> session_state* {
    auto it = sessions_.find(client_id);
    return it == sessions_.end() ? nullptr : &it->second;
  };
  for (const auto& r : snap.subscriptions) {
    auto* s = find(r.client_id);
    if (!s) {
      ++report.orphans;
      continue;
    }
    subscriptions_.subscribe(s->client_id, r.filter, r.options, r.identifier, s->version);
  }
  // In (client_id, seq) order: in flight first, in the order first sent, then the queue (§4.6).
  std::stable_sort(snap.messages.begin(), snap.messages.end(), [](const auto& a, const auto& b) {
    return a.client_id != b.client_id ? a.client_id < b.client_id : a.item.seq < b.item.seq;
  });
  for (auto& r : snap.messages) {
    auto* s = find(r.client_id);
    if (!s) {
      ++report.orphans;
      continue;
    }
    s->next_seq = std::max(s->next_seq, r.item.seq + 1);
    // A packet identifier is in flight once per Session (v5:MQTT-2.2.1-4); a damaged snapshot's
    // second message with it is queued instead, to be sent again with an identifier of its own.
    if (r.stage && !s->in_flight.in_use(r.packet_id)) {
      inflight f;
      f.packet_id = r.packet_id;
      f.at = *r.stage;
      f.transmitted = false;  // resent on reconnection (v5:MQTT-4.4.0-1)
      f.item = std::move(r.item);
      s->last_packet_id = f.packet_id;
      s->in_flight.push_back(std::move(f));
      ++report.messages;
    } else if (r.item.received_at < now && is_expired(r.item.msg.publish, r.item.received_at, now)) {
      ++report.expired_messages;  // onward delivery never began (v5:MQTT-3.3.2-5)
      emit_done(*s, r.item);
    } else {
      s->queued_bytes += message_bytes(r.item.msg);
      s->queue.push_back(std::move(r.item));
      ++report.messages;
    }
  }
  for (const auto& r : snap.inbound) {
    if (auto* s = find(r.client_id)) s->inbound_qos2.insert(r.packet_id);
    else ++report.orphans;
  }
  for (auto& r : snap.retained) {
    if (is_expired(r.msg.publish, r.stored_at, now)) {
      ++report.expired_messages;
      if (config_.storage_effects) emit(storage::delete_retained{std::string(r.msg.publish.topic)});
      continue;
    }
    retained_bytes_ += message_bytes(r.msg);
    retained_.set(std::move(r.msg), r.stored_at);
    ++report.retained;
  }

  // The connections of the previous run ended when it did: each Session is detached as on_closed
  // would have done then, and what fell due since happens now.
  const millis ended = std::min(snap.last_alive.value_or(now), now);
  const auto pending_wills = [&] {
    std::size_t n = 0;
    for (const auto& [name, s] : sessions_) n += s.will || s.will_pending;
    return n;
  };
  const auto wills_before = pending_wills();
  for (const auto& name : attached)
    if (auto* s = find(name)) detach(*s, ended);
  const auto sessions_before = sessions_.size();
  on_timer(now);
  report.expired_sessions = sessions_before - sessions_.size();
  report.wills_published = wills_before - pending_wills();
  next_deadline_ = earliest_deadline();  // restored Sessions' expiry and wills
  return report;
}

}  // namespace mqttspec::broker
