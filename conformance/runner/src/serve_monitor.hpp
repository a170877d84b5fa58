#pragma once
// What a Client owes the Server on the wire beyond the shape of each packet (the codec checks
// that): CONNECT first, nothing after its DISCONNECT, identifiers not in use, the limits the
// Server's CONNACK set (Maximum Packet Size, Receive Maximum, Topic Alias Maximum, Maximum QoS,
// Retain Available), no AUTH without an Authentication Method, no PUBLISH resent once its PUBREL
// went out. `mqttspec serve` feeds it every packet of a client's connections in both directions; a
// broken rule is a finding that names its statement, whatever the scenario was about. One monitor
// per client: the Session (identifiers in flight) outlives a connection.
#include "mqttspec/codec/codec.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::conformance {

struct monitor_finding {
  std::string statement;  // qualified, e.g. "v5:MQTT-3.3.4-7"
  std::string text;
};

class client_monitor {
 public:
  explicit client_monitor(codec::protocol_version v) : v_(v) {}

  void on_connection();                                       // a new network connection of this client
  void on_client_packet(const codec::packet& p, std::size_t size);  // what the client sent
  void on_server_packet(const codec::packet& p);              // what we sent (CONNACK limits, acks)

  const std::vector<monitor_finding>& findings() const { return findings_; }
  // The Receive Maximum in force (what the last CONNACK said, 65535 without one).
  std::uint16_t receive_maximum() const { return receive_maximum_; }

 private:
  enum class stage { publish1, publish2, pubrel, subscribe, unsubscribe };
  struct flow {
    stage st = stage::publish1;
    std::string topic;     // PUBLISH: to tell a resend from a new message
    std::string payload;
    unsigned connection = 0;   // the connection the PUBLISH was last sent on
    bool counts = false;       // takes a unit of the send quota on that connection
  };
  void finding(const char* v311, const char* v5, std::string text);
  bool v5() const { return codec::is_v5(v_); }
  std::size_t quota_used() const;

  codec::protocol_version v_;
  unsigned connection_ = 0;
  bool seen_first_ = false;
  bool disconnected_ = false;      // the client sent DISCONNECT on this connection
  bool connack_sent_ = false;
  std::optional<std::string> auth_method_;  // of the CONNECT on this connection
  // Limits of the CONNACK on this connection (5.0).
  std::optional<std::uint32_t> max_packet_size_;
  std::uint16_t receive_maximum_ = 65535;
  std::uint16_t topic_alias_maximum_ = 0;
  std::optional<std::uint8_t> maximum_qos_;
  bool retain_available_ = true;
  std::map<std::uint16_t, flow> flows_;  // the client's identifiers in use
  std::vector<monitor_finding> findings_;
};

}  // namespace mqttspec::conformance
