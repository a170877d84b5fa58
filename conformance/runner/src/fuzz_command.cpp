#include "fuzz_command.hpp"

#include "mqttspec/broker/embedded.hpp"
#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/netfuzz/net_fuzz.hpp"
#include "mqttspec/transport/tls.hpp"

#include <asio/ssl/context.hpp>

#include <iostream>
#include <memory>

namespace mqttspec::conformance {

namespace {

// A shell word: the command line a report shows for rerunning a case must paste as it is.
std::string shell_word(const std::string& s) {
  if (!s.empty() && s.find_first_of(" '\"\\$`;&|<>(){}*?!#~") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::function<int()> add_fuzz_command(CLI::App& app, CLI::App*& sub) {
  struct settings {
    netfuzz::net_fuzz_options options;
    std::string target, replay, report_dir = "reports/fuzz/net", version = "all", broker_cmd;
    double seconds = 10;
    unsigned repeat = 1, reply_timeout_ms = 1000, liveness_ms = 5000, minimize_seconds = 20;
    bool tls = false, websocket = false, no_minimize = false, quiet = false;
    transport::tls_client_options tls_options;
  };
  auto s = std::make_shared<settings>();
  sub = app.add_subcommand("fuzz", "Stateful, mutational network fuzzing of a broker (conformance, liveness, crashes)");
  sub->add_option("--target", s->target,
                  "broker host:port, ws://host:port/path or wss://...; default: the embedded reference broker");
  sub->add_option("--broker-cmd", s->broker_cmd,
                  "start the broker with this command (sh; {port} is replaced by a free port), restart it after "
                  "a crash or hang, catch its sanitizer reports");
  sub->add_option("--time", s->seconds, "seconds to run (0: until --cases)")->capture_default_str();
  sub->add_option("--cases", s->options.max_cases, "stop after this many cases (0: no limit)");
  sub->add_option("--seed", s->options.seed, "same seed, same cases")->capture_default_str();
  sub->add_option("--version", s->version, "3.1.1, 5.0 or all")->check(CLI::IsMember({"3.1.1", "5.0", "all"}));
  sub->add_option("--workers", s->options.workers, "cases played in parallel")->capture_default_str();
  sub->add_option("--mutation-rate", s->options.mutation_rate, "share of cases with mutated packets (0..1)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_option("--max-findings", s->options.max_findings, "stop after this many distinct findings")
      ->capture_default_str();
  sub->add_option("--reply-timeout-ms", s->reply_timeout_ms, "how long a step's answer may take")->capture_default_str();
  sub->add_option("--liveness-ms", s->liveness_ms, "probes with backoff over this long before the broker counts as down")
      ->capture_default_str();
  sub->add_option("--replays", s->options.replays, "replays that judge each distinct finding")->capture_default_str();
  sub->add_flag("--no-minimize", s->no_minimize, "keep findings as found");
  sub->add_option("--minimize-seconds", s->minimize_seconds, "time spent minimizing one finding")->capture_default_str();
  sub->add_option("--report-dir", s->report_dir, "where case files and reports go")->capture_default_str();
  sub->add_option("--replay", s->replay, "replay one saved case instead of fuzzing")->check(CLI::ExistingFile);
  sub->add_option("--repeat", s->repeat, "with --replay: how many times")->capture_default_str();
  sub->add_flag("--tls", s->tls, "connect with TLS (implied by the other TLS options and by wss://)");
  sub->add_flag("--ws", s->websocket, "MQTT over WebSocket (a host:port target is upgraded at /mqtt)");
  sub->add_option("--cafile", s->tls_options.ca.file, "PEM CAs that sign the broker's certificate")
      ->check(CLI::ExistingFile);
  sub->add_option("--cert", s->tls_options.cert.file, "PEM client certificate")->check(CLI::ExistingFile);
  sub->add_option("--key", s->tls_options.key.file, "PEM private key of --cert")->check(CLI::ExistingFile);
  sub->add_flag("--insecure", s->tls_options.insecure, "accept any broker certificate and host name");
  sub->add_flag("--quiet,-q", s->quiet, "no progress lines");

  return [s]() {
    auto& o = s->options;
    o.duration = std::chrono::milliseconds(static_cast<long long>(s->seconds * 1000));
    o.report_dir = s->report_dir;
    o.broker_cmd = s->broker_cmd;
    o.reply_timeout = std::chrono::milliseconds(s->reply_timeout_ms);
    o.liveness_window = std::chrono::milliseconds(s->liveness_ms);
    o.minimize = !s->no_minimize;
    o.minimize_budget = std::chrono::seconds(s->minimize_seconds);
    o.quiet = s->quiet;
    o.statements_dir = default_paths(std::nullopt).statements;
    if (s->version == "3.1.1") o.versions = {codec::protocol_version::v3_1_1};
    if (s->version == "5.0") o.versions = {codec::protocol_version::v5};
    auto tls_options = s->tls_options;
    bool tls = s->tls || !tls_options.ca.empty() || !tls_options.cert.empty() || tls_options.insecure;

    std::string rerun;
    std::unique_ptr<broker::embedded_broker> embedded;
    if (!s->target.empty()) {
      auto t = parse_target(s->target);
      if (!t) {
        std::cerr << "mqttspec: --target wants host:port or a ws:// / wss:// URL\n";
        return 2;
      }
      tls = tls || t->secure;
      o.target.host = t->host;
      o.target.port = t->port;
      o.target.ws_path = t->ws_path;
      if (s->websocket && !o.target.ws_path) o.target.ws_path = "/mqtt";
      rerun += "--target " + shell_word(s->target);
    } else if (!s->broker_cmd.empty()) {
      o.target.host = "127.0.0.1";
      if (s->websocket) o.target.ws_path = "/mqtt";
    } else {
      auto bo = broker::embedded_broker::default_options();
      if (s->websocket) bo.ws_port = 0;
      if (tls) {
        const auto id = transport::make_self_signed("localhost");
        auto server_ctx = transport::make_server_context({{"", id.cert_pem}, {"", id.key_pem}, {}});
        if (!server_ctx) {
          std::cerr << "mqttspec: embedded TLS listener: " << server_ctx.error() << "\n";
          return 2;
        }
        bo.tls = *server_ctx;
        if (tls_options.ca.empty()) tls_options.ca.pem = id.cert_pem;
      }
      embedded = std::make_unique<broker::embedded_broker>(bo);
      o.target.host = "127.0.0.1";
      o.target.port = std::to_string(s->websocket ? embedded->ws_port() : embedded->port());
      if (s->websocket) o.target.ws_path = "/mqtt";
      if (!s->quiet) std::cout << "fuzzing the embedded reference broker at " << o.target.display() << "\n";
    }
    if (!s->broker_cmd.empty()) rerun += std::string(rerun.empty() ? "" : " ") + "--broker-cmd " + shell_word(s->broker_cmd);
    if (s->websocket) rerun += " --ws";
    if (tls) {
      auto ctx = transport::make_client_context(tls_options);
      if (!ctx) {
        std::cerr << "mqttspec: " << ctx.error() << "\n";
        return 2;
      }
      o.target.tls = *ctx;
      o.target.tls_verify = !tls_options.insecure;
      if (!s->target.empty() || !s->broker_cmd.empty()) {
        rerun += " --tls";
        if (!tls_options.ca.file.empty()) rerun += " --cafile " + shell_word(tls_options.ca.file);
        if (!tls_options.cert.file.empty())
          rerun += " --cert " + shell_word(tls_options.cert.file) + " --key " + shell_word(tls_options.key.file);
        if (tls_options.insecure) rerun += " --insecure";
      }
    }
    o.rerun_args = rerun;
    if (!s->replay.empty()) return netfuzz::replay_net_case(s->replay, o, std::cout, s->repeat);
    return netfuzz::run_net_fuzz(o, std::cout);
  };
}

}  // namespace mqttspec::conformance
