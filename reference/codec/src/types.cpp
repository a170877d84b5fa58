#include "mqttspec/codec/types.hpp"

namespace mqttspec::codec {

std::string_view to_string(protocol_version v) noexcept {
  switch (v) {
    case protocol_version::v3_1: return "3.1";
    case protocol_version::v3_1_1: return "3.1.1";
    case protocol_version::v5: return "5.0";
  }
  return "?";
}

std::string_view to_string(packet_type t) noexcept {
  static constexpr std::string_view names[] = {"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC",
                                               "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE",
                                               "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"};
  auto i = static_cast<unsigned>(t);
  return i < std::size(names) ? names[i] : "?";
}

}  // namespace mqttspec::codec
