#pragma once
// Hex text <-> bytes, for fixtures, scenarios, wire logs and the command line.
#include "mqttspec/codec/types.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace mqttspec::codec {

// Accepts upper or lower case digits; spaces, tabs, newlines, ':' and '-' between bytes are
// ignored. nullopt on any other character or an odd number of digits.
std::optional<bytes> from_hex(std::string_view text);
// Lower case, `separator` between bytes (none by default).
std::string to_hex(bytes_view data, std::string_view separator = {});

}  // namespace mqttspec::codec
