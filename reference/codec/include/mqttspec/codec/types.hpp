#pragma once
// Small vocabulary types shared by every packet.
#include <cstdint>
#include <string>
#include <string_view>

namespace mqttspec::codec {

// Wire bytes are plain chars so that Asio buffers, std::string and views interoperate without casts.
using bytes = std::string;
using bytes_view = std::string_view;

// The protocol level byte of CONNECT.
enum class protocol_version : std::uint8_t { v3_1 = 3, v3_1_1 = 4, v5 = 5 };

std::string_view to_string(protocol_version v) noexcept;
inline bool is_v5(protocol_version v) noexcept { return v == protocol_version::v5; }

enum class qos : std::uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

enum class packet_type : std::uint8_t {
  connect = 1, connack, publish, puback, pubrec, pubrel, pubcomp,
  subscribe, suback, unsubscribe, unsuback, pingreq, pingresp, disconnect, auth
};

std::string_view to_string(packet_type t) noexcept;

enum class retain_handling : std::uint8_t { send_on_subscribe = 0, send_if_new = 1, do_not_send = 2 };

}  // namespace mqttspec::codec
