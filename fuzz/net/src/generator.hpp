#pragma once
// Stateful generation: a script walks the protocol with a model of each client (connected or
// not, its subscriptions, its QoS 2 flows awaiting PUBREL, its topic aliases, whether its Session
// outlives the connection): QoS 0/1/2 in both directions, session resumption, wills, retained
// messages, shared subscriptions (5.0), topic aliases, flow control (small Receive Maximum with
// deliveries left unacknowledged), Maximum Packet Size and an unsupported Authentication Method.
// Then a few steps are mutated with the codec-aware mutator (fields, properties, frames) or as
// raw bytes. The script ends by cleaning up what would outlive it in the broker (retained
// messages, persistent sessions), so long campaigns do not grow the broker's state.
#include "script.hpp"

#include <cstdint>

namespace mqttspec::netfuzz {

struct generator_options {
  // Share of scripts in which steps are mutated; the rest are valid protocol walks, where every
  // oracle (also the ones about the broker's answers to valid requests) applies.
  double mutation_rate = 0.75;
};

// Script `n` of a campaign with `seed`: the same (seed, n, version) always give the same script.
script generate(codec::protocol_version v, std::uint64_t seed, std::uint64_t n, const generator_options& o = {});

// The CONNECT of a probe client (clean start, keep alive 60 s).
codec::bytes probe_connect(codec::protocol_version v, const std::string& client_id);

}  // namespace mqttspec::netfuzz
