#include "mqttspec/conformance/statements.hpp"

#include <fstream>
#include <sstream>

namespace mqttspec::conformance {

std::string_view qualifier(suite_version v) noexcept { return v == suite_version::v5 ? "v5" : "v3.1.1"; }
std::string_view display_name(suite_version v) noexcept { return v == suite_version::v5 ? "5.0" : "3.1.1"; }

std::optional<suite_version> parse_suite_version(std::string_view t) noexcept {
  if (t == "3.1.1" || t == "v3.1.1" || t == "311" || t == "4") return suite_version::v3_1_1;
  if (t == "5" || t == "5.0" || t == "v5" || t == "v5.0") return suite_version::v5;
  return std::nullopt;
}

std::string qualify(std::string_view id, suite_version v) {
  if (id.find(':') != std::string_view::npos) return std::string(id);
  return std::string(qualifier(v)) + ":" + std::string(id);
}

std::optional<std::pair<suite_version, std::string>> split_qualified(std::string_view id) {
  const auto colon = id.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto v = parse_suite_version(id.substr(0, colon));
  if (!v) return std::nullopt;
  return std::pair{*v, std::string(id.substr(colon + 1))};
}

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> cells;
  std::size_t start = 0;
  for (;;) {
    const auto tab = line.find('\t', start);
    cells.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  if (!cells.empty() && !cells.back().empty() && cells.back().back() == '\r') cells.back().pop_back();
  return cells;
}

// Reads a TSV with a header row; calls `row` for each data row. Error text on failure.
template <class F>
std::optional<std::string> read_tsv(const std::filesystem::path& file, std::size_t columns, F&& row) {
  std::ifstream in(file);
  if (!in) return "cannot read " + file.string();
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line_no == 1 || line.empty() || line[0] == '#') continue;
    auto cells = split_tabs(line);
    if (cells.size() < columns) {
      std::ostringstream os;
      os << file.string() << ":" << line_no << ": expected " << columns << " tab-separated columns, got " << cells.size();
      return os.str();
    }
    if (auto err = row(cells)) return file.string() + ":" + std::to_string(line_no) + ": " + *err;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> catalog::load(const std::filesystem::path& dir, catalog& out) {
  out = catalog{};
  for (auto [v, name] : {std::pair{suite_version::v3_1_1, "mqtt-3.1.1-statements.tsv"},
                         std::pair{suite_version::v5, "mqtt-5.0-statements.tsv"}}) {
    const auto version = v;
    auto err = read_tsv(dir / name, 7, [&](const std::vector<std::string>& c) -> std::optional<std::string> {
      out.add(statement{qualify(c[0], version), c[0], version, c[1], c[2], c[3], c[4], c[5], c[6]});
      return std::nullopt;
    });
    if (err) return err;
  }
  const auto extra = dir / "not-testable.tsv";
  if (std::filesystem::exists(extra)) {
    auto err = read_tsv(extra, 2, [&](const std::vector<std::string>& c) -> std::optional<std::string> {
      if (!out.find(c[0])) return "unknown statement " + c[0];
      out.add_untestable({c[0], c[1]});
      return std::nullopt;
    });
    if (err) return err;
  }
  return std::nullopt;
}

void catalog::add(statement s) {
  auto& list = s.version == suite_version::v5 ? v5_ : v311_;
  index_[s.id] = {s.version, list.size()};
  list.push_back(std::move(s));
}

void catalog::add_untestable(untestable u) {
  auto key = u.id;
  untestable_[key] = std::move(u);
}

const statement* catalog::find(std::string_view id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  return &all(it->second.first)[it->second.second];
}

const untestable* catalog::not_testable(std::string_view id) const {
  auto it = untestable_.find(id);
  return it == untestable_.end() ? nullptr : &it->second;
}

bool catalog::server_relevant(const statement& s) noexcept {
  return !(s.applies_to == "client" && s.black_box == "no");
}

}  // namespace mqttspec::conformance
