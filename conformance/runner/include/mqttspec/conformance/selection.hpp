#pragma once
// Which scenarios a command line picks: by scenario id or glob, statement id (qualified or not),
// or section prefix ("3.8" picks 3.8, 3.8.1, ... of either version; "v5:3.8" only 5.0).
#include "mqttspec/conformance/scenario.hpp"

#include <string>
#include <vector>

namespace mqttspec::conformance {

bool matches(const scenario& s, const std::string& selector, const catalog* cat);

// Scenarios matching any selector (all when there is none) and no exclusion, of the given versions.
std::vector<const scenario*> select(const std::vector<scenario>& all, const std::vector<std::string>& selectors,
                                    const std::vector<std::string>& excludes, const std::vector<suite_version>& versions,
                                    const catalog* cat);

}  // namespace mqttspec::conformance
