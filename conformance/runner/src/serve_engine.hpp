#pragma once
// Plays one client scenario: the runner is the Server, a driver process makes the client library
// under test act. Each call owns its io_context and its listener, so scenarios run in parallel.
#include "mqttspec/conformance/packet_builder.hpp"
#include "mqttspec/conformance/verdict.hpp"
#include "serve_driver.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::conformance {

struct serve_options {
  std::vector<std::string> driver;  // argv; the runner appends --host, --port, --client-id, --version
  std::string host = "127.0.0.1";
  unsigned port = 0;  // 0: a free port for this scenario
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds eventual_timeout{10000};
  std::string run_token;
};

scenario_result serve_scenario(const scenario& s, const serve_options& o, std::size_t index);

// The Server's packets by fields: CONNACK (session-present, reason: a 3.1.1 return code or a 5.0
// reason code), SUBACK and UNSUBACK (id, codes), and everything build_send makes.
build_result build_server_send(const attributes& a, const std::vector<attributes>& topics,
                               const std::vector<attributes>& props, codec::protocol_version v);

// The shared field predicates (predicates.hpp) plus the fields of packets only a Client sends:
// CONNECT (clean, keep-alive, client-id, username, password, no-credentials, will-topic,
// will-payload, will-qos, will-retain, no-will, session-expiry), SUBSCRIBE and UNSUBSCRIBE (filter,
// qos of the first filter, or every filter as <topic> children, in order).
std::optional<std::string> match_client_packet(const codec::owned_packet& p, const attributes& a,
                                               const std::vector<attributes>& topics,
                                               const std::vector<attributes>& props, codec::protocol_version v);

// An <expect-app>: the event's kind and fields (topic and payload compared as bytes).
std::optional<std::string> match_app_event(const app_event& e, const attributes& a);

}  // namespace mqttspec::conformance
