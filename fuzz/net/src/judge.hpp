#pragma once
// The conformance oracle of one client connection. It reads both directions: what the fuzzer sent
// (so it knows the version the broker could know, the requests awaiting an answer, the limits the
// client set, and whether the client broke a rule) and what the broker sent back. A problem names
// a version-qualified statement, judged by what the broker could know at that point:
//  - before the broker has read a valid CONNECT it cannot know the version: only "the first
//    packet is CONNACK" and "a refusing CONNACK is followed by a close" apply, and a CONNACK is
//    read in either version's form;
//  - once it has, every packet must decode as a valid server packet of that version;
//  - a broker that answers the PINGREQ sent after a packet breaking a rule (or accepts a CONNECT
//    breaking one) has not closed the connection as that rule requires;
//  - while everything the client sent was valid: acknowledgements echo an outstanding request's
//    Packet Identifier, a SUBACK / UNSUBACK has one code per filter, and the 5.0 limits the client
//    set (Maximum Packet Size, Topic Alias Maximum, Receive Maximum) hold.
// Rules without a numbered statement are named by their section ("v5:2.1.2").
#include "mqttspec/codec/codec.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mqttspec::netfuzz {

struct problem {
  std::string statement;    // version-qualified: "v5:MQTT-3.2.0-1", "v3.1.1:2.2.1"
  std::string rule;         // which check: "first-connack", "decode", "accepted-invalid", ...
  std::string rule_text;    // the rule in words (shown when the catalog has no text)
  std::string observation;  // what the broker did, without run-specific values where possible
  std::string hex;          // the broker's bytes that broke it (or the client's, for accepted-invalid)
};

// "v5" / "v3.1.1" qualifier of a version (3.1 is judged by the 3.1.1 rules).
std::string qualifier(codec::protocol_version v);

class judge {
 public:
  explicit judge(codec::protocol_version intended) : intended_(intended) {}

  // Bytes the client sent (MQTT stream, in order).
  void sent(codec::bytes_view data);
  // Bytes the broker sent; valid packets are appended to `out`.
  void received(codec::bytes_view data, std::vector<codec::owned_packet>& out);

  const std::optional<problem>& found() const { return problem_; }

  // For the player.
  bool sent_whole_frames() const { return sent_ok_framing_ && sent_buf_.empty(); }
  // Whether the client's stream would be whole frames after sending `data` too.
  bool whole_after(codec::bytes_view data) const;
  std::size_t pings_sent() const { return pings_sent_; }
  std::size_t pingresps() const { return pingresps_; }
  bool accepted() const { return accepted_; }    // a CONNACK with code 0 came
  bool refused() const { return refused_; }      // a CONNACK >= 0x80 came
  bool disconnected() const { return server_disconnect_; }
  // The client's Maximum Packet Size is so small that the broker may have to drop its CONNACK
  // and answers (v5:MQTT-3.1.2-25): silence is no sign of trouble, and what comes first is not
  // judged.
  bool silence_allowed() const { return max_packet_size_ && max_packet_size_ < tiny_packet_size; }
  static constexpr std::uint32_t tiny_packet_size = 64;
  // The version the broker could know: that of the CONNECT it read (valid, or at least with a
  // readable protocol level), else the one the client meant.
  codec::protocol_version version() const { return known_ ? *known_ : level_ ? *level_ : intended_; }

 private:
  struct violation {
    std::string statement, text, hex;
    std::size_t ping_after = 0;  // the PINGREQ (1-based count) sent after it
    bool in_connect = false;     // the first frame (the CONNECT, or what came instead) broke it
  };
  void on_sent_frame(const codec::frame& f);
  void on_received_frame(const codec::frame& f, std::vector<codec::owned_packet>& out);
  void judge_packet(const codec::packet& p, codec::bytes_view raw);
  void client_violation(std::string statement, std::string text, codec::bytes_view raw);
  void acked(std::uint16_t id);
  void fail(std::string statement, std::string rule, std::string rule_text, std::string observation,
            codec::bytes_view raw);
  std::string q(std::string_view label) const;  // qualified by the version the broker could know

  codec::protocol_version intended_;
  std::optional<codec::protocol_version> known_;  // set by a valid CONNECT
  std::optional<codec::protocol_version> level_;  // the CONNECT's readable level, valid or not
  std::optional<problem> problem_;

  // Client side.
  codec::bytes sent_buf_;  // sent bytes after the last whole frame
  bool sent_ok_framing_ = true;
  std::size_t sent_frames_ = 0;
  bool first_frame_ = false;  // the frame being judged is the connection's first
  bool partial_ = false;      // a step ended inside a frame
  std::size_t pings_sent_ = 0;
  bool connect_valid_ = false;
  std::optional<violation> violation_;  // the first rule the client broke
  bool clean_start_ = true;
  std::optional<std::string> auth_method_;
  std::uint32_t max_packet_size_ = 0;  // 0: none set
  std::uint16_t topic_alias_max_ = 0;
  std::uint16_t receive_max_ = 65535;
  std::uint16_t server_alias_max_ = 0;  // from the CONNACK
  std::set<std::uint16_t> client_aliases_;
  std::map<std::uint16_t, std::vector<std::size_t>> subscribes_, unsubscribes_;  // id -> filter counts
  std::set<std::uint16_t> qos1_ids_, qos2_ids_, pubrel_ids_;
  std::set<std::uint16_t> inflight_;  // broker's QoS 1/2 PUBLISHes the client has not acknowledged
  // Acks the client sent for an identifier not in flight: the broker may take one for the
  // acknowledgement of a PUBLISH it sends with that identifier meanwhile (they cross).
  std::set<std::uint16_t> early_acks_;

  // Broker side.
  codec::framer recv_framer_;
  std::size_t recv_frames_ = 0;
  std::size_t pingresps_ = 0;
  bool connack_ = false, accepted_ = false, refused_ = false, server_disconnect_ = false;
  bool rejected_since_violation_ = false;  // a reason code >= 0x80 came after the violation
};

}  // namespace mqttspec::netfuzz
