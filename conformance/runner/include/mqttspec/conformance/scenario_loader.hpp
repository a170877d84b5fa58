#pragma once
// Reads scenario XML (pugixml) into the model, with every problem reported by file and line.
#include "mqttspec/conformance/scenario.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mqttspec::conformance {

struct load_error {
  std::string file;
  int line = 0;
  std::string message;
};
std::string to_string(const load_error& e);

struct load_result {
  std::vector<scenario> scenarios;
  std::vector<load_error> errors;
};

// One document's text (the version comes from its directory). `cat` may be null: statement refs
// are then not checked against the catalog.
load_result load_scenario_text(std::string_view xml, suite_version v, const std::string& file, const catalog* cat);

// Every dir/v3.1.1/*.xml and dir/v5.0/*.xml, sorted by file name; ids must be unique overall.
load_result load_scenarios(const std::filesystem::path& dir, const catalog* cat);

}  // namespace mqttspec::conformance
