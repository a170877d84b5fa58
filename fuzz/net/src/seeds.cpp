#include "seeds.hpp"

#include "mutator.hpp"

namespace mqttspec::netfuzz {

using namespace codec;

bytes connect_bytes(protocol_version v, const std::string& client_id) {
  connect c{.version = v, .clean_start = true, .keep_alive = 60, .client_id = client_id};
  return encode(c, v).value();
}

std::vector<bytes> session_template(protocol_version v, const std::string& prefix, std::mt19937& rng) {
  auto below = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
  const std::string topic = prefix + "/" + std::to_string(below(4));
  const std::string filter = below(2) ? prefix + "/+" : prefix + "/#";
  const auto id = static_cast<std::uint16_t>(1 + below(1000));
  std::vector<packet> ps;
  const auto n = 1 + below(4);
  for (unsigned i = 0; i < n; ++i) {
    switch (below(9)) {
      case 0: ps.push_back(subscribe{.packet_id = id, .subscriptions = {{filter, {.max_qos = static_cast<qos>(below(3))}}}}); break;
      case 1: ps.push_back(unsubscribe{.packet_id = id, .filters = {filter}}); break;
      case 2: ps.push_back(publish{.topic = topic, .payload = "hello"}); break;
      case 3: ps.push_back(publish{.qos_level = qos::at_least_once, .topic = topic, .packet_id = id, .payload = "q1"}); break;
      case 4:
        ps.push_back(publish{.qos_level = qos::exactly_once, .topic = topic, .packet_id = id, .payload = "q2"});
        ps.push_back(pubrel{.packet_id = id});
        break;
      case 5: ps.push_back(publish{.retain = true, .topic = topic, .payload = below(2) ? "r" : ""}); break;
      case 6: ps.push_back(puback{.packet_id = id}); break;
      case 7: ps.push_back(pingreq{}); break;
      default: {
        publish p{.qos_level = qos::at_least_once, .topic = topic, .packet_id = id, .payload = "props"};
        if (is_v5(v)) {
          p.props.message_expiry_interval = 60;
          p.props.user_properties = {{"k", "v"}};
          p.props.content_type = "text/plain";
        }
        ps.push_back(p);
      }
    }
  }
  std::vector<bytes> out;
  for (const auto& p : ps)
    if (auto e = encode(p, v)) out.push_back(std::move(e.value()));
  return out;
}

net_case make_case(protocol_version v, bool fresh, const std::string& client_id, const std::string& prefix,
                   std::mt19937& rng) {
  net_case c{v, fresh, {}};
  if (fresh) c.frames.push_back(connect_bytes(v, client_id));
  for (auto& b : session_template(v, prefix, rng)) c.frames.push_back(std::move(b));

  // Mutate: mostly structure-aware (lengths stay consistent, the broker must judge the content),
  // sometimes raw bytes (lengths break, the framer must cope).
  const auto rounds = 1 + rng() % 3;
  for (unsigned r = 0; r < rounds; ++r) {
    auto& target = c.frames[rng() % c.frames.size()];
    std::mt19937 byte_rng(static_cast<std::uint32_t>(rng()));
    fuzz::byte_mutator bytes_mut = [&](std::uint8_t* d, std::size_t s, std::size_t m) {
      return fuzz::basic_byte_mutate(byte_rng, d, s, m);
    };
    if (rng() % 8 != 0) {
      if (fuzz::mutate_stream(target, v, rng, bytes_mut, 8192)) continue;
    }
    const std::size_t old = target.size();
    target.resize(old + 8);
    target.resize(bytes_mut(reinterpret_cast<std::uint8_t*>(target.data()), old, old + 8));
  }
  return c;
}

}  // namespace mqttspec::netfuzz
