// Writes the hand-made seed corpora: make_seeds <corpus dir>. Packets are hand-written hex read
// from the MQTT texts (every packet type, 3.1.1 and 5.0, plus 3.1 CONNECT), so the seeds do not
// depend on our encoder; the `broker` programs are valid connect / subscribe / publish sessions.
#include "../broker_ops.hpp"
#include "mqttspec/codec/codec.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using mqttspec::codec::bytes;
using mqttspec::codec::from_hex;
namespace fs = std::filesystem;

struct hex_packet {
  const char* name;
  int version;  // selector byte: 0 = 3.1, 1 = 3.1.1, 2 = 5.0
  const char* hex;
};

const hex_packet packets[] = {
    {"v31_connect", 0, "10 11 00 06 4d 51 49 73 64 70 03 02 00 3c 00 03 63 6c 31"},
    {"v311_connect", 1, "10 0f 00 04 4d 51 54 54 04 02 00 3c 00 03 63 6c 31"},
    {"v311_connect_will_user_pass", 1,
     "10 23 00 04 4d 51 54 54 04 ee 00 0a 00 01 63 00 03 77 2f 74 00 03 62 79 65 00 04 75 73 65 72 00 04 70 61 73 73"},
    {"v311_connack", 1, "20 02 01 00"},
    {"v311_connack_refused", 1, "20 02 00 05"},
    {"v311_publish_qos0", 1, "30 08 00 03 61 2f 62 68 69 21"},
    {"v311_publish_qos1_retain", 1, "33 09 00 03 61 2f 62 00 01 68 69"},
    {"v311_publish_qos2_dup", 1, "3c 09 00 03 61 2f 62 12 34 68 69"},
    {"v311_publish_long_length", 1, "30 83 00 00 01 61"},
    {"v311_puback", 1, "40 02 00 01"},
    {"v311_pubrec", 1, "50 02 00 02"},
    {"v311_pubrel", 1, "62 02 00 02"},
    {"v311_pubcomp", 1, "70 02 00 02"},
    {"v311_subscribe", 1, "82 0e 00 0a 00 03 61 2f 2b 01 00 03 62 2f 23 02"},
    {"v311_suback", 1, "90 05 00 0a 01 02 80"},
    {"v311_unsubscribe", 1, "a2 07 00 0b 00 03 61 2f 2b"},
    {"v311_unsuback", 1, "b0 02 00 0b"},
    {"v311_pingreq_pingresp_disconnect", 1, "c0 00 d0 00 e0 00"},
    {"v5_connect", 2, "10 10 00 04 4d 51 54 54 05 02 00 3c 00 00 03 63 6c 31"},
    {"v5_connect_props_will", 2,
     "10 37 00 04 4d 51 54 54 05 ce 00 0a 0b 11 00 00 00 3c 21 00 0a 22 00 05 00 01 63 07 18 00 00 00 05 01 01"
     " 00 03 77 2f 74 00 03 62 79 65 00 04 75 73 65 72 00 04 70 61 73 73"},
    {"v5_connack", 2, "20 03 00 00 00"},
    {"v5_connack_props", 2, "20 13 00 00 10 21 00 0a 24 01 25 00 22 00 05 12 00 03 69 64 31"},
    {"v5_connack_refused", 2, "20 03 00 87 00"},
    {"v5_publish_qos0", 2, "30 09 00 03 61 2f 62 00 68 69 21"},
    {"v5_publish_qos1_props", 2,
     "32 22 00 03 61 2f 62 00 07 18 01 01 02 00 00 00 3c 03 00 01 74 08 00 01 72 09 00 01 63 0b 05 23 00 01 68 69"},
    {"v5_publish_qos2_alias", 2, "34 0a 00 00 00 03 03 23 00 01 68 69"},
    {"v5_publish_user_property", 2, "30 13 00 01 74 0e 26 00 01 6b 00 01 76 26 00 01 6b 00 01 77 78"},
    {"v5_puback_short", 2, "40 02 00 01"},
    {"v5_puback_reason", 2, "40 03 00 01 10"},
    {"v5_puback_reason_string", 2, "40 09 00 01 80 05 1f 00 02 6e 6f"},
    {"v5_pubrec", 2, "50 03 00 02 91"},
    {"v5_pubrel", 2, "62 02 00 02"},
    {"v5_pubrel_not_found", 2, "62 04 00 02 92 00"},
    {"v5_pubcomp", 2, "70 02 00 02"},
    {"v5_subscribe", 2, "82 1a 00 0a 02 0b 07 00 03 61 2f 2b 2d 00 0c 24 73 68 61 72 65 2f 67 2f 62 2f 23 02"},
    {"v5_suback", 2, "90 06 00 0a 00 01 02 8f"},
    {"v5_unsubscribe", 2, "a2 08 00 0b 00 00 03 61 2f 2b"},
    {"v5_unsuback", 2, "b0 05 00 0b 00 00 11"},
    {"v5_pingreq", 2, "c0 00"},
    {"v5_pingresp", 2, "d0 00"},
    {"v5_disconnect_short", 2, "e0 00"},
    {"v5_disconnect_will", 2, "e0 08 04 06 1f 00 03 62 79 65"},
    {"v5_auth", 2, "f0 0c 18 0a 15 00 03 61 62 63 16 00 01 78"},
    {"v5_auth_short", 2, "f0 00"},
};

// Property blocks for the `properties` target: byte 0 picks the place (see properties_target.cpp).
const hex_packet property_blocks[] = {
    {"connect", 0, "11 00 00 00 3c 21 00 0a 22 00 05 27 00 00 10 00 19 01 17 00 15 00 03 61 62 63"},
    {"will", 1, "18 00 00 00 05 01 01 02 00 00 00 0a 03 00 01 74 08 00 01 72 09 00 01 63 26 00 01 6b 00 01 76"},
    {"connack", 2, "11 00 00 00 3c 21 00 0a 24 01 25 00 27 00 00 10 00 12 00 02 69 64 22 00 05 1f 00 01 72"
                   " 28 01 29 01 2a 00 13 00 3c 1a 00 01 78 1c 00 01 73 15 00 01 6d 16 00 01 64"},
    {"publish", 3, "01 01 02 00 00 00 3c 23 00 01 08 00 01 72 09 00 02 01 02 26 00 01 6b 00 01 76 0b 05 03 00 01 74"},
    {"puback", 4, "1f 00 02 6e 6f 26 00 01 6b 00 01 76"},
    {"pubrec", 5, "1f 00 02 6e 6f"},
    {"pubrel", 6, "26 00 01 6b 00 01 76"},
    {"pubcomp", 7, "1f 00 00"},
    {"subscribe", 8, "0b 80 01 26 00 01 6b 00 01 76"},
    {"suback", 9, "1f 00 01 78"},
    {"unsubscribe", 10, "26 00 01 6b 00 01 76"},
    {"unsuback", 11, "1f 00 01 78"},
    {"disconnect", 12, "11 00 00 00 00 1f 00 01 78 1c 00 01 73"},
    {"auth", 13, "15 00 03 61 62 63 16 00 01 78 1f 00 01 78"},
};

void write(const fs::path& dir, const std::string& name, const bytes& data) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << data;
}

bytes unhex(const char* hex) {
  auto b = from_hex(hex);
  if (!b) {
    std::fprintf(stderr, "bad hex: %s\n", hex);
    std::exit(1);
  }
  return *b;
}

// Topic programs: a count of operation bytes, the operations, then NUL-separated strings.
void topic_seeds(const fs::path& dir) {
  using namespace std::literals;
  write(dir, "validate_and_match", "\x04\x00\x10\x20\x01"s + "a/b\0a/+\0$SYS/x\0#\0sport\0sport/#\0"s);
  // subscribe (kind 1) c0..c3 with v5 (0x20) and 3.1.1 (0x10) codes, then match (kind 3)
  write(dir, "subscribe_match", "\x08\x21\x01\x25\x02\x2d\x00\x11\x01\x23\x23\x22\x23"s +
                                    "a/+\0#\0$share/g/a/#\0$share/g/a/#\0a/b\0$SYS/x\0a/+\0a/c\0"s);
}

// Broker programs: valid sessions in the operation language of broker_ops.hpp.
void broker_seeds(const fs::path& dir) {
  using mqttspec::fuzz::op;
  using mqttspec::fuzz::op_kind;
  auto o = [](op_kind k, std::uint8_t arg = 0, std::uint8_t operand = 0) { return op{k, arg, operand, {}}; };
  auto raw = [](std::uint8_t client, const char* hex) { return op{op_kind::raw, client, 0, unhex(hex)}; };
  std::vector<std::pair<std::string, std::vector<op>>> programs = {
      // two 5.0 clients: 1 subscribes a/+ QoS 1 (canned 16+0 = SUBSCRIBE filters[0]), 0 publishes QoS 1 and 2
      {"v5_pubsub", {o(op_kind::open), o(op_kind::open), o(op_kind::canned, 0, 0), o(op_kind::canned, 1, 2),
                     o(op_kind::canned, 1, 16 + 1), o(op_kind::publish, 0, 0x08), o(op_kind::publish, 0, 0x10),
                     o(op_kind::ack, 1), o(op_kind::ack, 0), o(op_kind::ack, 1), o(op_kind::advance, 0, 50)}},
      // 3.1.1 clients, retained message then a late subscriber, then a drop with a will
      {"v311_retained_will", {o(op_kind::open), o(op_kind::open), o(op_kind::canned, 0, 3), o(op_kind::publish, 0, 0x28),
                              o(op_kind::canned, 1, 1), o(op_kind::canned, 1, 16 + 6 * 6 + 1),
                              o(op_kind::canned, 1, 16 + 1), o(op_kind::drop, 0), o(op_kind::ack, 1),
                              o(op_kind::advance, 0, 200)}},
      // raw CONNECT bytes (5.0, Receive Maximum 2, topic alias maximum 3), SUBSCRIBE #, flood QoS 1
      {"v5_raw_flow_control", {o(op_kind::open), o(op_kind::open),
                               raw(0, "10 16 00 04 4d 51 54 54 05 02 00 0a 06 21 00 02 22 00 03 00 03 63 6c 31"),
                               raw(0, "82 08 00 01 00 00 01 23 01"),
                               raw(1, "10 0f 00 04 4d 51 54 54 04 02 00 0a 00 03 63 6c 32"),
                               o(op_kind::publish, 1, 0x08), o(op_kind::publish, 1, 0x09), o(op_kind::publish, 1, 0x0a),
                               o(op_kind::publish, 1, 0x10), o(op_kind::ack, 0, 16), o(op_kind::ack, 0),
                               o(op_kind::ack, 0), o(op_kind::ack, 1)}},
      // persistent session: subscribe, disconnect, messages queued, resume
      {"v5_persistent_resume", {o(op_kind::open), o(op_kind::open), o(op_kind::canned, 0, 12), o(op_kind::canned, 0, 16 + 1),
                                o(op_kind::canned, 0, 16 + 4), o(op_kind::canned, 1, 2), o(op_kind::publish, 1, 0x08),
                                o(op_kind::publish, 1, 0x10), o(op_kind::open), o(op_kind::canned, 2, 12),
                                o(op_kind::ack, 2), o(op_kind::ack, 2), o(op_kind::ack, 2)}},
      // keep alive expiry and the connect timeout
      {"timeouts", {o(op_kind::open), o(op_kind::open), o(op_kind::canned, 0, 0), o(op_kind::advance, 0, 160),
                    o(op_kind::timer), o(op_kind::canned, 1, 1)}},
  };
  for (const auto& [name, ops] : programs) write(dir, name, mqttspec::fuzz::serialize_ops(ops));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds <corpus dir>\n");
    return 2;
  }
  const fs::path root(argv[1]);
  // Seeds that do not decode are still fine inputs, but a typo should not go unnoticed.
  for (const auto& p : packets) {
    const auto v = p.version == 0 ? mqttspec::codec::protocol_version::v3_1
                                  : p.version == 1 ? mqttspec::codec::protocol_version::v3_1_1 : mqttspec::codec::protocol_version::v5;
    mqttspec::codec::bytes_view rest = unhex(p.hex);
    const auto all = unhex(p.hex);
    rest = all;
    while (!rest.empty()) {
      auto f = mqttspec::codec::parse_frame(rest);
      if (!f) { std::fprintf(stderr, "seed %s: %s\n", p.name, f.error().message().c_str()); break; }
      if (auto d = mqttspec::codec::decode(f.value(), v); !d)
        std::fprintf(stderr, "seed %s does not decode: %s\n", p.name, d.error().message().c_str());
      rest.remove_prefix(f->bytes.size());
    }
    write(root / "decode", p.name, std::string(1, static_cast<char>(p.version)) + '\x10' + unhex(p.hex));
  }
  for (const auto& p : property_blocks) write(root / "properties", p.name, std::string(1, static_cast<char>(p.version)) + unhex(p.hex));
  topic_seeds(root / "topic");
  broker_seeds(root / "broker");
  return 0;
}
