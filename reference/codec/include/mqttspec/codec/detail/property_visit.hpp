#pragma once
// Implementation of for_each_property (a template, so it stays in a header).

namespace mqttspec::codec {

template <class F>
void for_each_property(const properties& p, F&& f) {
  using id = property_id;
  auto number = [&](id i, const auto& opt) {
    if (opt) f(property_value{i, static_cast<std::uint32_t>(*opt), {}, {}});
  };
  auto text = [&](id i, const std::optional<std::string_view>& opt) {
    if (opt) f(property_value{i, 0, *opt, {}});
  };
  number(id::payload_format_indicator, p.payload_format_indicator);
  number(id::message_expiry_interval, p.message_expiry_interval);
  text(id::content_type, p.content_type);
  text(id::response_topic, p.response_topic);
  text(id::correlation_data, p.correlation_data);
  for (auto s : p.subscription_identifiers) f(property_value{id::subscription_identifier, s, {}, {}});
  number(id::session_expiry_interval, p.session_expiry_interval);
  text(id::assigned_client_identifier, p.assigned_client_identifier);
  number(id::server_keep_alive, p.server_keep_alive);
  text(id::authentication_method, p.authentication_method);
  text(id::authentication_data, p.authentication_data);
  number(id::request_problem_information, p.request_problem_information);
  number(id::will_delay_interval, p.will_delay_interval);
  number(id::request_response_information, p.request_response_information);
  text(id::response_information, p.response_information);
  text(id::server_reference, p.server_reference);
  text(id::reason_string, p.reason_string);
  number(id::receive_maximum, p.receive_maximum);
  number(id::topic_alias_maximum, p.topic_alias_maximum);
  number(id::topic_alias, p.topic_alias);
  number(id::maximum_qos, p.maximum_qos);
  number(id::retain_available, p.retain_available);
  for (const auto& [k, v] : p.user_properties) f(property_value{id::user_property, 0, k, v});
  number(id::maximum_packet_size, p.maximum_packet_size);
  number(id::wildcard_subscription_available, p.wildcard_subscription_available);
  number(id::subscription_identifier_available, p.subscription_identifier_available);
  number(id::shared_subscription_available, p.shared_subscription_available);
}

}  // namespace mqttspec::codec
