#include "mutator.hpp"

#include <array>
#include <deque>
#include <vector>

namespace mqttspec::fuzz {
namespace {

using namespace codec;

// Values worth trying in any field: the edges of each integer type.
constexpr std::array<std::uint32_t, 10> interesting = {0, 1, 2, 0x7F, 0x80, 0xFF, 0x3FFF, 0xFFFF, 0x0FFFFFFF, 0xFFFFFFFF};
constexpr std::array<std::string_view, 12> topic_words = {"a/b", "a/+", "#", "+", "a/#", "$SYS/x", "$share/g/a",
                                                          "", "/", "a//b", "+/#", "\xef\xbb\xbf"};
constexpr std::array<std::uint8_t, 16> reason_bytes = {0x00, 0x01, 0x02, 0x04, 0x10, 0x11, 0x18, 0x80,
                                                       0x81, 0x82, 0x87, 0x8E, 0x91, 0x92, 0x97, 0xA2};

struct context {
  std::mt19937& rng;
  const byte_mutator& mutate_bytes;
  std::deque<std::string>& arena;  // storage for new strings the packet's views point to

  std::uint32_t below(std::uint32_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng); }
  bool coin() { return below(2) == 0; }
  std::uint32_t number() { return coin() ? interesting[below(interesting.size())] : static_cast<std::uint32_t>(rng()); }

  std::string_view keep(std::string s) { return arena.emplace_back(std::move(s)); }
  std::string_view text(std::string_view old) {
    if (below(3) == 0) return topic_words[below(topic_words.size())];
    std::string s(old);
    const std::size_t max = s.size() * 2 + 8;
    s.resize(max);
    s.resize(mutate_bytes(reinterpret_cast<std::uint8_t*>(s.data()), old.size(), max));
    return keep(std::move(s));
  }
  reason_code reason() { return static_cast<reason_code>(reason_bytes[below(reason_bytes.size())]); }
};

void set_property(context& cx, properties& p) {
  auto table = property_table();
  const auto& info = table[cx.below(static_cast<std::uint32_t>(table.size()))];
  const std::uint32_t n = cx.number();
  auto s = cx.text("x");
  const auto u8 = static_cast<std::uint8_t>(n);
  const auto u16v = static_cast<std::uint16_t>(n);
  switch (info.id) {
    case property_id::payload_format_indicator: p.payload_format_indicator = u8 & 1; break;
    case property_id::message_expiry_interval: p.message_expiry_interval = n; break;
    case property_id::content_type: p.content_type = s; break;
    case property_id::response_topic: p.response_topic = s; break;
    case property_id::correlation_data: p.correlation_data = s; break;
    case property_id::subscription_identifier: p.subscription_identifiers.push_back(n & 0x0FFFFFFF); break;
    case property_id::session_expiry_interval: p.session_expiry_interval = n; break;
    case property_id::assigned_client_identifier: p.assigned_client_identifier = s; break;
    case property_id::server_keep_alive: p.server_keep_alive = u16v; break;
    case property_id::authentication_method: p.authentication_method = s; break;
    case property_id::authentication_data: p.authentication_data = s; break;
    case property_id::request_problem_information: p.request_problem_information = u8 & 1; break;
    case property_id::will_delay_interval: p.will_delay_interval = n; break;
    case property_id::request_response_information: p.request_response_information = u8 & 1; break;
    case property_id::response_information: p.response_information = s; break;
    case property_id::server_reference: p.server_reference = s; break;
    case property_id::reason_string: p.reason_string = s; break;
    case property_id::receive_maximum: p.receive_maximum = u16v; break;
    case property_id::topic_alias_maximum: p.topic_alias_maximum = u16v; break;
    case property_id::topic_alias: p.topic_alias = u16v; break;
    case property_id::maximum_qos: p.maximum_qos = u8 % 3; break;
    case property_id::retain_available: p.retain_available = u8 & 1; break;
    case property_id::user_property: p.user_properties.emplace_back(s, cx.text("v")); break;
    case property_id::maximum_packet_size: p.maximum_packet_size = n; break;
    case property_id::wildcard_subscription_available: p.wildcard_subscription_available = u8 & 1; break;
    case property_id::subscription_identifier_available: p.subscription_identifier_available = u8 & 1; break;
    case property_id::shared_subscription_available: p.shared_subscription_available = u8 & 1; break;
  }
}

// Changes one thing in the packet. Structural validity is the encoder's business: a mutant it
// refuses is simply retried.
void mutate_packet(context& cx, packet& pk, protocol_version v) {
  const auto pick = cx.below(4);
  bool done = false;
  if (pick == 0 && is_v5(v)) {  // a property
    std::visit([&](auto& x) {
      if constexpr (requires { x.props; }) {
        if (cx.below(4) == 0) x.props = {};
        else set_property(cx, x.props);
        done = true;
      }
    }, pk);
    if (done) return;
  }
  if (pick == 1) {  // the packet identifier or the reason code
    std::visit([&](auto& x) {
      if constexpr (requires { x.packet_id; }) {
        x.packet_id = static_cast<std::uint16_t>(cx.coin() ? cx.below(4) : cx.number());
        done = true;
      } else if constexpr (requires { x.code; }) {
        x.code = cx.reason();
        done = true;
      }
    }, pk);
    if (done) return;
  }
  std::visit([&](auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, publish>) {
      switch (cx.below(5)) {
        case 0: x.topic = cx.text(x.topic); break;
        case 1: x.qos_level = static_cast<qos>(cx.below(3)); if (x.qos_level != qos::at_most_once && !x.packet_id) x.packet_id = 1; break;
        case 2: x.retain = !x.retain; break;
        case 3: x.dup = !x.dup && x.qos_level != qos::at_most_once; break;
        default: x.payload = cx.text(x.payload); break;
      }
    } else if constexpr (std::is_same_v<T, connect>) {
      switch (cx.below(7)) {
        case 0: x.client_id = cx.text(x.client_id); break;
        case 1: x.clean_start = !x.clean_start; break;
        case 2: x.keep_alive = static_cast<std::uint16_t>(cx.coin() ? cx.below(3) : cx.number()); break;
        case 3:
          if (x.will) x.will.reset();
          else {
            x.will.emplace();
            x.will->qos_level = static_cast<qos>(cx.below(3));
            x.will->retain = cx.coin();
            x.will->topic = cx.text("w");
            x.will->payload = "bye";
          }
          break;
        case 4: if (x.user_name) x.user_name.reset(); else x.user_name = cx.text("u"); break;
        case 5: if (x.password) x.password.reset(); else x.password = cx.text("p"); break;
        default: x.version = static_cast<protocol_version>(3 + cx.below(3)); break;
      }
    } else if constexpr (std::is_same_v<T, subscribe>) {
      if (x.subscriptions.empty() || cx.below(4) == 0) x.subscriptions.push_back({cx.text("a"), {}});
      auto& s = x.subscriptions[cx.below(static_cast<std::uint32_t>(x.subscriptions.size()))];
      switch (cx.below(4)) {
        case 0: s.filter = cx.text(s.filter); break;
        case 1: s.options.max_qos = static_cast<qos>(cx.below(3)); break;
        case 2: s.options.no_local = !s.options.no_local; s.options.retain_as_published = cx.coin(); break;
        default: s.options.handling = static_cast<retain_handling>(cx.below(3)); break;
      }
    } else if constexpr (std::is_same_v<T, unsubscribe>) {
      if (x.filters.empty() || cx.coin()) x.filters.push_back(cx.text("a"));
      else x.filters[0] = cx.text(x.filters[0]);
    } else if constexpr (requires { x.codes; }) {
      if (x.codes.empty() || cx.coin()) x.codes.push_back(cx.reason());
      else x.codes[0] = cx.reason();
    } else if constexpr (std::is_same_v<T, connack>) {
      x.session_present = !x.session_present;
    } else if constexpr (requires { x.code; }) {
      x.code = cx.reason();
    }
  }, pk);
}

}  // namespace

std::size_t basic_byte_mutate(std::mt19937& rng, std::uint8_t* data, std::size_t size, std::size_t max_size) {
  auto below = [&](std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  switch (below(4)) {
    case 0:  // flip a bit
      if (size) data[below(size)] ^= static_cast<std::uint8_t>(1u << below(8));
      break;
    case 1:  // insert a byte
      if (size < max_size) {
        auto at = below(size + 1);
        std::copy_backward(data + at, data + size, data + size + 1);
        data[at] = static_cast<std::uint8_t>(rng());
        ++size;
      }
      break;
    case 2:  // erase a byte
      if (size) {
        auto at = below(size);
        std::copy(data + at + 1, data + size, data + at);
        --size;
      }
      break;
    default:  // overwrite with an interesting byte
      if (size) data[below(size)] = static_cast<std::uint8_t>(interesting[below(interesting.size())]);
      break;
  }
  return size;
}

bool mutate_stream(bytes& stream, protocol_version v, std::mt19937& rng, const byte_mutator& mutate_bytes,
                   std::size_t max_size) {
  std::vector<bytes> frames;
  bytes_view rest = stream;
  while (auto f = parse_frame(rest)) {
    frames.emplace_back(f->bytes);
    rest.remove_prefix(f->bytes.size());
  }
  const bytes tail(rest);
  if (frames.empty()) return false;

  std::deque<std::string> arena;
  context cx{rng, mutate_bytes, arena};
  const auto which = cx.below(static_cast<std::uint32_t>(frames.size()));
  switch (cx.below(8)) {
    case 0:  // duplicate a frame (retransmissions, repeated CONNECT, ...)
      frames.insert(frames.begin() + which, frames[which]);
      break;
    case 1:  // drop a frame
      if (frames.size() > 1) frames.erase(frames.begin() + which);
      break;
    case 2:  // swap two frames
      std::swap(frames[which], frames[cx.below(static_cast<std::uint32_t>(frames.size()))]);
      break;
    default: {  // change one field of one frame
      bool changed = false;
      for (int attempt = 0; attempt < 8 && !changed; ++attempt) {
        auto d = decode(bytes_view(frames[which]), v);
        if (!d) break;
        packet p = std::move(d.value());
        mutate_packet(cx, p, v);
        if (auto e = encode(p, v)) {
          frames[which] = std::move(e.value());
          changed = true;
        }
      }
      if (!changed) return false;
    }
  }
  bytes out;
  for (const auto& f : frames) out += f;
  out += tail;
  if (out.size() > max_size) return false;
  stream = std::move(out);
  return true;
}

}  // namespace mqttspec::fuzz
