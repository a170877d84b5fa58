#pragma once
// The valid traffic cases are mutated from: a CONNECT and the packets of a typical session.
#include "mqttspec/codec/codec.hpp"

#include <random>
#include <string>
#include <vector>

namespace mqttspec::netfuzz {

// A CONNECT for `client_id` (keep alive 60 s, clean start).
codec::bytes connect_bytes(codec::protocol_version v, const std::string& client_id);
inline codec::bytes pingreq_bytes() { return codec::bytes("\xc0\x00", 2); }

// The packets of one case, before mutation: a few of SUBSCRIBE / PUBLISH QoS 0-2 / PUBREL /
// UNSUBSCRIBE / PINGREQ ..., topics under `prefix`.
std::vector<codec::bytes> session_template(codec::protocol_version v, const std::string& prefix, std::mt19937& rng);

// One case: the packets (whole frames, possibly mutated into invalid ones) to send.
struct net_case {
  codec::protocol_version version;
  bool fresh_connection = false;  // the case starts with its own (mutated) CONNECT
  std::vector<codec::bytes> frames;
};
net_case make_case(codec::protocol_version v, bool fresh, const std::string& client_id, const std::string& prefix,
                   std::mt19937& rng);

}  // namespace mqttspec::netfuzz
