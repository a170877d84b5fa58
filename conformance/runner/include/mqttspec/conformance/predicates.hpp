#pragma once
// Field predicates of <expect>: does a received packet match what the scenario expects?
#include "mqttspec/codec/codec.hpp"
#include "mqttspec/conformance/scenario.hpp"

#include <optional>
#include <string>

namespace mqttspec::conformance {

// nullopt when `p` matches every predicate of the (expanded) attributes and <property> checks;
// otherwise what differed, e.g. "reason 0x80, expected one of 0x01|0x02".
std::optional<std::string> match(const codec::packet& p, const attributes& a, const std::vector<attributes>& props,
                                 codec::protocol_version v);

// The same for a packet as received, adding the checks that need its bytes: max-size="N" (the
// whole packet, fixed header included, as a Maximum Packet Size counts it, is at most N bytes).
std::optional<std::string> match(const codec::owned_packet& p, const attributes& a,
                                 const std::vector<attributes>& props, codec::protocol_version v);
// max-size alone (e.g. for a DISCONNECT met while waiting for a close).
std::optional<std::string> check_size(const codec::owned_packet& p, const attributes& a);

// Human form of an expectation: "SUBACK id=1 codes=0x01".
std::string describe_expectation(const attributes& a, const std::vector<attributes>& props);

// The reason / return code a packet carries as the number the version puts on the wire
// (3.1.1 CONNACK return codes 0..5), when it carries one.
std::optional<unsigned> wire_reason(const codec::packet& p, codec::protocol_version v);

// Every property of a packet as name -> values (as text), for checks and captures.
std::multimap<std::string, std::string> property_values(const codec::properties& p);
const codec::properties* properties_of(const codec::packet& p);

}  // namespace mqttspec::conformance
