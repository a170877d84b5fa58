#pragma once
// Saved findings: a replayable case file per finding and a JUnit file listing them.
#include "seeds.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::netfuzz {

struct finding {
  std::string kind;       // "conformance" or "liveness"
  std::string statement;  // conformance: the violated statement, when numbered
  std::string detail;
  std::string reply_hex;  // the offending broker bytes
  std::uint64_t case_number = 0;
  net_case what;          // replayed on a fresh connection, CONNECT included
};

// Writes `f` as <dir>/<kind>-<case>.case and returns the path. The format is line-based text:
//   version 5 | kind ... | statement ... | detail ... | reply ... | send <hex frame> (one per frame)
std::filesystem::path save_finding(const std::filesystem::path& dir, const finding& f);
std::optional<finding> load_finding(const std::filesystem::path& file);
void write_junit(const std::filesystem::path& file, const std::string& target, const std::vector<finding>& findings,
                 std::uint64_t cases, double seconds);

}  // namespace mqttspec::netfuzz
