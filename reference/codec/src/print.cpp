// Readable one-line forms of packets, for test failures and wire logs.
#include "mqttspec/codec/packet.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace mqttspec::codec {
namespace {

struct quoted_text {
  std::string_view s;
};
std::ostream& operator<<(std::ostream& os, quoted_text q) {
  os << '"';
  for (unsigned char c : q.s) {
    if (c == '"' || c == '\\') os << '\\' << c;
    else if (c < 0x20 || c == 0x7F) os << "\\x" << std::hex << std::setw(2) << std::setfill('0') << unsigned{c} << std::dec;
    else os << c;
  }
  return os << '"';
}

// Binary data: its size and the first bytes in hex.
struct hex_bytes {
  std::string_view s;
};
std::ostream& operator<<(std::ostream& os, hex_bytes b) {
  os << b.s.size() << " bytes";
  if (b.s.empty()) return os;
  const bool printable = std::all_of(b.s.begin(), b.s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
  if (printable && b.s.size() <= 64) return os << " " << quoted_text{b.s};
  os << " [";
  const std::size_t shown = std::min<std::size_t>(b.s.size(), 32);
  for (std::size_t i = 0; i < shown; ++i)
    os << (i ? " " : "") << std::hex << std::setw(2) << std::setfill('0') << unsigned{static_cast<unsigned char>(b.s[i])}
       << std::dec;
  return os << (shown < b.s.size() ? " ...]" : "]");
}

std::ostream& operator<<(std::ostream& os, reason_code c) {
  return os << "0x" << std::hex << std::setw(2) << std::setfill('0') << unsigned{static_cast<std::uint8_t>(c)} << std::dec;
}

void print_props(std::ostream& os, const properties& p) {
  if (!p.empty()) os << ", props=" << p;
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const properties& p) {
  os << '{';
  bool first = true;
  for_each_property(p, [&](const property_value& v) {
    const auto* info = find_property(static_cast<std::uint8_t>(v.id));
    os << (first ? "" : ", ") << info->name << '=';
    first = false;
    switch (info->type) {
      case property_type::utf8_string: os << quoted_text{v.text}; break;
      case property_type::binary_data: os << hex_bytes{v.text}; break;
      case property_type::utf8_string_pair: os << quoted_text{v.text} << ':' << quoted_text{v.pair_value}; break;
      default: os << v.number;
    }
  });
  return os << '}';
}

std::ostream& operator<<(std::ostream& os, const will_message& w) {
  os << "{qos=" << static_cast<unsigned>(w.qos_level) << ", retain=" << w.retain << ", topic=" << quoted_text{w.topic}
     << ", payload=" << hex_bytes{w.payload};
  print_props(os, w.props);
  return os << '}';
}

std::ostream& operator<<(std::ostream& os, const subscription& s) {
  const auto& o = s.options;
  return os << quoted_text{s.filter} << "{qos=" << static_cast<unsigned>(o.max_qos) << ", nl=" << o.no_local
            << ", rap=" << o.retain_as_published << ", rh=" << static_cast<unsigned>(o.handling) << '}';
}

packet_type type_of(const packet& p) noexcept { return static_cast<packet_type>(p.index() + 1); }

std::ostream& operator<<(std::ostream& os, const packet& p) {
  os << to_string(type_of(p)) << '(';
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, connect>) {
          os << "v" << to_string(x.version) << ", client_id=" << quoted_text{x.client_id}
             << ", clean_start=" << x.clean_start << ", keep_alive=" << x.keep_alive;
          if (x.will) os << ", will=" << *x.will;
          if (x.user_name) os << ", user_name=" << quoted_text{*x.user_name};
          if (x.password) os << ", password=" << hex_bytes{*x.password};
        } else if constexpr (std::is_same_v<T, connack>) {
          os << "session_present=" << x.session_present << ", code=" << x.code << ' ' << to_string(x.code, packet_type::connack);
        } else if constexpr (std::is_same_v<T, publish>) {
          os << "qos=" << static_cast<unsigned>(x.qos_level) << ", retain=" << x.retain << ", dup=" << x.dup;
          if (x.qos_level != qos::at_most_once) os << ", id=" << x.packet_id;
          os << ", topic=" << quoted_text{x.topic} << ", payload=" << hex_bytes{x.payload};
        } else if constexpr (std::is_same_v<T, subscribe>) {
          os << "id=" << x.packet_id;
          for (const auto& s : x.subscriptions) os << ", " << s;
        } else if constexpr (std::is_same_v<T, unsubscribe>) {
          os << "id=" << x.packet_id;
          for (auto f : x.filters) os << ", " << quoted_text{f};
        } else if constexpr (std::is_same_v<T, suback> || std::is_same_v<T, unsuback>) {
          os << "id=" << x.packet_id << ", codes=[";
          for (std::size_t i = 0; i < x.codes.size(); ++i) os << (i ? " " : "") << x.codes[i];
          os << ']';
        } else if constexpr (requires { x.packet_id; }) {  // publish responses
          os << "id=" << x.packet_id << ", code=" << x.code << ' ' << to_string(x.code, T::type);
        } else if constexpr (requires { x.code; }) {  // DISCONNECT, AUTH
          os << "code=" << x.code << ' ' << to_string(x.code, type_of(p));
        }
        if constexpr (requires { x.props; }) print_props(os, x.props);
      },
      p);
  return os << ')';
}

std::string to_string(const packet& p) {
  std::ostringstream os;
  os << p;
  return os.str();
}

}  // namespace mqttspec::codec
