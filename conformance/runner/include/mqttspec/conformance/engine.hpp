#pragma once
// Plays one scenario against a broker and judges it. Each call owns its io_context, so callers run
// scenarios in parallel on as many threads as they like. Every wait has a deadline; nothing sleeps.
#include "mqttspec/conformance/capabilities.hpp"
#include "mqttspec/conformance/packet_builder.hpp"
#include "mqttspec/conformance/scenario.hpp"
#include "mqttspec/conformance/verdict.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace asio::ssl {
class context;
}

namespace mqttspec::conformance {

struct target {
  std::string host = "127.0.0.1";
  std::string port = "1883";
  // Set: MQTT over WebSocket (MQTT section 6), upgraded at this request path; every packet then
  // travels in binary frames.
  std::optional<std::string> ws_path{};
  bool secure = false;  // shown as wss:// (the TLS itself is engine_options::tls)
  // host:port, or the ws:// / wss:// URL; parse_target reads both back.
  std::string display() const;
};

// The runner as a client of enhanced authentication (5.0 §4.12): scenarios that require
// "enhanced-auth" authenticate with these. Only SCRAM-SHA-256 is spoken.
struct enhanced_auth_credentials {
  std::string method;
  std::string user;
  std::string password;
};

struct engine_options {
  target broker;
  std::chrono::milliseconds timeout{2000};  // default deadline of each expectation
  // The ceiling of an <expect eventual="1">: behaviour the spec sets no deadline for (a resend on
  // session resumption, queued delivery) may come this late and still pass.
  std::chrono::milliseconds eventual_timeout{30000};
  credentials cred;
  // Set: ${auth.method}, ${auth.user} and ${scram.client-first} are defined, and an <expect
  // scram="server-first"> reads the broker's challenge and defines ${scram.client-final} and the
  // ${scram.server-final} a broker that knows the password must answer with.
  std::optional<enhanced_auth_credentials> enhanced_auth;
  std::string run_token;  // unique per run; with the scenario's index it makes ${prefix}
  // Set: every connection speaks TLS with this context (transport::make_client_context), and the
  // broker's certificate must name broker.host unless tls_verify is false (--insecure).
  std::shared_ptr<asio::ssl::context> tls;
  bool tls_verify = true;
};

// ${prefix} for the index-th scenario of a run: short and alphanumeric, so client ids built from it
// stay within the 23 characters every 3.1.1 Server accepts.
std::string make_prefix(const std::string& run_token, std::size_t index);
std::string make_run_token();

scenario_result run_scenario(const scenario& s, const engine_options& o, const capability_set& caps,
                             std::size_t index);


}  // namespace mqttspec::conformance
