#pragma once
// The scenario model: what the XML files in conformance/scenarios/ hold once loaded.
// Steps keep their attributes as text; variables (${prefix}, captured values) are expanded when the
// step runs, so one model serves every run. Values without variables are validated at load time.
#include "mqttspec/conformance/statements.hpp"

#include <map>
#include <string>
#include <vector>

namespace mqttspec::conformance {

enum class level { must, should, may };
std::string_view to_string(level l) noexcept;

enum class step_kind {
  open,            // raw TCP connection, nothing sent
  connect,         // (re)open if needed, send CONNECT by fields, by default wait for a successful CONNACK
  send,            // a packet by fields, or raw bytes (hex / first-byte + body)
  expect,          // the next packet on a client matches field predicates
  expect_close,    // the broker closes (optionally after a DISCONNECT / CONNACK with one of some codes)
  expect_nothing,  // no packet and no close for a while
  drop,            // abrupt close of our side, no DISCONNECT
  disconnect,      // DISCONNECT, then close
  any_of,          // one of several option sequences (expectations only) matches
  expect_all,      // a set of expectations met in any order (on one or several clients)
  clear_retained,  // cleanup: a fresh client publishes an empty retained message to a topic
  end_session,     // cleanup: a fresh client connects with a clean session and disconnects
};
std::string_view to_string(step_kind k) noexcept;

using attributes = std::map<std::string, std::string, std::less<>>;

struct step;
// One acceptable outcome of an <any-of>. `unsupported` set: the outcome is a legal choice of the
// broker under which the scenario cannot observe its statement, so it ends `unsupported` with that reason.
struct any_of_option {
  std::vector<step> steps;
  std::string unsupported;
};

struct step {
  step_kind kind{};
  attributes attrs;
  std::vector<attributes> topics;      // <topic .../> children of SUBSCRIBE / UNSUBSCRIBE / codes
  std::vector<attributes> properties;  // <property .../> children: to send, or to check
  std::vector<any_of_option> options;     // any-of: each option is a sequence of steps
  std::vector<step> group;                 // expect-all: the expectations, in no particular order
  int line = 0;                        // in the scenario file, for messages
};

struct scenario {
  std::string id;
  std::string title;
  std::string requirement;
  std::vector<std::string> statements;  // qualified ids
  level lvl = level::must;
  std::vector<std::string> requires_caps;
  suite_version version{};
  std::vector<step> steps;
  // Played on fresh connections once the steps passed: the same broker accepts the corrected
  // input, so the rejection the steps observed was earned. Empty: a scenario that expects a close
  // gets the default control (a valid CONNECT, PINGREQ/PINGRESP).
  std::vector<step> control;
  std::vector<step> cleanup;
  std::string file;
  int line = 0;
  // The section the scenario is reported under (of its first statement), e.g. "3.1.4".
  std::string section;
};

}  // namespace mqttspec::conformance
