#pragma once
// Loading shared by the subcommands.
#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/scenario_loader.hpp"

#include <filesystem>
#include <iosfwd>

namespace mqttspec::conformance {

// The directory holding scenarios/ and statements/, first match wins: $MQTTSPEC_DATA_DIR; the
// installed share/mqttspec next to the executable's bin/ (MQTTSPEC_INSTALL_DATA_FROM_BIN);
// ./conformance (run from a checkout); the source tree, for a binary of its own build tree only.
// Nothing found: the installed location, so the error names where the data was expected.
std::filesystem::path suite_data_dir();

// Loads catalog + scenarios, printing every problem; false when anything was wrong.
bool load_suite(const suite_paths& paths, catalog& cat, load_result& loaded, std::ostream& err);
// "3.1.1", "5.0", "all" -> versions; empty when unknown.
std::vector<suite_version> versions_of(const std::string& v);

}  // namespace mqttspec::conformance
