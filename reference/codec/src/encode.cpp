#include "mqttspec/codec/encode.hpp"

#include "mqttspec/codec/frame.hpp"
#include "mqttspec/codec/wire.hpp"

#include <cassert>
#include <cstring>
#include <limits>
#include <type_traits>

namespace mqttspec::codec {
namespace {

// Counts the bytes a writer would write, so the encoder runs the same code twice:
// once to size the body (for the Remaining Length and the Property Length), once to write.
class size_counter {
 public:
  void u8(std::uint8_t) { n += 1; }
  void u16(std::uint16_t) { n += 2; }
  void u32(std::uint32_t) { n += 4; }
  void varint(std::uint32_t v) { n += varint_size(v); }
  void string(std::string_view s) { n += 2 + s.size(); }
  void raw(bytes_view b) { n += b.size(); }
  std::size_t n = 0;
};

// Writes into bytes already sized by the size_counter pass: no capacity check per byte, as
// appending to the string (wire_writer) would make.
class buffer_writer {
 public:
  explicit buffer_writer(char* at) : at_(at) {}
  // Multi-byte values go through a local pointer: a store through char* may alias at_ itself, so
  // byte by byte through the member, g++ reloaded and stored at_ around every byte.
  void u8(std::uint8_t v) { *at_++ = static_cast<char>(v); }
  void u16(std::uint16_t v) {
    char* p = at_;
    p[0] = static_cast<char>(v >> 8);
    p[1] = static_cast<char>(v);
    at_ = p + 2;
  }
  void u32(std::uint32_t v) {
    char* p = at_;
    p[0] = static_cast<char>(v >> 24);
    p[1] = static_cast<char>(v >> 16);
    p[2] = static_cast<char>(v >> 8);
    p[3] = static_cast<char>(v);
    at_ = p + 4;
  }
  void varint(std::uint32_t v) {
    put_varint(v, 0, [this](std::uint8_t b) { u8(b); });
  }
  void string(std::string_view s) {
    u16(static_cast<std::uint16_t>(s.size()));
    raw(s);
  }
  void raw(bytes_view b) {
    if (b.empty()) return;  // memcpy from a null view is undefined even for 0 bytes
    std::memcpy(at_, b.data(), b.size());
    at_ += b.size();
  }
  const char* at() const noexcept { return at_; }

 private:
  char* at_;
};

// One property: identifier, then its value in its wire type. Sizing runs it on a size_counter.
template <class W>
void write_property(W& w, const property_value& v) {
  w.u8(static_cast<std::uint8_t>(v.id));  // every identifier is below 128: a one-byte varint
  switch (find_property(static_cast<std::uint8_t>(v.id))->type) {
    case property_type::byte: w.u8(static_cast<std::uint8_t>(v.number)); break;
    case property_type::two_byte_integer: w.u16(static_cast<std::uint16_t>(v.number)); break;
    case property_type::four_byte_integer: w.u32(v.number); break;
    case property_type::variable_byte_integer: w.varint(v.number); break;
    case property_type::utf8_string:
    case property_type::binary_data: w.string(v.text); break;
    case property_type::utf8_string_pair:
      w.string(v.text);
      w.string(v.pair_value);
      break;
  }
}

// Property Lengths of a packet: its own block and (CONNECT) its Will's. The check pass measures them,
// so the sizing and writing passes do not walk the 27 fields again to learn them.
struct property_lengths {
  std::uint32_t packet = 0;
  std::uint32_t will = 0;
};

// Checks what the version and the field sizes allow; the writers below then cannot fail.
class checker {
 public:
  explicit checker(protocol_version v) : version(v), v5(is_v5(v)) {}
  std::error_code error;
  protocol_version version;
  bool v5;

  void refuse(errc e) {
    if (!error) error = make_error_code(e);
  }
  void text(std::string_view s) {
    if (s.size() > std::numeric_limits<std::uint16_t>::max()) refuse(errc::value_too_large);
  }
  // Checks a property block and returns its Property Length (one pass over the 27 fields).
  std::uint32_t props(const properties& p) {
    if (!v5) {  // no properties before 5.0 (a walk of its own: the one below is bigger, and slower)
      if (!p.empty()) refuse(errc::not_in_version);
      return 0;
    }
    size_counter n;
    for_each_property(p, [&](const property_value& pv) {
      text(pv.text);
      text(pv.pair_value);
      if (pv.id == property_id::subscription_identifier && varint_size(pv.number) == 0) refuse(errc::value_too_large);
      write_property(n, pv);
    });
    return static_cast<std::uint32_t>(n.n);
  }
  property_lengths lengths;
  void reason(reason_code c) {
    if (!v5 && c != reason_code::success) refuse(errc::not_in_version);
  }
};

void check(checker& c, const packet& p) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, connect>) {
          c.v5 = is_v5(x.version);
          c.lengths.packet = c.props(x.props);
          c.text(x.client_id);
          if (x.will) {
            c.lengths.will = c.props(x.will->props);
            c.text(x.will->topic);
            c.text(x.will->payload);
          }
          if (x.user_name) c.text(*x.user_name);
          if (x.password) c.text(*x.password);
        } else if constexpr (std::is_same_v<T, connack>) {
          c.lengths.packet = c.props(x.props);
          if (!c.v5 && !to_v311_connack(x.code)) c.refuse(errc::not_in_version);
        } else if constexpr (std::is_same_v<T, publish>) {
          c.text(x.topic);
          c.lengths.packet = c.props(x.props);
        } else if constexpr (std::is_same_v<T, subscribe>) {
          c.lengths.packet = c.props(x.props);
          for (const auto& s : x.subscriptions) {
            c.text(s.filter);
            if (!c.v5 && (s.options.no_local || s.options.retain_as_published ||
                          s.options.handling != retain_handling::send_on_subscribe))
              c.refuse(errc::not_in_version);
          }
        } else if constexpr (std::is_same_v<T, suback>) {
          c.lengths.packet = c.props(x.props);
          for (auto code : x.codes)
            if (!c.v5 && !is_valid_v311_suback(static_cast<std::uint8_t>(code), c.version))
              c.refuse(errc::not_in_version);
        } else if constexpr (std::is_same_v<T, unsubscribe>) {
          c.lengths.packet = c.props(x.props);
          for (auto f : x.filters) c.text(f);
        } else if constexpr (std::is_same_v<T, unsuback>) {
          c.lengths.packet = c.props(x.props);
          if (!c.v5 && !x.codes.empty()) c.refuse(errc::not_in_version);
        } else if constexpr (std::is_same_v<T, auth>) {
          if (!c.v5) c.refuse(errc::not_in_version);
          c.lengths.packet = c.props(x.props);
        } else if constexpr (requires { x.code; }) {  // publish responses, DISCONNECT
          c.lengths.packet = c.props(x.props);
          c.reason(x.code);
        }
      },
      p);
}

// Property Length (measured by the check pass), then the properties.
template <class W>
void write_properties(W& w, const properties& p, std::uint32_t length) {
  w.varint(length);
  if constexpr (std::is_same_v<W, size_counter>)
    w.n += length;
  else
    for_each_property(p, [&](const property_value& v) { write_property(w, v); });
}

std::uint8_t v311_code(reason_code c) { return *to_v311_connack(c); }

// The variable header and payload of each packet, for a writer W (size_counter or buffer_writer).
template <class W>
struct body_writer {
  W& w;
  bool v5;
  const property_lengths& lengths;

  void operator()(const connect& c) {
    const bool five = is_v5(c.version);
    w.string(c.version == protocol_version::v3_1 ? "MQIsdp" : "MQTT");
    w.u8(static_cast<std::uint8_t>(c.version));
    std::uint8_t flags = c.clean_start ? 0x02 : 0x00;
    if (c.will) {
      flags |= 0x04 | static_cast<std::uint8_t>(static_cast<unsigned>(c.will->qos_level) << 3);
      if (c.will->retain) flags |= 0x20;
    }
    if (c.password) flags |= 0x40;
    if (c.user_name) flags |= 0x80;
    w.u8(flags);
    w.u16(c.keep_alive);
    if (five) write_properties(w, c.props, lengths.packet);
    w.string(c.client_id);
    if (c.will) {
      if (five) write_properties(w, c.will->props, lengths.will);
      w.string(c.will->topic);
      w.string(c.will->payload);
    }
    if (c.user_name) w.string(*c.user_name);
    if (c.password) w.string(*c.password);
  }
  void operator()(const connack& c) {
    w.u8(c.session_present ? 1 : 0);
    w.u8(v5 ? static_cast<std::uint8_t>(c.code) : v311_code(c.code));
    if (v5) write_properties(w, c.props, lengths.packet);
  }
  void operator()(const publish& p) {
    w.string(p.topic);
    if (p.qos_level != qos::at_most_once) w.u16(p.packet_id);
    if (v5) write_properties(w, p.props, lengths.packet);
    w.raw(p.payload);
  }
  template <packet_type T>
  void operator()(const publish_response<T>& p) {
    w.u16(p.packet_id);
    reason_and_properties(p.code, p.props);
  }
  void operator()(const subscribe& s) {
    w.u16(s.packet_id);
    if (v5) write_properties(w, s.props, lengths.packet);
    for (const auto& sub : s.subscriptions) {
      w.string(sub.filter);
      const auto& o = sub.options;
      w.u8(static_cast<std::uint8_t>(static_cast<unsigned>(o.max_qos) | (o.no_local ? 0x04u : 0u) |
                                     (o.retain_as_published ? 0x08u : 0u) | static_cast<unsigned>(o.handling) << 4));
    }
  }
  void operator()(const suback& s) {
    w.u16(s.packet_id);
    if (v5) write_properties(w, s.props, lengths.packet);
    for (auto c : s.codes) w.u8(static_cast<std::uint8_t>(c));
  }
  void operator()(const unsubscribe& u) {
    w.u16(u.packet_id);
    if (v5) write_properties(w, u.props, lengths.packet);
    for (auto f : u.filters) w.string(f);
  }
  void operator()(const unsuback& u) {
    w.u16(u.packet_id);
    if (!v5) return;
    write_properties(w, u.props, lengths.packet);
    for (auto c : u.codes) w.u8(static_cast<std::uint8_t>(c));
  }
  void operator()(const pingreq&) {}
  void operator()(const pingresp&) {}
  void operator()(const disconnect& d) { reason_and_properties(d.code, d.props); }
  void operator()(const auth& a) {
    // AUTH is either empty (Success, no properties) or complete: no reason-code-only form (§3.15.2.1).
    if (a.code == reason_code::success && lengths.packet == 0) return;
    w.u8(static_cast<std::uint8_t>(a.code));
    write_properties(w, a.props, lengths.packet);
  }

  // 5.0 shortest forms: no properties -> no Property Length; also Success -> no reason code.
  // (A Property Length of 0 means no properties: each one takes at least two bytes.)
  void reason_and_properties(reason_code c, const properties& p) {
    if (!v5 || (c == reason_code::success && lengths.packet == 0)) return;
    w.u8(static_cast<std::uint8_t>(c));
    if (lengths.packet != 0) write_properties(w, p, lengths.packet);
  }
};

std::uint8_t first_byte(const packet& p) {
  const auto t = static_cast<std::uint8_t>(type_of(p));
  std::uint8_t flags = 0;
  if (const auto* pub = std::get_if<publish>(&p)) {
    flags = static_cast<std::uint8_t>((pub->dup ? 0x8 : 0) | static_cast<unsigned>(pub->qos_level) << 1 |
                                      (pub->retain ? 1 : 0));
  } else if (std::holds_alternative<pubrel>(p) || std::holds_alternative<subscribe>(p) ||
             std::holds_alternative<unsubscribe>(p)) {
    flags = 0x2;
  }
  return static_cast<std::uint8_t>(t << 4 | flags);
}

// Checks the packet and sizes its body; `lengths` keeps the Property Lengths for the writing pass.
basic_result<std::size_t, std::error_code> body_size(const packet& p, protocol_version v, property_lengths& lengths) {
  checker c(v);
  check(c, p);
  if (c.error) return c.error;
  lengths = c.lengths;
  size_counter n;
  std::visit(body_writer<size_counter>{n, is_v5(v), lengths}, p);
  if (n.n > max_remaining_length) return make_error_code(errc::value_too_large);
  return n.n;
}

}  // namespace

basic_result<std::size_t, std::error_code> encoded_size(const packet& p, protocol_version v) {
  property_lengths lengths;
  auto n = body_size(p, v, lengths);
  if (!n) return n.error();
  return 1 + varint_size(static_cast<std::uint32_t>(*n)) + *n;
}

std::error_code encode_to(const packet& p, protocol_version v, bytes& out) {
  property_lengths lengths;
  auto n = body_size(p, v, lengths);
  if (!n) return n.error();
  // Exactly the packet's size: encoding into a buffer sized by encoded_size() never allocates.
  const std::size_t start = out.size();
  const std::size_t total = 1 + varint_size(static_cast<std::uint32_t>(*n)) + *n;
  out.resize(start + total);
  buffer_writer w(out.data() + start);
  w.u8(first_byte(p));
  w.varint(static_cast<std::uint32_t>(*n));
  std::visit(body_writer<buffer_writer>{w, is_v5(v), lengths}, p);
  assert(w.at() == out.data() + out.size());  // the sizing and the writing passes agree
  return {};
}

encode_result encode(const packet& p, protocol_version v) {
  bytes out;
  if (auto ec = encode_to(p, v, out)) return ec;
  return out;
}

}  // namespace mqttspec::codec
