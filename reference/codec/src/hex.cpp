#include "mqttspec/codec/hex.hpp"

namespace mqttspec::codec {

std::optional<bytes> from_hex(std::string_view text) {
  bytes out;
  out.reserve(text.size() / 2);
  int high = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' || c == '-') {
      if (high >= 0) return std::nullopt;  // a separator inside a byte
      continue;
    } else {
      return std::nullopt;
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<char>(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0) return std::nullopt;
  return out;
}

std::string to_hex(bytes_view data, std::string_view separator) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * (2 + separator.size()));
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (i) out += separator;
    const auto b = static_cast<unsigned char>(data[i]);
    out += digits[b >> 4];
    out += digits[b & 0xF];
  }
  return out;
}

}  // namespace mqttspec::codec
