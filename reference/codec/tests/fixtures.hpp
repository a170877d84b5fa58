#pragma once
// Shared test material: hex fixtures written by hand from the MQTT 3.1, 3.1.1 and 5.0 texts (never
// produced by our encoder), our own reading of the 5.0 property table, and small byte helpers that
// do not use the codec, so the codec cannot agree with itself.
#include "mqttspec/codec/codec.hpp"

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mqttspec::codec::test {

// "10 1e 00 04" -> bytes; whitespace is ignored. Aborts the test program on bad input (a typo in a
// fixture must not turn into a silently different test).
bytes unhex(std::string_view hex);
// bytes -> "10 1e 00 04"
std::string hexdump(bytes_view b);

// A Variable Byte Integer, minimal form (§1.5.5), written here independently of wire_writer.
bytes vbi(std::uint32_t v);

// "v3_1", "v3_1_1", "v5": usable in test names.
std::string_view tag(protocol_version v);

struct fixture {
  std::string name;          // unique, [A-Za-z0-9_]
  protocol_version version;
  std::string hex;
  packet expected;
  bool canonical = true;     // encode(expected) gives exactly these bytes
};

// Every packet type in 3.1.1 and 5.0, plus 3.1 CONNECT/CONNACK/SUBACK.
const std::vector<fixture>& fixtures();
// GoogleTest shows parameters by name rather than as raw bytes.
inline void PrintTo(const fixture& f, std::ostream* os) { *os << f.name; }

// --- our reading of the 5.0 property table (§2.2.2.2), independent of property_table() ---------

// Places, with the same bit convention as property_place (bit = packet type, bit 16 = Will).
inline constexpr std::uint32_t bit(packet_type t) { return 1u << static_cast<unsigned>(t); }
inline constexpr std::uint32_t will_bit = 1u << 16;

struct spec_property {
  property_id id;
  std::string_view name;
  property_type type;
  std::uint32_t places;
};
const std::vector<spec_property>& spec_properties();
inline void PrintTo(const spec_property& p, std::ostream* os) { *os << p.name; }

// The 15 places where a 5.0 packet carries properties, in packet-type order, Will last.
struct place {
  std::string_view name;  // "connect", ..., "will"
  std::uint32_t mask;     // one bit
  packet_type type;       // connect for the Will
};
const std::vector<place>& places();

// A valid 5.0 frame of the place's packet type whose only properties are `props` (raw property
// bytes, without the Property Length). `props_at` is the offset of the first property byte.
struct built_frame {
  bytes frame;
  std::size_t props_at;
};
built_frame frame_with_properties(const place& where, bytes_view props);

// The properties of a decoded packet at a place (the Will's for the Will place).
const properties& properties_at(const packet& p, const place& where);
properties& properties_at(packet& p, const place& where);
// A valid 5.0 packet of the place's type with no properties (the shape frame_with_properties uses).
packet empty_packet_at(const place& where);

// A sample valid value of a property: its wire bytes (identifier included) and the struct holding
// just that value (Authentication Data comes with the Authentication Method it needs).
struct property_sample {
  bytes wire;
  properties value;
};
property_sample sample_property(property_id id);

// The normative statement catalogs ("v5:MQTT-1.5.4-1", "v3.1.1:MQTT-3.3.1-4", ...), read from
// MQTTSPEC_STATEMENTS_DIR; nullptr when the catalogs are not available to this build.
const std::set<std::string>* statement_catalog();

}  // namespace mqttspec::codec::test
