#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/scenario_loader.hpp"
#include "mqttspec/conformance/selection.hpp"
#include "suite_loading.hpp"

#include <ostream>

namespace mqttspec::conformance {

suite_paths default_paths(const std::optional<std::filesystem::path>& scenarios_dir) {
  suite_paths p;
  std::filesystem::path base = "conformance";
  if (!std::filesystem::is_directory(base / "scenarios")) base = MQTTSPEC_SOURCE_CONFORMANCE_DIR;
  p.scenarios = scenarios_dir ? *scenarios_dir : base / "scenarios";
  p.statements = base / "statements";
  return p;
}

bool load_suite(const suite_paths& paths, catalog& cat, load_result& loaded, std::ostream& err) {
  if (auto e = catalog::load(paths.statements, cat)) {
    err << "mqttspec: " << *e << "\n";
    return false;
  }
  loaded = load_scenarios(paths.scenarios, &cat);
  for (const auto& e : loaded.errors) err << "mqttspec: " << to_string(e) << "\n";
  return loaded.errors.empty();
}

std::vector<suite_version> versions_of(const std::string& v) {
  if (v == "all") return {suite_version::v3_1_1, suite_version::v5};
  if (auto x = parse_suite_version(v)) return {*x};
  return {};
}

int list_command(const suite_paths& paths, const std::vector<std::string>& selectors, const std::string& version,
                 std::ostream& out, std::ostream& err) {
  catalog cat;
  load_result loaded;
  if (!load_suite(paths, cat, loaded, err)) return 2;
  const auto versions = versions_of(version);
  if (versions.empty()) {
    err << "mqttspec: unknown --version " << version << " (3.1.1, 5.0 or all)\n";
    return 2;
  }
  const auto picked = select(loaded.scenarios, selectors, {}, versions, &cat);
  for (const auto* s : picked) {
    out << s->id << "  [" << to_string(s->lvl) << "]";
    for (const auto& id : s->statements) out << " " << id;
    if (!s->requires_caps.empty()) {
      out << "  requires:";
      for (const auto& r : s->requires_caps) out << " " << r;
    }
    out << "\n    " << s->title << "\n";
  }
  out << picked.size() << " scenarios\n";
  return 0;
}

}  // namespace mqttspec::conformance
