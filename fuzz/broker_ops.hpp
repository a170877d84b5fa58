#pragma once
// The operation language of the `broker` target, shared with its structure-aware mutator.
// One operation is a code byte (kind in the low 3 bits, an argument in the high 5) followed by
// its operands; any byte string is a valid program (missing operands read as zero).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mqttspec::fuzz {

enum class op_kind : std::uint8_t {
  open = 0,     // a transport is accepted
  canned = 1,   // client arg sends canned packet #operand (CONNECT, SUBSCRIBE, ..., AUTH; see canned())
  raw = 2,      // client arg sends operand-length bytes, verbatim
  advance = 3,  // the clock advances by operand * 100 ms; due timers fire
  timer = 4,    // on_timer(now) whether or not anything is due
  drop = 5,     // the transport of client arg closes
  ack = 6,      // client arg answers whatever the broker waits for (PUBACK, PUBREC, PUBREL, PUBCOMP)
  publish = 7,  // client arg publishes: operand picks topic, QoS, RETAIN
};

struct op {
  op_kind kind = op_kind::open;
  std::uint8_t arg = 0;
  std::uint8_t operand = 0;
  std::string bytes;  // raw only
};

inline bool has_operand(op_kind k) { return k == op_kind::canned || k == op_kind::raw || k == op_kind::advance || k == op_kind::publish; }

inline std::vector<op> parse_ops(std::string_view in) {
  std::vector<op> out;
  std::size_t i = 0;
  auto next = [&]() -> std::uint8_t { return i < in.size() ? static_cast<std::uint8_t>(in[i++]) : 0; };
  while (i < in.size()) {
    op o;
    auto code = next();
    o.kind = static_cast<op_kind>(code & 7);
    o.arg = static_cast<std::uint8_t>(code >> 3);
    if (has_operand(o.kind)) o.operand = next();
    if (o.kind == op_kind::raw) {
      auto n = std::min<std::size_t>(o.operand, in.size() - i);
      o.bytes = std::string(in.substr(i, n));
      i += n;
    }
    out.push_back(std::move(o));
  }
  return out;
}

// Raw operations longer than 255 bytes are split into several.
inline std::string serialize_ops(const std::vector<op>& ops) {
  std::string out;
  for (const auto& o : ops) {
    auto code = static_cast<char>(static_cast<std::uint8_t>(o.kind) | o.arg << 3);
    if (o.kind != op_kind::raw) {
      out.push_back(code);
      if (has_operand(o.kind)) out.push_back(static_cast<char>(o.operand));
      continue;
    }
    std::string_view rest = o.bytes;
    do {
      auto piece = rest.substr(0, 255);
      rest.remove_prefix(piece.size());
      out.push_back(code);
      out.push_back(static_cast<char>(piece.size()));
      out.append(piece);
    } while (!rest.empty());
  }
  return out;
}

}  // namespace mqttspec::fuzz
