#include "mqttspec/broker/message.hpp"

#include <cstddef>
#include <cstring>
#include <string_view>

namespace mqttspec::broker {
namespace {

// Calls f(std::string_view&) on every view held by a publish: the topic, the payload and each
// string or binary property, both halves of every User Property included. The one list of them;
// message_test checks it against codec::for_each_property so that a property added to the codec
// cannot be left pointing into the source frame.
template <class Publish, class F>
void for_each_view(Publish& p, F&& f) {
  f(p.topic);
  f(p.payload);
  auto& props = p.props;
  auto opt = [&](auto& o) {
    if (o) f(*o);
  };
  opt(props.content_type);
  opt(props.response_topic);
  opt(props.correlation_data);
  opt(props.assigned_client_identifier);
  opt(props.authentication_method);
  opt(props.authentication_data);
  opt(props.response_information);
  opt(props.server_reference);
  opt(props.reason_string);
  for (auto& [name, value] : props.user_properties) {
    f(name);
    f(value);
  }
}

}  // namespace

message make_message(const codec::publish& p) {
  // Pass 1: the size of everything the publish points to.
  std::size_t total = 0;
  for_each_view(p, [&](const std::string_view& v) { total += v.size(); });

  // Pass 2: copy each view into the buffer and point the copy at it.
  auto buffer = std::make_shared<codec::bytes>(total, '\0');
  message m{nullptr, p};
  char* out = buffer->data();
  for_each_view(m.publish, [&](std::string_view& v) {
    if (!v.empty()) std::memcpy(out, v.data(), v.size());
    v = std::string_view(out, v.size());
    out += v.size();
  });
  m.storage = std::move(buffer);
  return m;
}

bool is_expired(const codec::publish& p, std::uint64_t received_ms, std::uint64_t now_ms) noexcept {
  const auto& interval = p.props.message_expiry_interval;
  if (!interval) return false;
  const std::uint64_t waited_ms = now_ms > received_ms ? now_ms - received_ms : 0;
  return waited_ms >= std::uint64_t{*interval} * 1000;  // v5:MQTT-3.3.2-5
}

std::optional<std::uint32_t> remaining_expiry_interval(const codec::publish& p, std::uint64_t received_ms,
                                                       std::uint64_t now_ms) noexcept {
  const auto& interval = p.props.message_expiry_interval;
  if (!interval) return std::nullopt;
  if (is_expired(p, received_ms, now_ms)) return 0;
  const std::uint64_t waited_s = (now_ms > received_ms ? now_ms - received_ms : 0) / 1000;
  return static_cast<std::uint32_t>(*interval - waited_s);  // v5:MQTT-3.3.2-6
}

}  // namespace mqttspec::broker
