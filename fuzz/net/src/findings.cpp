#include "findings.hpp"

#include <fstream>
#include <sstream>

namespace mqttspec::netfuzz {

using namespace codec;

namespace {

std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default:
        // Control characters are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') out += ' ';
        else out += c;
    }
  }
  return out;
}

}  // namespace

std::filesystem::path save_finding(const std::filesystem::path& dir, const finding& f) {
  std::filesystem::create_directories(dir);
  auto path = dir / (f.kind + "-" + std::to_string(f.case_number) + ".case");
  std::ofstream out(path);
  out << "# mqttspec network fuzz finding; replay: mqttspec fuzz --replay " << path.filename().string() << "\n"
      << "version " << static_cast<int>(f.what.version) << "\n"
      << "kind " << f.kind << "\n"
      << "statement " << one_line(f.statement) << "\n"
      << "detail " << one_line(f.detail) << "\n"
      << "reply " << f.reply_hex << "\n";
  for (const auto& b : f.what.frames) out << "send " << to_hex(b, " ") << "\n";
  return path;
}

std::optional<finding> load_finding(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  finding f;
  f.what.fresh_connection = true;
  f.what.version = protocol_version::v5;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.find(' ');
    auto key = line.substr(0, space);
    auto value = space == std::string::npos ? std::string() : line.substr(space + 1);
    if (key == "version") {
      const int v = std::atoi(value.c_str());
      if (v < 3 || v > 5) return std::nullopt;
      f.what.version = static_cast<protocol_version>(v);
    } else if (key == "kind") f.kind = value;
    else if (key == "statement") f.statement = value;
    else if (key == "detail") f.detail = value;
    else if (key == "reply") f.reply_hex = value;
    else if (key == "send") {
      auto b = from_hex(value);
      if (!b) return std::nullopt;
      f.what.frames.push_back(std::move(*b));
    }
  }
  if (f.what.frames.empty()) return std::nullopt;
  return f;
}

void write_junit(const std::filesystem::path& file, const std::string& target, const std::vector<finding>& findings,
                 std::uint64_t cases, double seconds) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites>\n<testsuite name=\"mqttspec.netfuzz\" tests=\"" << (findings.empty() ? 1 : findings.size())
      << "\" failures=\"" << findings.size() << "\" errors=\"0\" time=\"" << seconds << "\">\n"
      << "  <properties><property name=\"target\" value=\"" << xml_escape(target) << "\"/>"
      << "<property name=\"cases\" value=\"" << cases << "\"/></properties>\n";
  if (findings.empty()) out << "  <testcase classname=\"netfuzz\" name=\"no findings\"/>\n";
  for (const auto& f : findings) {
    // Stable names: kind plus statement, so the same bug is the same test case across runs.
    const std::string name = f.kind + (f.statement.empty() ? "" : " " + f.statement);
    out << "  <testcase classname=\"netfuzz." << f.kind << "\" name=\"" << xml_escape(name) << "\">\n"
        << "    <failure message=\"" << xml_escape(f.detail) << "\">case " << f.case_number << "; reply "
        << xml_escape(f.reply_hex) << "; file " << xml_escape(f.kind + "-" + std::to_string(f.case_number) + ".case")
        << "</failure>\n  </testcase>\n";
  }
  out << "</testsuite>\n</testsuites>\n";
}

}  // namespace mqttspec::netfuzz
