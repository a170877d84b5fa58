// mqttspec-broker: the reference MQTT 3.1, 3.1.1 and 5.0 broker.
#include "mqttspec/broker/scram_method.hpp"
#include "mqttspec/broker/server.hpp"
#include "mqttspec/broker/sqlite_store.hpp"
#include "mqttspec/transport/tls.hpp"
#include "password_file.hpp"
#include "test_fault.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  using namespace mqttspec;
  broker::server_options options;
  auto& core = options.core;
  std::string password_path, hash_user, level = "info", persistence_path, sync = "always";
  std::vector<std::string> scram_users;
  unsigned max_qos = 2, max_granted_qos = 2;
  bool trace = false;
  transport::tls_server_options tls;

  CLI::App app{"mqttspec-broker: reference MQTT 3.1.1 and 5.0 broker"};
  app.set_config("--config", "", "read options from a file (one `name = value` per line, names as the long flags)");
  app.add_option("--port,-p", options.port, "TCP port; 0 picks a free one and prints it")->capture_default_str();
  app.add_option("--bind", options.bind, "address to listen on")->capture_default_str();
  app.add_option("--ws-port", options.ws_port,
                 "also listen here for MQTT over WebSocket (subprotocol mqtt; wss with --tls-cert); 0 picks a free one");
  app.add_option("--max-packet-size", core.limits.maximum_packet_size, "largest packet accepted, bytes")
      ->check(CLI::Range(std::size_t{16}, codec::max_packet_size));
  app.add_option("--receive-maximum", core.receive_maximum, "QoS 2 messages in flight per client (5.0)")
      ->check(CLI::Range(1, 65535))->capture_default_str();
  app.add_option("--topic-alias-maximum", core.limits.topic_alias_maximum, "topic aliases accepted per connection (5.0)")
      ->capture_default_str();
  app.add_option("--max-qos", max_qos, "highest QoS supported")->check(CLI::Range(0, 2))->capture_default_str();
  app.add_option("--retain-available", core.retain_available, "support retained messages")->capture_default_str();
  app.add_option("--max-queued-messages", core.max_queued_messages,
                 "messages queued per session; when full, QoS 0 ones are dropped first (counted)")
      ->capture_default_str();
  app.add_option("--max-queued-bytes", core.max_queued_bytes, "bytes queued per session, 0: no limit")
      ->capture_default_str();
  app.add_option("--max-topic-levels", core.max_topic_levels,
                 "levels of a Topic Name or Filter; beyond: PUBACK/PUBREC 0x90, SUBACK 0x8F (3.1.1: close, 0x80); "
                 "0: no limit")
      ->capture_default_str();
  app.add_option("--max-topic-length", core.max_topic_length,
                 "bytes of a Topic Name or Filter, treated as --max-topic-levels; 0: no limit")
      ->capture_default_str();
  app.add_option("--max-subscriptions", core.max_subscriptions,
                 "subscriptions per session; beyond: SUBACK 0x97 (3.1.1: 0x80); 0: no limit")
      ->capture_default_str();
  app.add_option("--max-retained-messages", core.max_retained_messages,
                 "retained messages in total; beyond, new topics are routed but not retained; 0: no limit")
      ->capture_default_str();
  app.add_option("--max-retained-bytes", core.max_retained_bytes,
                 "bytes of retained messages in total, treated as --max-retained-messages; 0: no limit")
      ->capture_default_str();
  app.add_option("--max-write-backlog", options.max_write_backlog,
                 "bytes queued for a client that does not read: beyond half, QoS 0 messages to it are dropped "
                 "(counted); beyond it, the connection is closed")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40))
      ->capture_default_str();
  app.add_option("--session-expiry-cap", core.session_expiry_cap, "largest session expiry granted, seconds");
  app.add_option("--server-keep-alive", core.server_keep_alive, "override the clients' keep-alive, seconds (5.0)");
  // Other behaviours the spec allows, for checking the conformance suite against them.
  app.add_flag("--retained-before-suback", core.retained_before_suback,
               "send the retained messages a SUBSCRIBE matches before its SUBACK");
  app.add_option("--send-quota", core.send_quota,
                 "outbound QoS 1/2 messages in flight per client, also under its Receive Maximum")
      ->check(CLI::Range(1, 65535))->capture_default_str();
  app.add_option("--max-granted-qos", max_granted_qos,
                 "highest QoS a SUBACK grants; unlike --max-qos, PUBLISH of any QoS is still accepted")
      ->check(CLI::Range(0, 2))->capture_default_str();
  app.add_option("--resend-delay-ms", core.resend_delay,
                 "a resumed session's resends and queued messages wait this long after the CONNACK")
      ->capture_default_str();
  app.add_flag("--specific-reason-codes", core.specific_reason_codes,
               "5.0: close with the specific reason code of a protocol error or malformed packet "
               "(e.g. 0x94, 0x90, 0x8F, 0x8C) instead of 0x82/0x81");
  app.add_option("--allow-anonymous", core.allow_anonymous, "accept clients without a user name")->capture_default_str();
  app.add_option("--password-file", password_path, "user:pbkdf2-sha256:iterations:salt:hash lines");
  app.add_option("--scram-user", scram_users,
                 "USER:PASSWORD (repeatable): offer the 5.0 Authentication Method SCRAM-SHA-256 to this user; "
                 "keys are derived at startup with a random salt, the password is not kept")
      ->check([](const std::string& v) { return broker::parse_scram_user(v) ? "" : "expected USER:PASSWORD"; });
  app.add_option("--auth-threads", options.auth_threads,
                 "threads for password checks and SCRAM steps; 0: on the thread that serves every connection "
                 "(a login then holds up all clients; for comparison)")
      ->capture_default_str();
  app.add_option("--connect-timeout-ms", core.limits.connect_timeout, "close connections that send no CONNECT (or finish no authentication) in time")
      ->capture_default_str();
  app.add_option("--max-connections", options.max_connections, "simultaneous connections")->capture_default_str();
  app.add_option("--tls-cert", tls.cert.file, "PEM certificate chain: the listener speaks TLS only");
  app.add_option("--tls-key", tls.key.file, "PEM private key of --tls-cert");
  app.add_option("--tls-client-ca", tls.ca.file, "PEM CAs: clients must present a certificate one of them signed");
  app.add_option("--persistence", persistence_path,
                 "keep durable sessions (their subscriptions, queued and in-flight QoS 1/2 messages, wills) and "
                 "retained messages in this SQLite file (WAL journal: FILE-wal beside it), restored at startup");
  app.add_option("--sync", sync,
                 "with --persistence: always (every write on disk before the packets it allows leave) or batch "
                 "(written before they leave, flushed to disk about once a second)")
      ->check(CLI::IsMember({"always", "batch"}))
      ->capture_default_str();
  std::string test_fault;  // TEST ONLY: see test_fault.hpp
  app.add_option("--test-fault", test_fault,
                 "TEST ONLY, for the network fuzzer's tests: crash, hang or misbehave when a client sends the bytes "
                 "EF BB BF (plain TCP listener)")
      ->check(CLI::IsMember({"crash", "hang", "misbehave"}));
  app.add_option("--log-level", level, "error, warning, info, debug or trace")
      ->check(CLI::IsMember({"error", "warning", "info", "debug", "trace"}));
  app.add_flag("--trace,-v", trace, "log every packet in and out, decoded (like mosquitto -v)");
  app.add_option("--hash-password", hash_user, "print a password file line for USER (password read from stdin) and exit");
  CLI11_PARSE(app, argc, argv);

  if (!hash_user.empty()) {
    std::string password;
    std::getline(std::cin, password);
    std::cout << broker::password_file::make_line(hash_user, password) << '\n';
    return 0;
  }
  core.maximum_qos = static_cast<codec::qos>(max_qos);
  core.max_granted_qos = static_cast<codec::qos>(max_granted_qos);
  if (trace) level = "trace";
  const std::map<std::string, broker::log_level> levels{{"error", broker::log_level::error},
                                                         {"warning", broker::log_level::warning},
                                                         {"info", broker::log_level::info},
                                                         {"debug", broker::log_level::debug},
                                                         {"trace", broker::log_level::trace}};
  options.level = levels.at(level);
  options.log = &std::clog;

  std::optional<broker::password_file> passwords;
  if (!password_path.empty()) {
    std::string error;
    passwords = broker::password_file::load(password_path, error);
    if (!passwords) {
      std::cerr << "mqttspec-broker: " << error << '\n';
      return 2;
    }
    core.authenticate = [&passwords](std::string_view user, std::optional<codec::bytes_view> password) {
      return password && passwords->check(user, *password);
    };
  }

  if (!scram_users.empty()) {
    std::vector<broker::scram_user> users;
    for (const auto& u : scram_users) users.push_back(*broker::parse_scram_user(u));
    core.enhanced_auth[std::string(auth::scram::method_name)] = broker::make_scram_sha256(users);
  }

  if (!tls.cert.empty() || !tls.key.empty() || !tls.ca.empty()) {
    auto ctx = transport::make_server_context(tls);
    if (!ctx) {
      std::cerr << "mqttspec-broker: " << ctx.error() << '\n';
      return 2;
    }
    options.tls = *ctx;
  }

  if (!persistence_path.empty()) {
    std::string error;
    auto store = broker::sqlite_store::open(persistence_path, sync == "batch" ? broker::sync_mode::batch
                                                                              : broker::sync_mode::always, error);
    if (!store) {
      std::cerr << "mqttspec-broker: " << error << '\n';
      return 2;
    }
    options.store = std::move(store);
  }

  try {
    asio::io_context io;
    // Before the server listens: a SIGTERM that follows the first connection must stop it cleanly,
    // not find the default action still in place (signals before async_wait are kept for it).
    asio::signal_set signals(io, SIGINT, SIGTERM);
    // --test-fault: the broker moves to an internal port behind a faulty relay on --port.
    const auto public_port = options.port;
    if (!test_fault.empty()) options.port = 0;
    broker::server server(io, options);
    std::unique_ptr<broker::test_fault::relay> relay;
    if (!test_fault.empty())
      relay = std::make_unique<broker::test_fault::relay>(
          io, options.bind, public_port, server.port(),
          test_fault == "crash" ? broker::test_fault::mode::crash
          : test_fault == "hang" ? broker::test_fault::mode::hang : broker::test_fault::mode::misbehave);
    std::cout << "mqttspec-broker listening on " << options.bind << ":" << (relay ? relay->port() : server.port())
              << (options.tls ? " (TLS)" : "");
    if (options.ws_port) std::cout << ", " << (options.tls ? "wss" : "ws") << "://" << options.bind << ":" << server.ws_port();
    std::cout << std::endl;
    signals.async_wait([&](std::error_code, int) {
      server.stop();
      if (relay) relay->stop();
    });
    io.run();
  } catch (const std::system_error& e) {
    std::cerr << "mqttspec-broker: " << e.what() << '\n';
    return 1;
  } catch (const std::runtime_error& e) {  // the persistence file could not be read or written
    std::cerr << "mqttspec-broker: " << e.what() << '\n';
    return 2;
  }
  return 0;
}
