#pragma once
// Loading shared by the subcommands.
#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/scenario_loader.hpp"

#include <iosfwd>

namespace mqttspec::conformance {

// Loads catalog + scenarios, printing every problem; false when anything was wrong.
bool load_suite(const suite_paths& paths, catalog& cat, load_result& loaded, std::ostream& err);
// "3.1.1", "5.0", "all" -> versions; empty when unknown.
std::vector<suite_version> versions_of(const std::string& v);

}  // namespace mqttspec::conformance
