// Target `runner`: the conformance runner's expectation engine fed hostile broker bytes, as when
// it certifies someone else's broker. Byte 0 picks the version, byte 1 the framer's chunk size;
// the rest is what "the broker" sent. Every frame goes through the framer and the decoder the
// runner uses, and every decoded packet through the predicate matcher with a set of expectations
// taken from real scenarios, plus the helpers that read reason codes and properties.
// Oracles: no crash; an empty expectation matches anything; "type=<its own type>" matches.
#include "fuzz_common.hpp"
#include "mqttspec/conformance/predicates.hpp"

#include <vector>

namespace {

using namespace mqttspec::codec;
namespace mc = mqttspec::conformance;

const std::vector<mc::attributes>& expectations() {
  static const std::vector<mc::attributes> all = {
      {{"type", "CONNACK"}, {"reason", "0x00"}, {"session-present", "0"}},
      {{"type", "connack"}, {"reason", "0x80|0x81|0x82|0x84"}},
      {{"type", "PUBLISH"}, {"qos", "1"}, {"retain", "0"}, {"topic", "a/b"}, {"payload", "hello"}},
      {{"type", "PUBLISH"}, {"payload-hex", "00ff"}, {"dup", "1"}, {"id", "7"}},
      {{"type", "SUBACK"}, {"id", "1"}, {"codes", "0x00,0x01,0x80"}},
      {{"type", "UNSUBACK"}, {"codes", "0x11"}},
      {{"type", "PUBACK"}, {"reason", "0x10|0x00"}},
      {{"type", "DISCONNECT"}, {"reason", "0x81|0x82"}},
      {{"reason", "not-a-number"}},
      {{"type", "PINGRESP"}},
  };
  return all;
}

const std::vector<std::vector<mc::attributes>>& property_checks() {
  static const std::vector<std::vector<mc::attributes>> all = {
      {},
      {{{"name", "receive-maximum"}, {"value", "10"}}},
      {{{"name", "reason-string"}, {"present", "1"}}, {{"name", "user-property"}, {"value", "k=v"}}},
      {{{"name", "topic-alias"}, {"absent", "1"}}},
  };
  return all;
}

void check_packet(const packet& p, protocol_version v, std::uint8_t pick) {
  MQTTSPEC_FUZZ_CHECK(!mc::match(p, {}, {}, v), "an empty expectation did not match " + to_string(p));
  const mc::attributes own{{"type", std::string(to_string(type_of(p)))}};
  MQTTSPEC_FUZZ_CHECK(!mc::match(p, own, {}, v), "type=" + own.at("type") + " did not match its own packet");
  const auto& e = expectations()[pick % expectations().size()];
  const auto& props = property_checks()[pick / 16 % property_checks().size()];
  (void)mc::match(p, e, props, v);
  (void)mc::describe_expectation(e, props);
  (void)mc::wire_reason(p, v);
  if (const auto* pr = mc::properties_of(p)) (void)mc::property_values(*pr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mqttspec::fuzz::input_reader in(data, size);
  const auto v = mqttspec::fuzz::pick_version(in.u8());
  const auto pick = in.u8();
  const std::size_t chunk = in.u8() % 32 + 1;
  const bytes_view stream = in.rest();
  framer fr;
  for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
    fr.feed(stream.substr(pos, chunk));
    for (;;) {
      auto f = fr.next();
      if (!f) {
        if (f.error().code != errc::need_more) return 0;  // the runner records a malformed reply and stops reading
        break;
      }
      auto d = decode(f.value(), v);
      if (!d) {
        (void)d.error().message();  // the runner reports it with its statement
        continue;
      }
      check_packet(d.value(), v, pick);
    }
  }
  return 0;
}
