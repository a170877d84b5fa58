#include "mqttspec/conformance/variables.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace mqttspec::conformance {

namespace {

// ${min(a,b)}, ${max(a,b)}, ${add(a,b)}, ${mul(a,b)}: arithmetic on numbers or variables, e.g.
// the QoS a delivery comes at, min(granted, published), or a wait from the keep-alive the broker
// returned, mul(c.keep-alive,1500). nullopt when the name is no such call.
std::optional<std::string> function(std::string_view name, const variables& vars) {
  const auto open = name.find('(');
  if (open == std::string_view::npos || !name.ends_with(")")) return std::nullopt;
  const auto fn = name.substr(0, open);
  if (fn != "min" && fn != "max" && fn != "add" && fn != "mul") return std::nullopt;
  std::optional<unsigned long long> acc;
  for (const auto& arg : split_list(name.substr(open + 1, name.size() - open - 2), ", ")) {
    auto it = vars.find(arg);
    auto n = parse_number(it == vars.end() ? std::string_view(arg) : std::string_view(it->second), 0xFFFFFFFFul);
    if (!n) return std::nullopt;
    if (!acc) acc = *n;
    else if (fn == "min") acc = std::min<unsigned long long>(*acc, *n);
    else if (fn == "max") acc = std::max<unsigned long long>(*acc, *n);
    else if (fn == "add") acc = *acc + *n;
    else acc = *acc * *n;
  }
  if (!acc) return std::nullopt;
  return std::to_string(*acc);
}

}  // namespace

expansion expand(std::string_view text, const variables& vars) {
  expansion out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("${", pos);
    if (open == std::string_view::npos) break;
    const auto close = text.find('}', open + 2);
    if (close == std::string_view::npos) break;
    out.text.append(text.substr(pos, open - pos));
    const auto name = text.substr(open + 2, close - open - 2);
    if (auto it = vars.find(name); it != vars.end()) {
      out.text += it->second;
    } else if (auto m = function(name, vars)) {
      out.text += *m;
    } else {
      if (out.unknown.empty()) out.unknown = std::string(name);
      out.text.append(text.substr(open, close - open + 1));
    }
    pos = close + 1;
  }
  out.text.append(text.substr(pos));
  return out;
}

std::optional<unsigned long> parse_number(std::string_view t, unsigned long max) {
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    base = 16;
    t.remove_prefix(2);
  }
  if (t.empty()) return std::nullopt;
  unsigned long v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v, base);
  if (ec != std::errc{} || end != t.data() + t.size() || v > max) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view t) {
  if (t == "1" || t == "true" || t == "yes") return true;
  if (t == "0" || t == "false" || t == "no") return false;
  return std::nullopt;
}

std::vector<std::string> split_list(std::string_view t, std::string_view separators) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : t) {
    if (separators.find(c) != std::string_view::npos) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace mqttspec::conformance
