#include "mqttspec/codec/decode.hpp"

#include "mqttspec/codec/detail/property_assign.hpp"
#include "mqttspec/codec/detail/swar.hpp"
#include "mqttspec/codec/topic.hpp"
#include "mqttspec/codec/wire.hpp"

namespace mqttspec::codec {
namespace {

// Reads wire primitives from one frame. Offsets are from the start of the frame, fixed header
// included. The first broken rule is kept (see error()); every read after it fails.
class reader {
 public:
  // The frame's pointer and size are read as two fields: copying the view whole made a 16-byte
  // load of what parse_frame had just stored as two 8-byte halves (a store-forwarding stall).
  reader(const frame& f, protocol_version v, packet_type t)
      : data_(f.bytes.data()), pos_(f.header_size), end_(f.bytes.size()), version_(v), type_(t) {}

  // The first broken rule, kept as plain fields (the statement text is built only on failure).
  decode_error error() const { return decode_error{code_, at_, statement_for(code_, version_, type_), detail_}; }

  std::size_t pos() const noexcept { return pos_; }
  // Offset in the frame of a view into it (e.g. a decoded string).
  std::size_t offset_of(std::string_view v) const noexcept { return static_cast<std::size_t>(v.data() - data_); }
  std::size_t left() const noexcept { return end_ - pos_; }
  bool at_end() const noexcept { return pos_ == end_; }
  protocol_version version() const noexcept { return version_; }
  void set_version(protocol_version v) noexcept { version_ = v; }
  bool v5() const noexcept { return is_v5(version_); }

  // Primitives are forced inline and the failure path kept out of line: g++ left the reads as calls
  // in the big per-packet functions, and each call cost about as much as the read itself.
  [[gnu::cold, gnu::noinline]] bool fail(errc e, std::size_t at, std::string_view detail = {}) {
    if (code_ == errc{}) {
      code_ = e;
      at_ = at;
      detail_ = detail;
    }
    return false;
  }
  // Reading past the end is "truncated", or "property length mismatch" inside a property block.
  [[gnu::always_inline]] bool need(std::size_t n) { return n <= left() || fail(overrun_, pos_); }

  [[gnu::always_inline]] bool u8(std::uint8_t& out) {
    if (!need(1)) return false;
    out = static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }
  [[gnu::always_inline]] bool u16(std::uint16_t& out) {
    if (!need(2)) return false;
    out = static_cast<std::uint16_t>(byte_at(pos_) << 8 | byte_at(pos_ + 1));
    pos_ += 2;
    return true;
  }
  [[gnu::always_inline]] bool u32(std::uint32_t& out) {
    if (!need(4)) return false;
    out = byte_at(pos_) << 24 | byte_at(pos_ + 1) << 16 | byte_at(pos_ + 2) << 8 | byte_at(pos_ + 3);
    pos_ += 4;
    return true;
  }
  bool varint(std::uint32_t& out) {
    const std::size_t start = pos_;
    out = 0;
    for (std::size_t n = 0;; ++n) {
      if (n == 4) return fail(errc::remaining_length_too_long, pos_ - 1, "Variable Byte Integer longer than 4 bytes");
      std::uint8_t b;
      if (!u8(b)) return false;
      out |= static_cast<std::uint32_t>(b & 0x7Fu) << (7 * n);
      if ((b & 0x80u) == 0) break;
    }
    if (v5() && pos_ - start != varint_size(out)) return fail(errc::non_minimal_varint, start);
    return true;
  }
  [[gnu::always_inline]] bool binary(std::string_view& out) {
    std::uint16_t n;
    if (!u16(n) || !need(n)) return false;
    out = bytes_view(data_ + pos_, n);
    pos_ += n;
    return true;
  }
  [[gnu::always_inline]] bool string(std::string_view& out) {
    const std::size_t start = pos_ + 2;
    if (!binary(out)) return false;
    return utf8_checked(out, detail::scan_text(out), start);
  }
  // A Topic Name or Filter: `wildcards` says whether a topic check has anything to find.
  [[gnu::always_inline]] bool topic(std::string_view& out, bool& wildcards) {
    const std::size_t start = pos_ + 2;
    if (!binary(out)) return false;
    const auto scan = detail::scan_text(out);
    wildcards = scan.has_wildcard;
    return utf8_checked(out, scan, start);
  }
  [[gnu::always_inline]] bool utf8_checked(std::string_view s, detail::text_scan scan, std::size_t at) {
    if (!scan.needs_utf8_check) return true;
    if (auto p = check_utf8(s)) return fail(p->code, at + p->offset);
    return true;
  }
  [[gnu::always_inline]] bool skip_zero_byte() {
    if (pos_ == end_ || data_[pos_] != 0) return false;
    ++pos_;
    return true;
  }
  std::string_view rest() {
    const bytes_view r(data_ + pos_, end_ - pos_);
    pos_ = end_;
    return r;
  }
  bool finish() { return at_end() || fail(errc::trailing_bytes, pos_); }

  // Narrows reading to the next `n` bytes (a property block); restore with widen().
  std::size_t narrow(std::size_t n) {
    const std::size_t saved = end_;
    end_ = pos_ + n;
    overrun_ = errc::property_length_mismatch;
    return saved;
  }
  void widen(std::size_t saved) {
    end_ = saved;
    overrun_ = errc::truncated;
  }

 private:
  std::uint32_t byte_at(std::size_t i) const noexcept { return static_cast<std::uint8_t>(data_[i]); }

  const char* data_;
  std::size_t pos_;
  std::size_t end_;
  protocol_version version_;
  packet_type type_;
  errc overrun_ = errc::truncated;
  errc code_{};
  std::size_t at_ = 0;
  std::string_view detail_;
};

// Property block (§2.2.2): length, then (identifier, value) pairs checked against the table.
bool read_property_block(reader& r, properties& out, property_place place) {
  std::uint32_t length;
  const std::size_t length_at = r.pos();
  if (!r.varint(length)) return false;
  if (length > r.left()) return r.fail(errc::property_length_mismatch, length_at);
  const auto saved = r.narrow(length);
  const bool in_publish = place == place_of(packet_type::publish);
  while (!r.at_end()) {
    const std::size_t id_at = r.pos();
    std::uint32_t raw_id;
    if (!r.varint(raw_id)) return false;
    const property_info* info = raw_id < 256 ? find_property(static_cast<std::uint8_t>(raw_id)) : nullptr;
    if (!info) return r.fail(errc::unknown_property, id_at);
    if (!allowed_in(*info, place)) return r.fail(errc::property_not_allowed, id_at, info->name);
    property_value v{info->id, 0, {}, {}};
    bool ok = false;
    switch (info->type) {
      case property_type::byte: {
        std::uint8_t b;
        ok = r.u8(b);
        v.number = b;
        break;
      }
      case property_type::two_byte_integer: {
        std::uint16_t n;
        ok = r.u16(n);
        v.number = n;
        break;
      }
      case property_type::four_byte_integer: ok = r.u32(v.number); break;
      case property_type::variable_byte_integer: ok = r.varint(v.number); break;
      case property_type::utf8_string: ok = r.string(v.text); break;
      case property_type::binary_data: ok = r.binary(v.text); break;
      case property_type::utf8_string_pair: ok = r.string(v.text) && r.string(v.pair_value); break;
    }
    if (!ok) return false;
    if (const errc e = detail::assign_property(out, v, in_publish); e != errc{}) return r.fail(e, id_at, info->name);
  }
  r.widen(saved);
  // §3.1.2.11.10, §3.2.2.3.18, §3.15.2.2.3: Authentication Data needs an Authentication Method.
  if (out.authentication_data && !out.authentication_method)
    return r.fail(errc::authentication_data_without_method, length_at);
  return true;
}

// Most packets carry no properties: an empty block (one zero byte) costs no call.
[[gnu::always_inline]] inline bool read_properties(reader& r, properties& out, property_place place) {
  if (r.skip_zero_byte()) return true;
  return read_property_block(r, out, place);
}

// A Response Topic is a Topic Name: no wildcards, not empty (v5:MQTT-3.3.2-14).
bool check_response_topic(reader& r, const properties& p) {
  if (!p.response_topic) return true;
  const auto problem = check_topic_name(*p.response_topic);
  return !problem || r.fail(errc::invalid_response_topic, r.offset_of(*p.response_topic) + problem->offset);
}

// Inlined into each packet's decoder: the call cost as much as the read (most packets have one).
[[gnu::always_inline]] inline bool read_packet_id(reader& r, std::uint16_t& id) {
  const std::size_t at = r.pos();
  if (!r.u16(id)) return false;
  return id != 0 || r.fail(errc::zero_packet_identifier, at);
}

bool read_reason(reader& r, reason_code& out, packet_type t) {
  const std::size_t at = r.pos();
  std::uint8_t b;
  if (!r.u8(b)) return false;
  out = static_cast<reason_code>(b);
  return is_valid_for(out, t) || r.fail(errc::invalid_reason_code, at);
}

bool read_topic_filter(reader& r, std::string_view& filter) {
  const std::size_t at = r.pos() + 2;
  bool wildcards;
  if (!r.topic(filter, wildcards)) return false;
  if (!wildcards && !filter.empty() && !(r.v5() && parse_shared(filter))) return true;
  if (auto p = check_topic_filter(filter, r.version())) return r.fail(p->code, at + p->offset);
  return true;
}

// Fixed-header flags (§2.1.3 / 3.1.1 §2.2.2): PUBLISH carries DUP/QoS/RETAIN; PUBREL, SUBSCRIBE and
// UNSUBSCRIBE must be 0010; every other packet 0000.
constexpr std::uint8_t required_flags(packet_type t) noexcept {
  return t == packet_type::pubrel || t == packet_type::subscribe || t == packet_type::unsubscribe ? 0x2 : 0x0;
}

// Protocol name and level, shared by decode and peek_connect_version (§3.1.2.1, §3.1.2.2).
bool read_protocol(reader& r, protocol_version& out) {
  std::string_view name;
  const std::size_t name_at = r.pos();
  if (!r.string(name)) return false;
  const std::size_t level_at = r.pos();
  std::uint8_t level;
  if (!r.u8(level)) return false;
  if (name == "MQTT" && (level == 4 || level == 5)) {
    out = static_cast<protocol_version>(level);
    return true;
  }
  if (name == "MQIsdp" && level == 3) {
    out = protocol_version::v3_1;
    return true;
  }
  if (name != "MQTT" && name != "MQIsdp") return r.fail(errc::invalid_protocol_name, name_at);
  return r.fail(errc::unsupported_protocol_version, level_at);
}

// Everything after the protocol name and level, which decode() has read (c.version is set).
bool decode_connect(reader& r, connect& c) {
  const std::size_t flags_at = r.pos();
  std::uint8_t flags;
  if (!r.u8(flags) || !r.u16(c.keep_alive)) return false;
  const bool v5 = is_v5(c.version);
  if (flags & 0x01) return r.fail(errc::connect_reserved_flag, flags_at);
  c.clean_start = flags & 0x02;
  const bool has_will = flags & 0x04;
  const auto will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x3);
  const bool will_retain = flags & 0x20;
  const bool has_password = flags & 0x40;
  const bool has_user = flags & 0x80;
  if (has_will && will_qos == 3) return r.fail(errc::invalid_will_qos, flags_at);
  if (!has_will && will_qos != 0) return r.fail(errc::will_qos_without_will, flags_at);
  if (!has_will && will_retain) return r.fail(errc::will_retain_without_will, flags_at);
  if (!v5 && has_password && !has_user) return r.fail(errc::password_without_user_name, flags_at);
  if (v5 && !read_properties(r, c.props, place_of(packet_type::connect))) return false;
  if (!r.string(c.client_id)) return false;
  if (has_will) {
    will_message& w = c.will.emplace();  // in place: a will is hundreds of bytes
    w.qos_level = static_cast<qos>(will_qos);
    w.retain = will_retain;
    if (v5 && !(read_properties(r, w.props, will_properties) && check_response_topic(r, w.props))) return false;
    const std::size_t topic_at = r.pos() + 2;
    if (!r.string(w.topic)) return false;
    if (auto p = check_topic_name(w.topic)) return r.fail(p->code, topic_at + p->offset, "Will Topic");
    if (!r.binary(w.payload)) return false;
  }
  if (has_user) {
    std::string_view user;
    if (!r.string(user)) return false;
    c.user_name = user;
  }
  if (has_password) {
    bytes_view password;
    if (!r.binary(password)) return false;
    c.password = password;
  }
  return r.finish();
}

bool decode_connack(reader& r, connack& c) {
  const std::size_t flags_at = r.pos();
  std::uint8_t flags, code;
  if (!r.u8(flags)) return false;
  if (flags & 0xFE) return r.fail(errc::connack_reserved_flags, flags_at);
  c.session_present = flags & 0x01;
  const std::size_t code_at = r.pos();
  if (!r.u8(code)) return false;
  if (r.v5()) {
    c.code = static_cast<reason_code>(code);
    if (!is_valid_for(c.code, packet_type::connack)) return r.fail(errc::invalid_reason_code, code_at);
  } else {
    auto mapped = from_v311_connack(code);
    if (!mapped) return r.fail(errc::invalid_reason_code, code_at, "return code above 5");
    c.code = *mapped;
  }
  if (c.session_present && c.code != reason_code::success)  // v5:MQTT-3.2.2-6, v3.1.1:MQTT-3.2.2-4
    return r.fail(errc::session_present_on_failure, flags_at);
  if (r.v5() && !read_properties(r, c.props, place_of(packet_type::connack))) return false;
  return r.finish();
}

bool decode_publish(reader& r, publish& p, std::uint8_t flags) {
  p.dup = flags & 0x08;
  p.qos_level = static_cast<qos>((flags >> 1) & 0x3);
  p.retain = flags & 0x01;
  const std::size_t topic_at = r.pos() + 2;
  bool wildcards;
  if (!r.topic(p.topic, wildcards)) return false;
  if (p.qos_level != qos::at_most_once && !read_packet_id(r, p.packet_id)) return false;
  if (r.v5() && !(read_properties(r, p.props, place_of(packet_type::publish)) && check_response_topic(r, p.props)))
    return false;
  // 5.0 allows an empty Topic Name when a Topic Alias stands in for it (§3.3.2.3.4).
  const bool alias_only = p.topic.empty() && r.v5() && p.props.topic_alias;
  if (!alias_only && (wildcards || p.topic.empty())) {
    if (auto e = check_topic_name(p.topic)) return r.fail(e->code, topic_at + e->offset);
  }
  p.payload = r.rest();
  return true;
}

template <packet_type T>
bool decode_publish_response(reader& r, publish_response<T>& p) {
  if (!read_packet_id(r, p.packet_id)) return false;
  if (r.v5() && !r.at_end()) {  // 5.0: reason code and properties may be omitted (§3.4.2.1)
    if (!read_reason(r, p.code, T)) return false;
    if (!r.at_end() && !read_properties(r, p.props, place_of(T))) return false;
  }
  return r.finish();
}

bool decode_subscribe(reader& r, subscribe& s) {
  if (!read_packet_id(r, s.packet_id)) return false;
  if (r.v5() && !read_properties(r, s.props, place_of(packet_type::subscribe))) return false;
  if (r.at_end()) return r.fail(errc::no_topic_filters, r.pos());
  while (!r.at_end()) {
    subscription sub;
    if (!read_topic_filter(r, sub.filter)) return false;
    const std::size_t options_at = r.pos();
    std::uint8_t o;
    if (!r.u8(o)) return false;
    if (o & (r.v5() ? 0xC0 : 0xFC)) return r.fail(errc::subscription_options_reserved_bits, options_at);
    if ((o & 0x3) == 3) return r.fail(errc::invalid_qos, options_at);
    sub.options.max_qos = static_cast<qos>(o & 0x3);
    if (r.v5()) {
      sub.options.no_local = o & 0x04;
      sub.options.retain_as_published = o & 0x08;
      if (((o >> 4) & 0x3) == 3) return r.fail(errc::invalid_retain_handling, options_at);
      sub.options.handling = static_cast<retain_handling>((o >> 4) & 0x3);
      if (sub.options.no_local && parse_shared(sub.filter))  // v5:MQTT-3.8.3-4
        return r.fail(errc::no_local_on_shared_subscription, options_at);
    }
    s.subscriptions.push_back(sub);
  }
  return true;
}

template <class Codes>
bool decode_codes(reader& r, Codes& codes, packet_type t) {
  if (r.at_end()) return r.fail(errc::truncated, r.pos(), "no reason codes");
  while (!r.at_end()) {
    const std::size_t at = r.pos();
    std::uint8_t b;
    if (!r.u8(b)) return false;
    const bool ok = r.v5() ? is_valid_for(static_cast<reason_code>(b), t) : is_valid_v311_suback(b, r.version());
    if (!ok) return r.fail(errc::invalid_reason_code, at);
    codes.push_back(static_cast<reason_code>(b));
  }
  return true;
}

bool decode_suback(reader& r, suback& s) {
  if (!read_packet_id(r, s.packet_id)) return false;
  if (r.v5() && !read_properties(r, s.props, place_of(packet_type::suback))) return false;
  return decode_codes(r, s.codes, packet_type::suback);
}

bool decode_unsubscribe(reader& r, unsubscribe& u) {
  if (!read_packet_id(r, u.packet_id)) return false;
  if (r.v5() && !read_properties(r, u.props, place_of(packet_type::unsubscribe))) return false;
  if (r.at_end()) return r.fail(errc::no_topic_filters, r.pos());
  while (!r.at_end()) {
    std::string_view filter;
    if (!read_topic_filter(r, filter)) return false;
    u.filters.push_back(filter);
  }
  return true;
}

bool decode_unsuback(reader& r, unsuback& u) {
  if (!read_packet_id(r, u.packet_id)) return false;
  if (!r.v5()) return r.finish();
  if (!read_properties(r, u.props, place_of(packet_type::unsuback))) return false;
  return decode_codes(r, u.codes, packet_type::unsuback);
}

// DISCONNECT and AUTH: 5.0 allows omitting both reason code (= 0x00) and properties.
template <class P>
bool decode_reason_and_properties(reader& r, P& p, packet_type t) {
  if (r.v5() && !r.at_end()) {
    if (!read_reason(r, p.code, t)) return false;
    if (!r.at_end() && !read_properties(r, p.props, place_of(t))) return false;
  }
  return r.finish();
}

// Builds the packet in place inside the result: packets are large (their property structs), so
// avoiding intermediate moves matters on the hot path.
// AUTH (§3.15.2.1): Remaining Length 0 means Success without properties; otherwise both the
// reason code and the properties are there (unlike PUBACK or DISCONNECT, no shorter form).
// Whether the Authentication Method is present is the session's concern: the empty form has none.
bool decode_auth(reader& r, auth& a) {
  if (!r.at_end()) {
    if (!read_reason(r, a.code, packet_type::auth)) return false;
    if (!read_properties(r, a.props, place_of(packet_type::auth))) return false;
  }
  return r.finish();
}

// One named result and one return: the packet (hundreds of bytes) is built in the caller's
// storage and never moved (NRVO), which two differently-returned objects would prevent.
// The packet is default-initialized (`P p;`): `P()` and `P{}` both had g++ zero every byte first,
// 896 for a CONNECT, most of them the storage of a Will that is usually absent. This relies on every
// member of every packet having an initializer (they all do; the fixtures compare whole packets).
// Converting from `fresh<P>` builds the packet straight into the variant: g++ and clang elide the
// copy of the conversion's result.
template <class P>
struct fresh {
  operator P() const noexcept {
    P p;
    return p;
  }
};

// Inlined into decode(): as a call of its own, each packet paid a second prologue and the reader
// went through memory (PUBLISH 3.1.1 20 -> 18 ns).
template <class P, class F>
[[gnu::always_inline]] inline decode_result run(reader& r, F&& body) {
  decode_result out{std::in_place, std::in_place_type<P>, fresh<P>{}};
  if (!body(*std::get_if<P>(&*out))) out = r.error();
  return out;
}

}  // namespace

decode_result decode(const frame& f, protocol_version v) {
  const auto type_bits = f.type_bits();
  const auto t = static_cast<packet_type>(type_bits);
  reader r(f, v, t);
  if (type_bits == 0 || (t == packet_type::auth && !is_v5(v))) {
    r.fail(errc::reserved_packet_type, 0);
    return r.error();
  }
  if (is_v5(v) && !f.minimal_length) {
    r.fail(errc::non_minimal_varint, 1, "Remaining Length");
    return r.error();
  }
  const std::uint8_t flags = f.flags();
  if (t == packet_type::publish) {
    if ((flags & 0x6) == 0x6) {
      r.fail(errc::invalid_qos, 0);
      return r.error();
    }
    if ((flags & 0x8) && (flags & 0x6) == 0) {
      r.fail(errc::dup_on_qos_0, 0);
      return r.error();
    }
  } else if (flags != required_flags(t)) {
    r.fail(errc::invalid_fixed_header_flags, 0);
    return r.error();
  }

  switch (t) {
    case packet_type::connect: {
      // The CONNECT says which version it speaks; statements are reported in that version (a
      // broken protocol name or level, in the version asked for).
      protocol_version own;
      if (!read_protocol(r, own)) return r.error();
      r.set_version(own);
      return run<connect>(r, [&](connect& c) {
        c.version = own;
        return decode_connect(r, c);
      });
    }
    case packet_type::connack: return run<connack>(r, [&](connack& c) { return decode_connack(r, c); });
    case packet_type::publish: return run<publish>(r, [&](publish& p) { return decode_publish(r, p, flags); });
    case packet_type::puback: return run<puback>(r, [&](puback& p) { return decode_publish_response(r, p); });
    case packet_type::pubrec: return run<pubrec>(r, [&](pubrec& p) { return decode_publish_response(r, p); });
    case packet_type::pubrel: return run<pubrel>(r, [&](pubrel& p) { return decode_publish_response(r, p); });
    case packet_type::pubcomp: return run<pubcomp>(r, [&](pubcomp& p) { return decode_publish_response(r, p); });
    case packet_type::subscribe: return run<subscribe>(r, [&](subscribe& s) { return decode_subscribe(r, s); });
    case packet_type::suback: return run<suback>(r, [&](suback& s) { return decode_suback(r, s); });
    case packet_type::unsubscribe: return run<unsubscribe>(r, [&](unsubscribe& u) { return decode_unsubscribe(r, u); });
    case packet_type::unsuback: return run<unsuback>(r, [&](unsuback& u) { return decode_unsuback(r, u); });
    case packet_type::pingreq: return run<pingreq>(r, [&](pingreq&) { return r.finish(); });
    case packet_type::pingresp: return run<pingresp>(r, [&](pingresp&) { return r.finish(); });
    case packet_type::disconnect:
      return run<disconnect>(r, [&](disconnect& d) { return decode_reason_and_properties(r, d, t); });
    case packet_type::auth: return run<auth>(r, [&](auth& a) { return decode_auth(r, a); });
  }
  r.fail(errc::reserved_packet_type, 0);
  return r.error();
}

decode_result decode(bytes_view data, protocol_version v) {
  auto f = parse_frame(data);
  if (!f) {
    auto e = f.error();
    if (e.code == errc::need_more) e.code = errc::truncated;
    e.statement = statement_for(e.code, v);
    return e;
  }
  if (f->bytes.size() != data.size()) return decode_error{errc::trailing_bytes, f->bytes.size(), {}, "after the frame"};
  return decode(*f, v);
}

basic_result<protocol_version, decode_error> peek_connect_version(const frame& f) {
  reader r(f, protocol_version::v5, packet_type::connect);
  if (f.type_bits() != static_cast<std::uint8_t>(packet_type::connect)) {
    r.fail(errc::reserved_packet_type, 0, "not a CONNECT");
    return r.error();
  }
  protocol_version v;
  if (!read_protocol(r, v)) return r.error();
  return v;
}

}  // namespace mqttspec::codec
