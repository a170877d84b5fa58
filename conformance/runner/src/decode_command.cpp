#include "mqttspec/conformance/decode_command.hpp"

#include "mqttspec/codec/codec.hpp"
#include "mqttspec/conformance/packet_json.hpp"

#include <ostream>

namespace mqttspec::conformance {

int decode_hex_stream(std::string_view hex, std::optional<codec::protocol_version> version, std::ostream& out) {
  auto data = codec::from_hex(hex);
  if (!data) {
    out << nlohmann::ordered_json{{"error", "input is not hex"}}.dump() << '\n';
    return 2;
  }
  codec::bytes_view rest = *data;
  std::size_t stream_offset = 0;
  while (!rest.empty()) {
    auto f = codec::parse_frame(rest);
    codec::decode_result packet = f ? codec::decode_result{codec::pingreq{}} : codec::decode_result{f.error()};
    if (f) {
      if (!version) {
        auto v = codec::peek_connect_version(*f);
        version = v ? *v : codec::protocol_version::v5;
      }
      packet = codec::decode(*f, *version);
    }
    if (!packet) {
      auto e = packet.error();
      if (e.code == codec::errc::need_more) e.code = codec::errc::truncated;
      auto j = to_json(e);
      j["stream_offset"] = stream_offset + e.offset;
      out << j.dump() << '\n';
      return 1;
    }
    out << to_json(*packet).dump() << '\n';
    stream_offset += f->bytes.size();
    rest.remove_prefix(f->bytes.size());
  }
  return 0;
}

}  // namespace mqttspec::conformance
