#include "serve_monitor.hpp"

namespace mqttspec::conformance {

using namespace codec;

void client_monitor::finding(const char* v311, const char* v5_id, std::string text) {
  const char* id = v5() ? v5_id : v311;
  findings_.push_back({id && *id ? std::string(v5() ? "v5:" : "v3.1.1:") + id : std::string{}, std::move(text)});
}

void client_monitor::on_connection() {
  ++connection_;
  seen_first_ = false;
  disconnected_ = false;
  connack_sent_ = false;
  auth_method_.reset();
  max_packet_size_.reset();
  receive_maximum_ = 65535;
  topic_alias_maximum_ = 0;
  maximum_qos_.reset();
  retain_available_ = true;
}

std::size_t client_monitor::quota_used() const {
  std::size_t n = 0;
  for (const auto& [id, f] : flows_) n += f.counts && f.connection == connection_ ? 1 : 0;
  return n;
}

void client_monitor::on_client_packet(const packet& p, std::size_t size) {
  const auto type = type_of(p);
  const std::string name(to_string(type));
  if (!seen_first_) {
    seen_first_ = true;
    if (type != packet_type::connect)
      finding("MQTT-3.1.0-1", "MQTT-3.1.0-1", "the first packet on the connection is " + name + ", not CONNECT");
  }
  if (disconnected_) finding("MQTT-3.14.4-2", "MQTT-3.14.4-1", "the client sent " + name + " after its DISCONNECT");
  if (type == packet_type::connack || type == packet_type::suback || type == packet_type::unsuback ||
      type == packet_type::pingresp)
    finding(nullptr, nullptr, "the client sent " + name + ", a packet only a Server sends");
  if (v5() && connack_sent_ && max_packet_size_ && size > *max_packet_size_)
    finding(nullptr, "MQTT-3.2.2-15", "the client sent a " + name + " of " + std::to_string(size) +
                                          " bytes, above the Maximum Packet Size " + std::to_string(*max_packet_size_) +
                                          " of the CONNACK");
  if (v5() && auth_method_ && !connack_sent_ && type != packet_type::connect && type != packet_type::auth &&
      type != packet_type::disconnect)
    finding(nullptr, "MQTT-3.1.2-30", "the client sent " + name +
                                          " before the CONNACK, after a CONNECT with an Authentication Method");

  if (const auto* c = std::get_if<connect>(&p)) {
    if (c->props.authentication_method) auth_method_ = std::string(*c->props.authentication_method);
    if (!v5() && c->client_id.empty() && !c->clean_start)
      finding("MQTT-3.1.3-7", nullptr, "the client sent a zero-length ClientId with CleanSession 0");
    // Clean Start / CleanSession 1: the client throws its Session State away.
    if (c->clean_start) flows_.clear();
    return;
  }
  if (type == packet_type::disconnect) {
    disconnected_ = true;
    return;
  }
  if (const auto* a = std::get_if<auth>(&p)) {
    if (!auth_method_)
      finding(nullptr, "MQTT-4.12.0-7", "the client sent AUTH although its CONNECT had no Authentication Method");
    else if (!a->props.authentication_method || *a->props.authentication_method != *auth_method_)
      finding(nullptr, "MQTT-4.12.0-5", "the client's AUTH carries Authentication Method \"" +
                                            std::string(a->props.authentication_method.value_or("")) +
                                            "\", not the CONNECT's \"" + *auth_method_ + "\"");
    return;
  }
  if (const auto* pub = std::get_if<publish>(&p)) {
    if (v5() && connack_sent_) {
      if (maximum_qos_ && static_cast<unsigned>(pub->qos_level) > *maximum_qos_)
        finding(nullptr, "MQTT-3.2.2-11", "the client published at QoS " + std::to_string(static_cast<int>(pub->qos_level)) +
                                              " above the Maximum QoS " + std::to_string(*maximum_qos_) + " of the CONNACK");
      if (pub->retain && !retain_available_)
        finding(nullptr, "MQTT-3.2.2-14", "the client sent a PUBLISH with RETAIN 1 although the CONNACK said Retain Available 0");
      if (pub->props.topic_alias && *pub->props.topic_alias > topic_alias_maximum_)
        finding(nullptr, topic_alias_maximum_ == 0 ? "MQTT-3.2.2-18" : "MQTT-3.2.2-17",
                "the client sent Topic Alias " + std::to_string(*pub->props.topic_alias) + " above the Topic Alias Maximum " +
                    std::to_string(topic_alias_maximum_) + (topic_alias_maximum_ == 0 ? " (none given: 0)" : ""));
    }
    if (v5() && !pub->props.subscription_identifiers.empty())
      finding(nullptr, "MQTT-3.3.4-6", "the client's PUBLISH carries a Subscription Identifier");
    if (pub->qos_level == qos::at_most_once) return;
    const auto id = pub->packet_id;
    auto it = flows_.find(id);
    const std::string topic(pub->topic), payload(pub->payload);
    if (it != flows_.end()) {
      auto& f = it->second;
      const bool same = (f.st == stage::publish1 || f.st == stage::publish2 || f.st == stage::pubrel) &&
                        f.topic == topic && f.payload == payload;
      if (f.st == stage::pubrel && same) {
        finding("MQTT-4.3.3-1", "MQTT-4.3.3-6", "the client re-sent the QoS 2 PUBLISH " + std::to_string(id) +
                                                    " after sending its PUBREL");
      } else if (!same || (f.st != stage::publish1 && f.st != stage::publish2)) {
        finding("MQTT-2.3.1-2", "MQTT-2.2.1-3", "the client sent a new PUBLISH with Packet Identifier " + std::to_string(id) +
                                                    ", which is still in use");
      } else if (!pub->dup) {
        finding("MQTT-3.3.1-1", "MQTT-3.3.1-1", "the client re-sent PUBLISH " + std::to_string(id) + " with DUP 0");
      } else if (v5() && f.connection == connection_) {
        finding(nullptr, "MQTT-4.4.0-1", "the client re-sent PUBLISH " + std::to_string(id) +
                                             " on the connection it had already sent it on");
      }
      f.connection = connection_;
      f.counts = true;
    } else {
      flows_[id] = flow{pub->qos_level == qos::exactly_once ? stage::publish2 : stage::publish1, topic, payload,
                        connection_, true};
    }
    if (v5() && connack_sent_ && quota_used() > receive_maximum_)
      finding(nullptr, "MQTT-3.3.4-7", "the client has " + std::to_string(quota_used()) +
                                           " QoS 1/2 PUBLISH packets unacknowledged, above the Receive Maximum " +
                                           std::to_string(receive_maximum_) + " of the CONNACK");
    return;
  }
  if (const auto* rel = std::get_if<pubrel>(&p)) {
    auto it = flows_.find(rel->packet_id);
    if (it == flows_.end() || (it->second.st != stage::pubrel))
      finding("MQTT-4.3.3-1", "MQTT-4.3.3-4", "the client sent PUBREL " + std::to_string(rel->packet_id) +
                                                  " with no PUBREC of a QoS 2 PUBLISH of its own to answer");
    return;
  }
  const auto track = [&](std::uint16_t id, stage st) {
    if (flows_.count(id))
      finding("MQTT-2.3.1-2", "MQTT-2.2.1-3", "the client sent " + name + " with Packet Identifier " + std::to_string(id) +
                                                  ", which is still in use");
    flows_[id] = flow{st, {}, {}, connection_, false};
  };
  if (const auto* s = std::get_if<subscribe>(&p)) return track(s->packet_id, stage::subscribe);
  if (const auto* u = std::get_if<unsubscribe>(&p)) return track(u->packet_id, stage::unsubscribe);
}

void client_monitor::on_server_packet(const packet& p) {
  if (const auto* ack = std::get_if<connack>(&p)) {
    connack_sent_ = true;
    // A Client given Session Present 0 discards its Session State (v5:MQTT-3.2.2-5).
    if (!ack->session_present) flows_.clear();
    max_packet_size_ = ack->props.maximum_packet_size;
    receive_maximum_ = ack->props.receive_maximum.value_or(65535);
    topic_alias_maximum_ = ack->props.topic_alias_maximum.value_or(0);
    maximum_qos_ = ack->props.maximum_qos;
    retain_available_ = ack->props.retain_available.value_or(1) != 0;
    return;
  }
  const auto done = [&](std::uint16_t id, std::initializer_list<stage> stages) {
    auto it = flows_.find(id);
    if (it == flows_.end()) return;
    for (auto st : stages)
      if (it->second.st == st) {
        flows_.erase(it);
        return;
      }
  };
  if (const auto* a = std::get_if<puback>(&p)) return done(a->packet_id, {stage::publish1});
  if (const auto* r = std::get_if<pubrec>(&p)) {
    auto it = flows_.find(r->packet_id);
    if (it == flows_.end() || it->second.st != stage::publish2) return;
    if (is_failure(r->code)) flows_.erase(it);  // the flow ends (v5:MQTT-4.4.0-2)
    else it->second.st = stage::pubrel;
    return;
  }
  if (const auto* c = std::get_if<pubcomp>(&p)) return done(c->packet_id, {stage::pubrel});
  if (const auto* s = std::get_if<suback>(&p)) return done(s->packet_id, {stage::subscribe});
  if (const auto* u = std::get_if<unsuback>(&p)) return done(u->packet_id, {stage::unsubscribe});
}

}  // namespace mqttspec::conformance
