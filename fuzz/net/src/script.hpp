#pragma once
// A fuzz case: a script of steps over one to three client connections, played from a fresh start.
// Every name the script uses (client identifiers, topics, share names) contains its token, so a
// replay under a new token of the same length touches none of the state an earlier play left in
// the broker: the substitution keeps every length, hence every frame, intact.
#include "mqttspec/codec/codec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::netfuzz {

// open: a new network connection for the slot (closing the old one); send: bytes on it; close:
// the client drops the connection without DISCONNECT (wills fire).
enum class step_op : std::uint8_t { open, send, close };

struct step {
  step_op op = step_op::send;
  std::uint8_t conn = 0;
  codec::bytes data;     // send: whole frames, or anything after a mutation
  bool mutated = false;  // changed by the mutator (informational)
  // open: whether the connection's deliveries are acknowledged (PUBACK, PUBREC, PUBCOMP) by the
  // player; off, the broker's flow control for that client is what a step exercises.
  bool auto_ack = true;
  friend bool operator==(const step&, const step&) = default;
};

inline step open_step(std::uint8_t conn, bool auto_ack = true) {
  step s;
  s.op = step_op::open;
  s.conn = conn;
  s.auto_ack = auto_ack;
  return s;
}
inline step send_step(std::uint8_t conn, codec::bytes data) {
  step s;
  s.conn = conn;
  s.data = std::move(data);
  return s;
}
inline step close_step(std::uint8_t conn) {
  step s;
  s.op = step_op::close;
  s.conn = conn;
  return s;
}

struct script {
  codec::protocol_version version = codec::protocol_version::v5;
  std::string token;  // in every name of the script; token_length characters
  std::vector<step> steps;
  // Played after the steps, also when a finding ended them early: removes what the script would
  // leave in the broker (retained messages, sessions). Not minimized.
  std::vector<step> cleanup;
  friend bool operator==(const script&, const script&) = default;
};

inline constexpr std::size_t token_length = 10;  // "nf" + 8 base-36 characters

// A fresh token from a random number: "nf" + 8 characters of [0-9a-z].
std::string make_token(std::uint64_t random);

// The script with every occurrence of its token replaced by `token` (same length).
script with_token(const script& s, const std::string& token);

// Number of connection slots the script uses.
std::size_t connection_count(const script& s);

// The prefix of the script up to and including step `last` (indexes past the steps count into
// the cleanup, which is otherwise kept whole).
script prefix(const script& s, std::size_t last);

}  // namespace mqttspec::netfuzz
