#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/coverage.hpp"
#include "suite_loading.hpp"

#include <ostream>

namespace mqttspec::conformance {

int coverage_command(const suite_paths& paths, bool only_gaps, std::ostream& out, std::ostream& err) {
  catalog cat;
  load_result loaded;
  if (!load_suite(paths, cat, loaded, err)) return 2;
  print_coverage(cat, loaded.scenarios, only_gaps, out);
  return 0;
}

}  // namespace mqttspec::conformance
