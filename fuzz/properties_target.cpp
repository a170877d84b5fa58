// Target `properties`: a 5.0 property block alone. Byte 0 picks the place (one of the 15 places
// where properties occur); the rest is the block's content, wrapped with a correct Property Length
// in an otherwise valid packet of that place. Oracles: a decoded property set only holds
// properties the table allows in that place (and repeats only repeatable ones); it round-trips
// through encode/decode; refusals name a property rule and an offset inside the frame.
#include "fuzz_common.hpp"

#include <map>

namespace {

using namespace mqttspec::codec;

bytes varint(std::uint32_t v) {
  bytes out;
  wire_writer(out).varint(v);
  return out;
}

bytes frame_of(std::uint8_t first, const bytes& body) {
  return build(raw_frame{.first_byte = first, .body = body});
}

// A valid packet whose (only) property block is `block`, for place index `which`.
struct wrapped {
  bytes frame;
  property_place place;
};

wrapped wrap(std::uint8_t which, bytes_view props) {
  const bytes block = varint(static_cast<std::uint32_t>(props.size())) + bytes(props);
  const bytes empty = varint(0);
  using namespace std::literals;
  switch (which % 15) {
    case 0:  // CONNECT
      return {frame_of(0x10, "\x00\x04MQTT\x05\x02\x00\x3c"s + block + "\x00\x01" "c"s), place_of(packet_type::connect)};
    case 1:  // CONNECT Will Properties
      return {frame_of(0x10, "\x00\x04MQTT\x05\x06\x00\x3c"s + empty + "\x00\x01" "c"s + block + "\x00\x01t\x00\x01p"s),
              will_properties};
    case 2: return {frame_of(0x20, "\x00\x00"s + block), place_of(packet_type::connack)};
    case 3: return {frame_of(0x32, "\x00\x01t\x00\x01"s + block + "payload"), place_of(packet_type::publish)};
    case 4: return {frame_of(0x40, "\x00\x01\x00"s + block), place_of(packet_type::puback)};
    case 5: return {frame_of(0x50, "\x00\x01\x00"s + block), place_of(packet_type::pubrec)};
    case 6: return {frame_of(0x62, "\x00\x01\x00"s + block), place_of(packet_type::pubrel)};
    case 7: return {frame_of(0x70, "\x00\x01\x00"s + block), place_of(packet_type::pubcomp)};
    case 8: return {frame_of(0x82, "\x00\x01"s + block + "\x00\x01" "a\x01"s), place_of(packet_type::subscribe)};
    case 9: return {frame_of(0x90, "\x00\x01"s + block + "\x01"s), place_of(packet_type::suback)};
    case 10: return {frame_of(0xa2, "\x00\x01"s + block + "\x00\x01" "a"s), place_of(packet_type::unsubscribe)};
    case 11: return {frame_of(0xb0, "\x00\x01"s + block + "\x00"s), place_of(packet_type::unsuback)};
    case 12: return {frame_of(0xe0, "\x00"s + block), place_of(packet_type::disconnect)};
    case 13: return {frame_of(0xf0, "\x18"s + block), place_of(packet_type::auth)};
    default: return {frame_of(0x30, "\x00\x01t"s + block), place_of(packet_type::publish)};  // QoS 0, no payload
  }
}

const properties* props_in(const packet& p, property_place place) {
  if (place == will_properties) {
    const auto& c = std::get<connect>(p);
    return c.will ? &c.will->props : nullptr;
  }
  const properties* out = nullptr;
  std::visit([&](const auto& x) { if constexpr (requires { x.props; }) out = &x.props; }, p);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mqttspec::fuzz::input_reader in(data, size);
  const auto which = in.u8();
  auto w = wrap(which, in.rest());
  auto d = decode(bytes_view(w.frame), protocol_version::v5);
  if (!d) {
    MQTTSPEC_FUZZ_CHECK(d.error().offset <= w.frame.size(), "error offset past the frame");
    return 0;
  }
  const properties* props = props_in(d.value(), w.place);
  MQTTSPEC_FUZZ_CHECK(props != nullptr, "wrapped packet lost its property block");

  // Every decoded property is allowed here; only repeatable ones repeat.
  std::map<std::uint8_t, int> seen;
  for_each_property(*props, [&](const property_value& pv) {
    const auto id = static_cast<std::uint8_t>(pv.id);
    const property_info* info = find_property(id);
    MQTTSPEC_FUZZ_CHECK(info != nullptr, "decoded an unknown property id " + std::to_string(id));
    MQTTSPEC_FUZZ_CHECK(allowed_in(*info, w.place), "decoded " + std::string(info->name) + " where it is not allowed");
    MQTTSPEC_FUZZ_CHECK(++seen[id] == 1 || info->repeatable, "decoded a repeated " + std::string(info->name));
    if (info->type == property_type::utf8_string || info->type == property_type::utf8_string_pair)
      MQTTSPEC_FUZZ_CHECK(!check_utf8(pv.text) && !check_utf8(pv.pair_value), "decoded invalid UTF-8 in a property");
  });

  auto e = encode(d.value(), protocol_version::v5);
  MQTTSPEC_FUZZ_CHECK(e.has_value(), "decoded properties do not encode: " + to_string(d.value()));
  auto again = decode(bytes_view(e.value()), protocol_version::v5);
  MQTTSPEC_FUZZ_CHECK(again && again.value() == d.value(), "property round trip changed the packet: " + to_string(d.value()));
  return 0;
}
