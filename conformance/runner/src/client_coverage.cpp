// `mqttspec list --role client` and `mqttspec coverage --role client`: the client scenarios and
// the statements that bind the Client.
#include "mqttspec/conformance/client_role.hpp"
#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/selection.hpp"
#include "suite_loading.hpp"

#include <algorithm>
#include <fstream>
#include <ostream>

namespace mqttspec::conformance {

bool client_relevant(const statement& s) noexcept { return s.applies_to != "server"; }

std::optional<std::string> load_client_untestable(const std::filesystem::path& statements_dir, const catalog& cat,
                                                  std::map<std::string, std::string, std::less<>>& out) {
  const auto file = statements_dir / "client-not-testable.tsv";
  std::ifstream in(file);
  if (!in) return std::nullopt;  // none listed
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (n == 1 || line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos) return file.string() + ":" + std::to_string(n) + ": expected 2 tab-separated columns";
    const auto id = line.substr(0, tab);
    const auto* st = cat.find(id);
    if (!st) return file.string() + ":" + std::to_string(n) + ": unknown statement " + id;
    if (!client_relevant(*st)) return file.string() + ":" + std::to_string(n) + ": " + id + " binds the Server only";
    out[id] = line.substr(tab + 1);
  }
  return std::nullopt;
}

namespace {

bool load_client_suite(const suite_paths& paths, catalog& cat, load_result& loaded,
                       std::map<std::string, std::string, std::less<>>& untestable, std::ostream& err) {
  if (auto e = catalog::load(paths.statements, cat)) {
    err << "mqttspec: " << *e << "\n";
    return false;
  }
  if (auto e = load_client_untestable(paths.statements, cat, untestable)) {
    err << "mqttspec: " << *e << "\n";
    return false;
  }
  loaded = load_client_scenarios(paths.scenarios, &cat);
  for (const auto& e : loaded.errors) err << "mqttspec: " << to_string(e) << "\n";
  return loaded.errors.empty();
}

}  // namespace

int client_list_command(const suite_paths& paths, const std::vector<std::string>& selectors, const std::string& version,
                        std::ostream& out, std::ostream& err) {
  catalog cat;
  load_result loaded;
  std::map<std::string, std::string, std::less<>> untestable;
  if (!load_client_suite(paths, cat, loaded, untestable, err)) return 2;
  const auto versions = versions_of(version);
  if (versions.empty()) {
    err << "mqttspec: unknown --version " << version << " (3.1.1, 5.0 or all)\n";
    return 2;
  }
  const auto picked = select(loaded.scenarios, selectors, {}, versions, &cat);
  for (const auto* s : picked) {
    out << s->id << "  [" << to_string(s->lvl) << "]";
    for (const auto& id : s->statements) out << " " << id;
    out << "\n    " << s->title << "\n";
  }
  out << picked.size() << " client scenarios in "
      << std::filesystem::absolute(paths.scenarios / "client").lexically_normal().string() << "\n";
  return 0;
}

int client_coverage_command(const suite_paths& paths, bool only_gaps, std::ostream& out, std::ostream& err) {
  catalog cat;
  load_result loaded;
  std::map<std::string, std::string, std::less<>> untestable;
  if (!load_client_suite(paths, cat, loaded, untestable, err)) return 2;
  for (auto v : {suite_version::v3_1_1, suite_version::v5}) {
    std::size_t client = 0, covered = 0, not_testable = 0, gaps = 0, shared = 0, shared_covered = 0, shared_untestable = 0;
    out << "MQTT " << display_name(v) << " (client role)\n";
    for (const auto& st : cat.all(v)) {
      if (!client_relevant(st)) continue;
      std::vector<const scenario*> by;
      for (const auto& sc : loaded.scenarios)
        if (std::find(sc.statements.begin(), sc.statements.end(), st.id) != sc.statements.end()) by.push_back(&sc);
      const bool only_client = st.applies_to == "client";
      const auto why = untestable.find(st.id);
      std::string status;
      if (!by.empty()) status = "covered";
      else if (why != untestable.end()) status = "not testable";
      else status = only_client ? "UNCOVERED" : "shared, not covered";
      if (only_client) {
        ++client;
        covered += !by.empty();
        not_testable += by.empty() && why != untestable.end();
        gaps += status == "UNCOVERED";
      } else {
        ++shared;
        shared_covered += !by.empty();
        shared_untestable += by.empty() && why != untestable.end();
      }
      if (only_gaps && status != "UNCOVERED") continue;
      out << "  " << st.id << "  [" << st.applies_to << "]  " << status;
      if (!by.empty()) {
        out << ":";
        for (const auto* sc : by) out << " " << sc->id;
      } else if (why != untestable.end()) {
        out << ": " << why->second;
      } else {
        out << ": " << st.summary;
      }
      out << "\n";
    }
    std::size_t scenarios = 0;
    for (const auto& sc : loaded.scenarios) scenarios += sc.version == v;
    out << "  -- " << scenarios << " client scenarios; " << client << " client statements: " << covered << " covered, "
        << not_testable << " not testable by a network observer, " << gaps << " uncovered; " << shared
        << " statements binding both sides (both/sender/receiver): " << shared_covered << " covered from the client side, "
        << shared_untestable << " not testable\n\n";
  }
  return 0;
}

}  // namespace mqttspec::conformance
