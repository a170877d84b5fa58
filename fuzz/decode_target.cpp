// Target `decode`: byte 0 picks the version (3.1, 3.1.1, 5.0), byte 1 the framer's feed size, the
// rest is a byte stream.
// Oracles:
//  - the incremental framer, fed the stream in fuzzer-chosen chunks, yields exactly the frames
//    parse_frame finds one after the other (and the same error);
//  - every frame that decodes also encodes, and decoding the encoding gives the same packet;
//  - the encoding is canonical: never longer than the input, a fixed point of decode+encode, and
//    equal to the input when the input has no freedom of form (see is_canonical_form).
#include "fuzz_common.hpp"

#include <vector>

namespace {

using namespace mqttspec::codec;
using mqttspec::fuzz::input_reader;

// Whether the wire form of this decoded packet is fixed by its content, so re-encoding must
// reproduce the input byte for byte. The freedoms MQTT leaves a sender:
//  - a non-minimal Remaining Length (allowed before 5.0);
//  - 5.0 properties: any order, and user properties interleaved with others;
//  - 5.0 acks, DISCONNECT and AUTH: the Reason Code and Property Length may be omitted when
//    they are Success / empty, or spelled out.
bool is_canonical_form(const frame& f, const packet& p, protocol_version v) {
  if (!f.minimal_length) return false;
  // A CONNECT carries its own version (the decoder follows its Protocol Level).
  if (const auto* c = std::get_if<connect>(&p)) v = c->version;
  if (!is_v5(v)) return true;
  bool has_props = false;
  std::visit([&](const auto& x) {
    if constexpr (requires { x.props; }) has_props = !x.props.empty();
    if constexpr (requires { x.will; }) has_props = has_props || (x.will && !x.will->props.empty());
  }, p);
  if (has_props) return false;
  switch (type_of(p)) {
    case packet_type::puback: case packet_type::pubrec: case packet_type::pubrel:
    case packet_type::pubcomp: case packet_type::disconnect: case packet_type::auth:
      return false;
    default:
      return true;
  }
}

void check_frame(const frame& f, protocol_version v) {
  auto d = decode(f, v);
  if (!d) {
    // Errors must carry an offset inside the frame.
    MQTTSPEC_FUZZ_CHECK(d.error().offset <= f.bytes.size(), "error offset past the frame: " + d.error().message());
    MQTTSPEC_FUZZ_CHECK(d.error().code != errc::need_more, "decode of a whole frame said need_more");
    return;
  }
  const packet& p = d.value();
  auto e = encode(p, v);
  MQTTSPEC_FUZZ_CHECK(e.has_value(), "decoded packet does not encode: " + to_string(p) + ": " +
                                         (e ? std::string() : e.error().message()));
  const bytes& enc = e.value();
  auto size = encoded_size(p, v);
  MQTTSPEC_FUZZ_CHECK(size && *size == enc.size(), "encoded_size disagrees with encode");
  auto again = decode(bytes_view(enc), v);
  MQTTSPEC_FUZZ_CHECK(again.has_value(), "re-encoding does not decode: " + to_string(p) + " -> " + to_hex(enc) +
                                             ": " + (again ? std::string() : again.error().message()));
  MQTTSPEC_FUZZ_CHECK(again.value() == p, "round trip changed the packet: " + to_string(p) + " vs " +
                                              to_string(again.value()));
  MQTTSPEC_FUZZ_CHECK(enc.size() <= f.bytes.size(), "encoding longer than the input: " + to_hex(f.bytes) +
                                                         " -> " + to_hex(enc));
  // The encoding is a fixed point of decode+encode: decoding it gave the same packet (checked
  // above), and encode is a function of the packet, so a third encode would only repeat itself.
  if (is_canonical_form(f, p, v))
    MQTTSPEC_FUZZ_CHECK(enc == f.bytes, "canonical input re-encodes differently: " + to_hex(f.bytes) + " -> " +
                                            to_hex(enc));
  // The printer must cope with whatever decoded.
  (void)to_string(p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input_reader in(data, size);
  const protocol_version v = mqttspec::fuzz::pick_version(in.u8());
  const std::uint8_t chunk = static_cast<std::uint8_t>(in.u8() % 16 + 1);  // framer feed size
  const bytes_view stream = in.rest();

  // Reference: parse_frame repeatedly over the stream.
  std::vector<bytes_view> frames;  // views into the input: no copies
  std::optional<errc> end_error;
  for (bytes_view rest = stream;;) {
    auto f = parse_frame(rest);
    if (!f) {
      end_error = f.error().code;
      break;
    }
    MQTTSPEC_FUZZ_CHECK(f->bytes.size() >= 2 && f->bytes.size() <= rest.size() &&
                            f->header_size >= 2 && f->header_size <= 5,
                        "parse_frame returned an impossible frame");
    frames.emplace_back(f->bytes);
    check_frame(f.value(), v);
    if (is_v5(v) && !f->minimal_length) {
      // A 5.0 decoder must refuse a non-minimal Remaining Length (v5:MQTT-1.5.5-1).
      MQTTSPEC_FUZZ_CHECK(!decode(f.value(), v), "5.0 accepted a non-minimal Remaining Length");
    }
    rest.remove_prefix(f->bytes.size());
  }

  // The framer fed in chunks must agree.
  framer fr;
  std::size_t index = 0;
  std::optional<errc> fr_error;
  for (std::size_t pos = 0; pos <= stream.size() && !fr_error; pos += chunk) {
    fr.feed(stream.substr(pos, chunk));
    for (;;) {
      auto f = fr.next();
      if (!f) {
        if (f.error().code != errc::need_more) fr_error = f.error().code;
        break;
      }
      MQTTSPEC_FUZZ_CHECK(index < frames.size() && f->bytes == frames[index], "framer and parse_frame disagree");
      ++index;
    }
  }
  MQTTSPEC_FUZZ_CHECK(index == frames.size(), "framer found fewer frames than parse_frame");
  MQTTSPEC_FUZZ_CHECK(fr_error.value_or(errc::need_more) == end_error.value_or(errc::need_more),
                      "framer and parse_frame end with different errors");
  return 0;
}
