#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/scenario_loader.hpp"
#include "mqttspec/conformance/selection.hpp"
#include "suite_loading.hpp"

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <system_error>

namespace mqttspec::conformance {

namespace {

namespace fs = std::filesystem;

bool holds_suite(const fs::path& base) {
  std::error_code ec;
  return fs::is_directory(base / "scenarios", ec);
}

// The running executable (Linux); empty when unknown.
fs::path executable_path() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path{} : p;
}

bool is_within(const fs::path& p, const fs::path& dir) {
  std::error_code ec;
  const auto d = fs::weakly_canonical(dir, ec);
  if (ec || d.empty()) return false;
  return std::mismatch(d.begin(), d.end(), p.begin(), p.end()).first == d.end();
}

}  // namespace

fs::path suite_data_dir() {
  if (const char* env = std::getenv("MQTTSPEC_DATA_DIR"); env && *env) return env;
  const auto exe = executable_path();
  const auto installed =
      exe.empty() ? fs::path{} : (exe.parent_path() / MQTTSPEC_INSTALL_DATA_FROM_BIN).lexically_normal();
  if (!installed.empty() && holds_suite(installed)) return installed;
  if (holds_suite("conformance")) return fs::absolute("conformance");
  // The source tree only serves binaries of the build tree that was configured from it.
  if (!exe.empty() && is_within(exe, MQTTSPEC_BUILD_DIR) && holds_suite(MQTTSPEC_SOURCE_CONFORMANCE_DIR))
    return MQTTSPEC_SOURCE_CONFORMANCE_DIR;
  return installed.empty() ? fs::path("conformance") : installed;  // missing: the error names it
}

suite_paths default_paths(const std::optional<fs::path>& scenarios_dir) {
  suite_paths p;
  const auto base = suite_data_dir();
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
  out << picked.size() << " scenarios in " << std::filesystem::absolute(paths.scenarios).lexically_normal().string()
      << "\n";
  return 0;
}

}  // namespace mqttspec::conformance
