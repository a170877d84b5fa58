#pragma once
// What the broker under test supports: read from a 5.0 CONNACK, declared for 3.1.1 in a profile.
// A scenario whose `requires` tags are not all present is `unsupported`, not failed.
#include "mqttspec/codec/property.hpp"
#include "mqttspec/conformance/scenario.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mqttspec::conformance {

// Tags: qos1, qos2, retain, wildcard, subscription-identifiers, shared-subscriptions, topic-alias,
// maximum-packet-size (the broker announced one), plus any a profile declares (e.g. will-delay).
// Values: receive-maximum, maximum-packet-size, topic-alias-maximum, maximum-qos, available to
// scenarios as ${cap.NAME}.
struct capability_set {
  std::set<std::string, std::less<>> tags;
  std::map<std::string, std::string, std::less<>> values;
  std::string source;  // where they came from, for the report
};

// What a 5.0 Server's CONNACK properties say (absent properties mean "supported" / no limit).
capability_set from_connack(const codec::properties& p);
// 3.1.1 has no way to announce capabilities; a profile narrows these down.
capability_set default_v311();

struct exclusion {
  std::string pattern;  // selector: scenario id / glob / statement / section
  std::string reason;
};

struct profile {
  std::string name;
  std::map<std::string, bool, std::less<>> capabilities;  // tag -> supported
  std::vector<exclusion> exclusions;
};

// A JSON file: {"name": "...", "capabilities": {"qos2": false, ...},
//               "exclude": [{"scenario": "v3.1.1.retain.*", "reason": "..."}]}
std::optional<std::string> load_profile(const std::filesystem::path& file, profile& out);
void apply(const profile& p, capability_set& caps);

// The requirements of a scenario that `caps` does not meet, each with why. A requirement is a tag
// ("retain"), an absent tag ("!retain"), or a value compared with a number ("receive-maximum<=2";
// also <, >, >=, =).
std::vector<std::string> missing_capabilities(const scenario& s, const capability_set& caps);

}  // namespace mqttspec::conformance
