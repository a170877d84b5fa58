#pragma once
// The catalogs of normative statements (conformance/statements/*.tsv), one per protocol version.
// Ids are qualified by version everywhere ("v5:MQTT-3.1.0-1") because the same label names
// different rules in 3.1.1 and 5.0.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqttspec::conformance {

// The two versions the suite certifies, by their directory / qualifier names.
enum class suite_version { v3_1_1, v5 };
std::string_view qualifier(suite_version v) noexcept;      // "v3.1.1", "v5"
std::string_view display_name(suite_version v) noexcept;   // "3.1.1", "5.0"
std::optional<suite_version> parse_suite_version(std::string_view text) noexcept;  // "3.1.1", "5", "5.0", "v5"...

struct statement {
  std::string id;          // qualified: "v5:MQTT-3.1.0-1"
  std::string label;       // as in the standard: "MQTT-3.1.0-1"
  suite_version version{};
  std::string section;     // "3.1.4"
  std::string topic;
  std::string applies_to;  // server, client, both, sender, receiver
  std::string strength;
  std::string black_box;   // yes, partial, no
  std::string summary;
};

// A statement no network test of a server can observe, with the reason (not-testable.tsv).
struct untestable {
  std::string id;  // qualified
  std::string reason;
};

// Qualifies a label with a version ("MQTT-3.1.0-1" -> "v5:MQTT-3.1.0-1"); qualified ids pass through.
std::string qualify(std::string_view id, suite_version v);
// Splits a qualified id; nullopt when unqualified or the qualifier is unknown.
std::optional<std::pair<suite_version, std::string>> split_qualified(std::string_view id);

class catalog {
 public:
  // Loads mqtt-3.1.1-statements.tsv, mqtt-5.0-statements.tsv and (when present) not-testable.tsv
  // from `dir`. Returns an error message on a missing file or a malformed row.
  static std::optional<std::string> load(const std::filesystem::path& dir, catalog& out);

  const statement* find(std::string_view qualified_id) const;
  const std::vector<statement>& all(suite_version v) const { return v == suite_version::v5 ? v5_ : v311_; }
  const untestable* not_testable(std::string_view qualified_id) const;
  // Server-relevant: anything a server is bound by or must react to (everything but client-only
  // statements with no observable reaction).
  static bool server_relevant(const statement& s) noexcept;

  // For tests: add rows by hand.
  void add(statement s);
  void add_untestable(untestable u);

 private:
  std::vector<statement> v311_, v5_;
  std::map<std::string, std::pair<suite_version, std::size_t>, std::less<>> index_;
  std::map<std::string, untestable, std::less<>> untestable_;
};

}  // namespace mqttspec::conformance
