#pragma once
// The run's control, once per protocol version before its scenarios play: one client does what any
// working broker of that version does (CONNECT -> CONNACK 0x00, PINGREQ -> PINGRESP, SUBSCRIBE ->
// SUBACK, PUBLISH -> PUBACK and the message back, DISCONNECT). A target that fails it is not judged
// at that version: "the broker closes on bad input" means nothing from a target that closes on
// everything, and a dead or hostile target must cost one probe, not one timeout per scenario.
// For 5.0 the probe's CONNACK also gives the broker's capabilities.
#include "mqttspec/conformance/capabilities.hpp"
#include "mqttspec/conformance/engine.hpp"
#include "mqttspec/conformance/verdict.hpp"

#include <string>
#include <vector>

namespace mqttspec::conformance {

struct version_probe {
  enum class outcome {
    works,
    unsupported,  // the broker refused the version itself ("unsupported protocol version")
    broken,       // anything else went wrong: its scenarios are errors
  };
  suite_version version{};
  outcome result = outcome::broken;
  capability_set caps;    // works: from the 5.0 CONNACK, or the 3.1.1 defaults
  std::string expected;   // otherwise: what the probe waited for ...
  std::string observed;   // ... and what came instead (packets, bytes, a close, nothing within N ms)
  std::string summary;    // otherwise: one line for notes and messages
  bool closed_at_connect = false;  // the broker closed on the CONNECT without a byte of answer
  std::vector<wire_entry> log;
  double duration_ms = 0;
};

// Every wait (connect, TLS and WebSocket handshakes, each answer) is bounded by o.timeout. The
// PUBLISH is at QoS 1 unless the capabilities, narrowed by `prof`, lack "qos1"; caps comes back
// without the profile.
version_probe probe_version(suite_version v, const engine_options& o, const profile& prof);

// A broker that works at one version and closes on the other's valid CONNECT without a word is a
// broker without that version (a 3.1.1-only broker need not know how to refuse a 5.0 CONNECT):
// such a probe becomes `unsupported`.
void reconcile(std::vector<version_probe*> probes);

// What a scenario gets, without being played, when its version's probe did not work:
// unsupported or error, carrying the probe's observation and wire log.
scenario_result not_played(const scenario& s, const version_probe& p);

}  // namespace mqttspec::conformance
