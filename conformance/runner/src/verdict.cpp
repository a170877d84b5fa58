#include "mqttspec/conformance/verdict.hpp"

#include <cstdio>

namespace mqttspec::conformance {

std::string_view to_string(verdict v) noexcept {
  switch (v) {
    case verdict::pass: return "pass";
    case verdict::fail: return "fail";
    case verdict::non_strict: return "non-strict";
    case verdict::informational: return "informational";
    case verdict::unsupported: return "unsupported";
    case verdict::error: return "error";
  }
  return "?";
}

verdict verdict_for_failure(level l) noexcept {
  switch (l) {
    case level::must: return verdict::fail;
    case level::should: return verdict::non_strict;
    case level::may: return verdict::informational;
  }
  return verdict::fail;
}

bool is_failure(verdict v, bool strict) noexcept {
  return v == verdict::fail || v == verdict::error || (strict && v == verdict::non_strict);
}

std::string to_text(const wire_entry& e) {
  char t[32];
  std::snprintf(t, sizeof t, "%9.3f ms", e.t_ms);
  std::string arrow = e.direction == "send" ? " -> " : e.direction == "recv" ? " <- " : " .. ";
  std::string s = std::string(t) + "  " + e.client + arrow;
  if (!e.packet.is_null()) s += e.packet.dump();
  if (!e.hex.empty()) s += (e.packet.is_null() ? "" : " ") + std::string("hex ") + e.hex;
  if (!e.note.empty()) s += (s.back() == ' ' ? "" : "  ") + std::string("[") + e.note + "]";
  return s;
}

std::string wire_log_text(const scenario_result& r) {
  std::string s;
  for (const auto& e : r.log) s += to_text(e) + "\n";
  return s;
}

}  // namespace mqttspec::conformance
