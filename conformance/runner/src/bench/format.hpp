#pragma once
// Numbers for people: 1234567.8 -> "1,234,568" (or with decimals "1,234,567.80").
#include <cstdint>
#include <cstdio>
#include <string>

namespace mqttspec::bench {

inline std::string with_commas(double v, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  const std::string plain = buf;
  const std::size_t sign = !plain.empty() && plain[0] == '-' ? 1 : 0;
  const std::size_t dot = plain.find('.');
  const std::size_t end = dot == std::string::npos ? plain.size() : dot;
  std::string out = plain.substr(0, sign);
  for (std::size_t i = sign; i < end; ++i) {
    if (i > sign && (end - i) % 3 == 0) out += ',';
    out += plain[i];
  }
  out += plain.substr(end);
  return out;
}

inline std::string with_commas(std::uint64_t v) { return with_commas(static_cast<double>(v)); }

}  // namespace mqttspec::bench
