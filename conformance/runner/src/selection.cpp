#include "mqttspec/conformance/selection.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace mqttspec::conformance {
namespace {

bool section_prefix(std::string_view section, std::string_view prefix) {
  if (section.substr(0, prefix.size()) != prefix) return false;
  return section.size() == prefix.size() || section[prefix.size()] == '.';
}

bool looks_like_section(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

bool matches(const scenario& s, const std::string& selector, const catalog* cat) {
  if (selector == s.id || fnmatch(selector.c_str(), s.id.c_str(), 0) == 0) return true;
  // A version qualifier narrows statement and section selectors to that version.
  std::string_view sel = selector;
  if (auto q = split_qualified(selector)) {
    if (q->first != s.version) return false;
    sel = std::string_view(selector).substr(selector.find(':') + 1);
  }
  for (const auto& id : s.statements) {
    const std::string_view label = std::string_view(id).substr(id.find(':') + 1);
    if (label == sel || fnmatch(std::string(sel).c_str(), std::string(label).c_str(), 0) == 0) return true;
    if (looks_like_section(sel)) {
      const auto* st = cat ? cat->find(id) : nullptr;
      const std::string section = st ? st->section : s.section;
      if (section_prefix(section, sel)) return true;
    }
  }
  return false;
}

std::vector<const scenario*> select(const std::vector<scenario>& all, const std::vector<std::string>& selectors,
                                    const std::vector<std::string>& excludes, const std::vector<suite_version>& versions,
                                    const catalog* cat) {
  std::vector<const scenario*> out;
  for (const auto& s : all) {
    if (std::find(versions.begin(), versions.end(), s.version) == versions.end()) continue;
    const bool picked = selectors.empty() ||
                        std::any_of(selectors.begin(), selectors.end(), [&](const auto& x) { return matches(s, x, cat); });
    const bool excluded =
        std::any_of(excludes.begin(), excludes.end(), [&](const auto& x) { return matches(s, x, cat); });
    if (picked && !excluded) out.push_back(&s);
  }
  return out;
}

}  // namespace mqttspec::conformance
