#pragma once
// ${name} expansion in scenario text. Scenario-level and step-level for-each substitute their
// variable at load time; ${prefix} and captured values are expanded when a step runs.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqttspec::conformance {

using variables = std::map<std::string, std::string, std::less<>>;

struct expansion {
  std::string text;
  std::string unknown;  // first variable with no value (empty when all were known)
};

// Replaces every ${name} found in `vars`; unknown names stay as they are and the first is reported.
expansion expand(std::string_view text, const variables& vars);

// Parses an unsigned number in decimal or 0x hex; nullopt on anything else or overflow of `max`.
std::optional<unsigned long> parse_number(std::string_view text, unsigned long max);
// "1", "true", "yes" / "0", "false", "no".
std::optional<bool> parse_bool(std::string_view text);
// Splits on any of `separators` (by default spaces, commas, '|', tabs and newlines); no empty items.
std::vector<std::string> split_list(std::string_view text, std::string_view separators = " ,|\t\n");

}  // namespace mqttspec::conformance
