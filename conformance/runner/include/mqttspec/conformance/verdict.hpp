#pragma once
// Verdicts and the record of one scenario run, shared by the engine and every report.
#include "mqttspec/conformance/scenario.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace mqttspec::conformance {

enum class verdict { pass, fail, non_strict, informational, unsupported, error };
std::string_view to_string(verdict v) noexcept;  // "pass", "fail", "non-strict", ...

// The verdict a failed check gets at a level: MUST -> fail, SHOULD -> non-strict, MAY -> informational.
verdict verdict_for_failure(level l) noexcept;
// Whether a verdict makes the run fail (non-strict only under --strict).
bool is_failure(verdict v, bool strict) noexcept;

// One line of a wire log.
struct wire_entry {
  double t_ms = 0;          // since the scenario started
  std::string client;
  std::string direction;    // "send", "recv", "event"
  nlohmann::ordered_json packet;  // decoded packet, when there is one
  std::string hex;          // raw bytes when they did not decode (or were sent raw)
  std::string note;         // closes, errors, remarks
};
std::string to_text(const wire_entry& e);

struct scenario_result {
  const scenario* sc = nullptr;
  verdict v = verdict::pass;
  std::string expected;   // what the failing step wanted
  std::string observed;   // what the broker did instead
  std::string message;    // error / unsupported reason, or a one-line summary of the failure
  // The qualified statement the failure names when it is not the scenario's own (say, the decode
  // error of a malformed packet the broker sent); empty: the scenario's first statement.
  std::string broken;
  int step_line = 0;      // the failing step's line in its file
  std::vector<std::string> findings;  // broker bytes that did not decode, with their statement
  std::vector<wire_entry> log;
  double duration_ms = 0;
};

std::string wire_log_text(const scenario_result& r);

// The statement a failure is about: `broken`, else the scenario's first statement.
std::string failed_statement(const scenario_result& r);

// The observation with the parts that differ between runs and scenarios replaced by placeholders
// (run prefix, packet identifiers, milliseconds, byte offsets, payloads, client ids), so the same
// broker behaviour reads the same in every scenario it breaks.
std::string normalize_observation(std::string_view observed);

}  // namespace mqttspec::conformance
