// Application messages: PUBLISH in, routing to subscribers, QoS flows out, queues and resends.
#include "mqttspec/broker/broker.hpp"

#include <algorithm>

namespace mqttspec::broker {

using codec::qos;
using codec::reason_code;

void broker::on_publish(connection& c, session_state& s, const codec::owned_packet& p, millis now) {
  const auto& in = std::get<codec::publish>(p.value);
  const bool v5 = codec::is_v5(s.version);
  ++stats_.messages_received;
  if (v5 && in.qos_level > config_.maximum_qos)  // v5:MQTT-3.2.2-11
    return violation(c, reason_code::qos_not_supported, "v5:MQTT-3.2.2-11", now);
  if (v5 && in.retain && !config_.retain_available)  // v5:MQTT-3.2.2-14
    return violation(c, reason_code::retain_not_supported, "v5:MQTT-3.2.2-14", now);
  if (!topic_within_limits(in.topic)) {
    ++stats_.refused_by_limits;
    // 5.0 says no in the acknowledgement (0x90: not accepted by this Server) and a QoS 0 message is
    // dropped; 3.1.1 has no way to say no but closing the connection.
    if (!v5) return run(c.id, {session::close{std::nullopt, {}, "topic beyond the broker's limits"}}, now);
    if (in.qos_level == qos::at_least_once)
      return send(c, codec::puback{in.packet_id, reason_code::topic_name_invalid, {}}, now);
    if (in.qos_level == qos::exactly_once)
      return send(c, codec::pubrec{in.packet_id, reason_code::topic_name_invalid, {}}, now);
    return;
  }

  if (in.qos_level == qos::exactly_once) {
    // A PUBLISH repeated before PUBREL is acknowledged again but not passed on twice
    // (v5:MQTT-4.3.3-10, v3.1.1:MQTT-4.3.3-2).
    if (s.inbound_qos2.contains(in.packet_id)) return send(c, codec::pubrec{in.packet_id, reason_code::success, {}}, now);
    if (s.inbound_qos2.size() >= config_.receive_maximum)  // v5:MQTT-3.3.4-7
      return violation(c, reason_code::receive_maximum_exceeded, "v5:MQTT-3.3.4-7", now);
  }

  // The Topic Alias belongs to the incoming connection (v5:MQTT-3.3.2-7); the session resolved it.
  codec::publish copy = in;
  copy.props.topic_alias.reset();
  copy.props.subscription_identifiers.clear();  // a client's are meaningless to us (v5:MQTT-3.3.4-6)
  copy.dup = false;                             // DUP is never forwarded (v5:MQTT-3.3.1-3, v3.1.1:MQTT-3.3.1-3)
  const message m = make_message(copy);
  if (in.retain) retain(m, now);         // v5:MQTT-3.3.1-5/-6, v3.1.1:MQTT-3.3.1-5/-10
  route(m, s.client_id, now);            // v5:MQTT-4.5.0-1, v3.1.1:MQTT-4.5.0-1

  if (in.qos_level == qos::at_least_once) {
    send(c, codec::puback{in.packet_id, reason_code::success, {}}, now);  // v5:MQTT-4.3.2-4, v3.1.1:MQTT-4.3.2-2
  } else if (in.qos_level == qos::exactly_once) {
    s.inbound_qos2.insert(in.packet_id);
    if (tracked(s)) emit(storage::put_inbound{{s.client_id, in.packet_id}});
    send(c, codec::pubrec{in.packet_id, reason_code::success, {}}, now);  // v5:MQTT-4.3.3-8, v3.1.1:MQTT-4.3.3-2
  }
}

void broker::route(const message& m, std::optional<std::string_view> publisher, millis now) {
  // A shared subscription's message goes to a connected member when there is one (§4.8.2):
  // queueing it for an offline member delays it for as long as that member stays away.
  const auto online = [this](std::string_view client_id) {
    auto it = sessions_.find(client_id);
    return it != sessions_.end() && it->second.connection.has_value();
  };
  for (const auto& d : subscriptions_.match(m.publish.topic, publisher, online)) {
    auto it = sessions_.find(d.client_id);
    if (it == sessions_.end()) continue;
    outgoing item;
    item.msg = m;
    // The lower of the message's QoS and the granted one (v5:MQTT-3.8.4-8, v3.1.1:MQTT-3.8.4-6).
    item.qos_level = std::min(m.publish.qos_level, d.max_qos);
    // Forwarded messages carry RETAIN=0 unless Retain As Published (v5:MQTT-3.3.1-12/-13,
    // v3.1.1:MQTT-3.3.1-9).
    item.retain = codec::is_v5(it->second.version) && d.retain_as_published && m.publish.retain;
    item.subscription_ids = d.subscription_ids;  // v5:MQTT-3.3.4-3
    item.received_at = now;
    deliver(it->second, std::move(item), now);
  }
}

void broker::deliver(session_state& s, outgoing item, millis now) {
  if (!s.connection && item.qos_level == qos::at_most_once) return;  // QoS 0 is not kept for the offline
  const std::size_t bytes = message_bytes(item.msg);
  const auto full = [&] {
    return s.queue.size() >= config_.max_queued_messages ||
           (config_.max_queued_bytes && s.queued_bytes + bytes > config_.max_queued_bytes);
  };
  // QoS 0 goes first: a QoS 1/2 message takes the place of the oldest queued QoS 0 ones.
  while (full() && item.qos_level != qos::at_most_once) {
    auto q0 = std::find_if(s.queue.begin(), s.queue.end(),
                           [](const outgoing& o) { return o.qos_level == qos::at_most_once; });
    if (q0 == s.queue.end()) break;
    s.queued_bytes -= message_bytes(q0->msg);
    s.queue.erase(q0);
    ++stats_.messages_dropped;
    ++stats_.qos0_dropped;
  }
  if (full()) {
    ++stats_.messages_dropped;
    if (item.qos_level == qos::at_most_once) ++stats_.qos0_dropped;
    return;
  }
  enqueue(s, std::move(item));
  pump(s, now);
}

void broker::enqueue(session_state& s, outgoing item) {
  item.seq = s.next_seq++;
  emit_message(s, item, nullptr);
  s.queued_bytes += message_bytes(item.msg);
  s.queue.push_back(std::move(item));
}

bool broker::topic_within_limits(std::string_view topic) const noexcept {
  if (config_.max_topic_length && topic.size() > config_.max_topic_length) return false;
  return !config_.max_topic_levels ||
         static_cast<std::size_t>(std::count(topic.begin(), topic.end(), '/')) < config_.max_topic_levels;
}

void broker::retain(const message& m, millis now) {
  const auto* old = retained_.find(m.publish.topic);
  const std::size_t old_bytes = old ? message_bytes(old->message) : 0;
  if (!m.publish.payload.empty()) {
    const bool too_many = config_.max_retained_messages && !old && retained_.size() >= config_.max_retained_messages;
    const bool too_big =
        config_.max_retained_bytes && retained_bytes_ - old_bytes + message_bytes(m) > config_.max_retained_bytes;
    if (too_many || too_big) {
      ++stats_.retained_refused;  // routed all the same, not retained
      return;
    }
  }
  const auto result = retained_.set(m, now);
  retained_bytes_ -= old_bytes;
  if (result == retain_result::stored || result == retain_result::replaced) retained_bytes_ += message_bytes(m);
  if (!config_.storage_effects) return;
  if (result == retain_result::stored || result == retain_result::replaced)
    emit(storage::put_retained{{m, now}});
  else if (result == retain_result::erased)
    emit(storage::delete_retained{std::string(m.publish.topic)});
}

// Sends what waits while the send quota allows: the client's Receive Maximum (v5:MQTT-3.3.4-9,
// §4.9), or config::send_quota if lower. First the in-flight messages of a resumed Session, in
// their original order with their identifiers (v5:MQTT-4.4.0-1), then the queue.
void broker::pump(session_state& s, millis now) {
  if (s.resume_at) return;  // held back after the CONNACK (config::resend_delay)
  const std::size_t quota = std::min(s.client_receive_maximum, config_.send_quota);
  while (s.connection) {
    inflight* f = s.in_flight.next_to_resend();
    if (!f) break;
    if (s.in_flight.transmitted() >= quota) return;
    s.in_flight.mark_transmitted(*f);
    if (f->at == inflight::stage::awaiting_pubcomp) {
      auto it = connections_.find(*s.connection);
      if (it != connections_.end()) send(it->second, codec::pubrel{f->packet_id, reason_code::success, {}}, now);
    } else if (!transmit_publish(s, *f, true, now)) {
      emit_done(s, f->item);
      s.in_flight.erase(f->packet_id);  // too large: as if delivered
    }
  }
  while (s.connection && !s.queue.empty()) {
    auto& front = s.queue.front();
    const bool needs_quota = front.qos_level != qos::at_most_once;
    if (needs_quota && s.in_flight.transmitted() >= quota) return;
    inflight f;
    f.item = std::move(front);
    s.queue.pop_front();
    s.queued_bytes -= message_bytes(f.item.msg);
    // Only a message that waited can have expired before onward delivery began (v5:MQTT-3.3.2-5);
    // one sent at once is delivered even with a Message Expiry Interval of 0.
    if (now > f.item.received_at && is_expired(f.item.msg.publish, f.item.received_at, now)) {
      ++stats_.messages_dropped;
      emit_done(s, f.item);
      continue;
    }
    if (needs_quota) {
      // A fresh identifier not in use (v5:MQTT-2.2.1-4, v3.1.1:MQTT-2.3.1-4).
      do {
        s.last_packet_id = static_cast<std::uint16_t>(s.last_packet_id % 65535 + 1);
      } while (s.in_flight.in_use(s.last_packet_id));
      f.packet_id = s.last_packet_id;
      f.at = f.item.qos_level == qos::at_least_once ? inflight::stage::awaiting_puback : inflight::stage::awaiting_pubrec;
    }
    const bool sent = transmit_publish(s, f, false, now);
    if (!needs_quota) continue;
    if (!sent) {
      emit_done(s, f.item);
      continue;
    }
    emit_sent(s, f);
    s.in_flight.push_back(std::move(f));
  }
}

bool broker::transmit_publish(session_state& s, inflight& f, bool resend, millis now) {
  auto it = connections_.find(*s.connection);
  if (it == connections_.end()) return false;
  const auto& m = f.item.msg.publish;
  codec::publish out;
  out.topic = m.topic;
  out.payload = m.payload;
  out.qos_level = f.item.qos_level;
  out.retain = f.item.retain;
  out.dup = resend && out.qos_level != qos::at_most_once;  // v5:MQTT-3.3.1-1, v5:MQTT-3.3.1-2
  out.packet_id = f.packet_id;
  if (codec::is_v5(s.version)) {
    out.props = m.props;  // forwarded unaltered: v5:MQTT-3.3.2-4, v5:MQTT-3.3.2-17/-18, v5:MQTT-3.3.2-20
    out.props.subscription_identifiers = f.item.subscription_ids;
    // The remaining lifetime, not the original (v5:MQTT-3.3.2-6).
    out.props.message_expiry_interval = remaining_expiry_interval(m, f.item.received_at, now);
  }
  std::vector<session::event> events;
  const bool sent = it->second.machine.send(out, now, events);
  const auto first_new = actions_.size();
  run(it->first, std::move(events), now);
  if (out.qos_level == qos::at_most_once) {
    for (auto i = first_new; i < actions_.size(); ++i)
      if (auto* t = std::get_if<transmit_to>(&actions_[i]); t && t->id == it->first) t->droppable = true;
  }
  if (sent) ++stats_.messages_sent;
  else ++stats_.messages_dropped;  // too large for the client: dropped as if sent (v5:MQTT-3.1.2-25)
  return sent;
}

// After CONNACK on a resumed Session: resend what is unacknowledged in its original order, then
// what queued up meanwhile (v5:MQTT-4.4.0-1, v3.1.1:MQTT-4.4.0-1). The spec sets no deadline for
// it, so config::resend_delay may hold it back (on_timer ends the wait).
void broker::resume(session_state& s, bool session_present, millis now) {
  s.in_flight.mark_all_untransmitted();
  s.resume_at.reset();
  if (session_present && config_.resend_delay > 0) s.resume_at = now + config_.resend_delay;
  note_deadline(s.resume_at);
  pump(s, now);
}

void broker::on_subscribe(connection& c, session_state& s, const codec::subscribe& sub, millis now) {
  const bool v5 = codec::is_v5(s.version);
  codec::suback ack;
  ack.packet_id = sub.packet_id;  // v5:MQTT-3.8.4-2, v3.1.1:MQTT-3.8.4-2
  std::optional<std::uint32_t> id;
  if (!sub.props.subscription_identifiers.empty()) id = sub.props.subscription_identifiers.front();
  struct retained_job {
    std::string_view filter;
    codec::subscription_options options;
  };
  std::vector<retained_job> retained_jobs;
  // The server may grant less than asked (§3.8.4), and never more than it supports
  // (v5:MQTT-3.2.2-10).
  const qos grantable = std::min(config_.maximum_qos, config_.max_granted_qos);
  // Each filter as if alone, answered together in order (v5:MQTT-3.8.4-5/-6, v3.1.1:MQTT-3.8.4-4/-5).
  for (const auto& entry : sub.subscriptions) {
    auto options = entry.options;
    options.max_qos = std::min(options.max_qos, grantable);
    const bool too_many = config_.max_subscriptions && !subscriptions_.find(s.client_id, entry.filter) &&
                          subscriptions_.count(s.client_id) >= config_.max_subscriptions;
    if (too_many || !topic_within_limits(entry.filter)) {
      ++stats_.refused_by_limits;
      ack.codes.push_back(!v5       ? reason_code::unspecified_error  // 3.1.1: 0x80 Failure
                          : too_many ? reason_code::quota_exceeded
                                     : reason_code::topic_filter_invalid);
      continue;
    }
    const auto result = subscriptions_.subscribe(s.client_id, entry.filter, options, id, s.version);
    if (tracked(s)) emit(storage::put_subscription{{s.client_id, std::string(entry.filter), options, id}});
    ack.codes.push_back(static_cast<reason_code>(options.max_qos));  // v5:MQTT-3.8.4-7
    const bool shared = v5 && codec::parse_shared(entry.filter).has_value();
    const auto handling = v5 ? options.handling : codec::retain_handling::send_on_subscribe;
    // Retained messages for a new subscription (v5:MQTT-3.3.1-9/-10/-11, v3.1.1:MQTT-3.3.1-6,
    // v5:MQTT-3.8.4-4); never for a shared one (§4.8.2).
    const bool send_retained = !shared && (handling == codec::retain_handling::send_on_subscribe ||
                                           (handling == codec::retain_handling::send_if_new &&
                                            result == subscribe_result::added));
    if (send_retained) retained_jobs.push_back({entry.filter, options});
  }
  const auto send_retained = [&] {
    for (const auto& job : retained_jobs) {
      for (const auto* r : retained_.match(job.filter)) {
        if (r->expired(now)) continue;
        outgoing item;
        item.msg = r->message;
        item.qos_level = std::min(r->message.publish.qos_level, job.options.max_qos);
        item.retain = true;  // sent because of a new subscription (v3.1.1:MQTT-3.3.1-8)
        if (id) item.subscription_ids = {*id};
        item.received_at = r->stored_at_ms;
        deliver(s, std::move(item), now);
      }
    }
  };
  // The server may start sending the matching PUBLISHes before the SUBACK (§3.8.4).
  if (config_.retained_before_suback) send_retained();
  send(c, ack, now);  // v5:MQTT-3.8.4-1, v3.1.1:MQTT-3.8.4-1
  if (!config_.retained_before_suback) send_retained();
}

void broker::on_unsubscribe(connection& c, session_state& s, const codec::unsubscribe& u, millis now) {
  codec::unsuback ack;
  ack.packet_id = u.packet_id;  // v5:MQTT-3.10.4-5, v3.1.1:MQTT-3.10.4-4
  for (auto filter : u.filters) {
    const bool existed = subscriptions_.unsubscribe(s.client_id, filter);  // v5:MQTT-3.10.4-1
    if (existed && tracked(s)) emit(storage::delete_subscription{s.client_id, std::string(filter)});
    if (codec::is_v5(s.version))
      ack.codes.push_back(existed ? reason_code::success : reason_code::no_subscription_existed);
  }
  send(c, ack, now);  // v5:MQTT-3.10.4-4, v3.1.1:MQTT-3.10.4-5
}

}  // namespace mqttspec::broker
