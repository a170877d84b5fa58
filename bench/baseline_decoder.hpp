#pragma once
// The yardstick for decode speed, used by the benchmarks only: an MQTT 3.1.1
// decoder in the style of embedded C decoders such as Eclipse Paho's
// MQTTPacket, which reads fields and checks only that they fit in the buffer:
// no UTF-8, no topic or filter syntax, no reserved bits, no rule at all.
// mqttspec's decoder checks every rule; the benchmarks show what that costs
// against this.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mqttspec::bench::baseline {

struct cursor {
  const std::uint8_t *p;
  const std::uint8_t *end;

  bool u8(std::uint8_t &v) {
    if (p >= end) return false;
    v = *p++;
    return true;
  }
  bool u16(std::uint16_t &v) {
    if (end - p < 2) return false;
    v = static_cast<std::uint16_t>(p[0] << 8 | p[1]);
    p += 2;
    return true;
  }
  bool string(std::string_view &s) {
    std::uint16_t n;
    if (!u16(n) || end - p < n) return false;
    s = {reinterpret_cast<const char *>(p), n};
    p += n;
    return true;
  }
  // Fixed header: type/flags byte and Remaining Length; `end` becomes the
  // packet's end.
  bool header(std::uint8_t &first) {
    if (!u8(first)) return false;
    std::uint32_t len = 0;
    for (int shift = 0; shift < 28; shift += 7) {
      std::uint8_t b;
      if (!u8(b)) return false;
      len |= static_cast<std::uint32_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        if (static_cast<std::size_t>(end - p) < len) return false;
        end = p + len;
        return true;
      }
    }
    return false;
  }
};

struct publish {
  std::uint8_t qos = 0;
  bool dup = false, retain = false;
  std::uint16_t packet_id = 0;
  std::string_view topic, payload;
};

inline bool decode(cursor c, publish &out) {
  std::uint8_t first;
  if (!c.header(first)) return false;
  out.dup = first & 0x08;
  out.qos = (first >> 1) & 3;
  out.retain = first & 1;
  if (!c.string(out.topic)) return false;
  if (out.qos > 0 && !c.u16(out.packet_id)) return false;
  out.payload = {reinterpret_cast<const char *>(c.p), static_cast<std::size_t>(c.end - c.p)};
  return true;
}

// Like Paho, filters go to caller-sized arrays.
struct subscribe {
  static constexpr int max_filters = 16;
  std::uint16_t packet_id = 0;
  int count = 0;
  std::string_view filters[max_filters];
  std::uint8_t qos[max_filters];
};

inline bool decode(cursor c, subscribe &out) {
  std::uint8_t first;
  if (!c.header(first) || !c.u16(out.packet_id)) return false;
  out.count = 0;
  while (c.p < c.end) {
    if (out.count == subscribe::max_filters) return false;
    if (!c.string(out.filters[out.count]) || !c.u8(out.qos[out.count])) return false;
    ++out.count;
  }
  return true;
}

struct connect {
  std::string_view protocol, client_id, will_topic, will_message, user_name, password;
  std::uint8_t level = 0, flags = 0;
  std::uint16_t keep_alive = 0;
};

inline bool decode(cursor c, connect &out) {
  std::uint8_t first;
  if (!c.header(first) || !c.string(out.protocol) || !c.u8(out.level) || !c.u8(out.flags) || !c.u16(out.keep_alive) ||
      !c.string(out.client_id))
    return false;
  if ((out.flags & 0x04) && (!c.string(out.will_topic) || !c.string(out.will_message))) return false;
  if ((out.flags & 0x80) && !c.string(out.user_name)) return false;
  if ((out.flags & 0x40) && !c.string(out.password)) return false;
  return true;
}

}  // namespace mqttspec::bench::baseline
