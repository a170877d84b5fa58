#pragma once
// Rules a scenario must follow so that its verdict holds on every broker the spec allows. The
// loader applies them to every scenario it reads, so a scenario that breaks one never runs.
#include "mqttspec/conformance/scenario.hpp"

#include <string>
#include <vector>

namespace mqttspec::conformance {

struct lint_problem {
  int line = 0;  // of the offending step (0: the scenario)
  std::string message;
};

// - order: a SUBACK and a PUBLISH expected one after the other on one client, with nothing sent
//   in between, may come in either order (§3.8.4: retained messages may precede the SUBACK), so
//   they belong in one <expect-all>;
// - acks: a client that acknowledges deliveries by itself (auto-ack, the default) must not be
//   told to send PUBACK, PUBREC or PUBCOMP: give its connect auto-ack="0";
// - size: a 5.0 packet larger than 256 bytes must be allowed by the Maximum Packet Size the
//   broker advertised: the scenario requires "maximum-packet-size>=N" or sizes it from
//   ${cap.maximum-packet-size}.
std::vector<lint_problem> lint(const scenario& s);

}  // namespace mqttspec::conformance
