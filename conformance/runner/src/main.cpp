// mqttspec: the command line of the conformance suite.
#include "mqttspec/conformance/client_role.hpp"
#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/decode_command.hpp"
#include "mqttspec/conformance/stored_results.hpp"
#include "bench/bench_command.hpp"

#include <CLI/CLI.hpp>

#ifdef MQTTSPEC_HAVE_NETFUZZ
#include "fuzz_command.hpp"
#endif

#include <iostream>
#include <iterator>
#include <map>

namespace {

using mqttspec::codec::protocol_version;
namespace conf = mqttspec::conformance;

const std::map<std::string, protocol_version> versions{
    {"3.1", protocol_version::v3_1}, {"3.1.1", protocol_version::v3_1_1}, {"5", protocol_version::v5},
    {"5.0", protocol_version::v5}};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mqttspec: MQTT 3.1.1 and 5.0 conformance suite"};
  app.require_subcommand(1);

  auto* decode = app.add_subcommand("decode", "Decode MQTT packets given as hex (argument or stdin) into JSON");
  std::vector<std::string> hex_args;
  std::optional<protocol_version> version;
  decode->add_option("hex", hex_args, "hex bytes, spaces allowed; read from stdin when absent");
  decode->add_option("--version", version, "protocol version (3.1, 3.1.1, 5.0); default: from a leading CONNECT, else 5.0")
      ->transform(CLI::CheckedTransformer(versions));

  conf::run_request req;
  std::string target_text, suite_version = "all";
  std::optional<std::filesystem::path> scenarios_dir;
  std::optional<std::string> username, password;
  auto* run = app.add_subcommand("run", "Play the scenarios against a broker and write reports");
  run->add_option("selectors", req.selectors,
                  "scenario ids or globs, statement ids (MQTT-3.1.0-1, v5:MQTT-3.1.0-1) or section prefixes (3.8)");
  run->add_option("--target", target_text,
                  "broker host:port, or ws://host:port/path (wss:// with TLS); default: start the embedded reference broker");
  run->add_option("--version", suite_version, "3.1.1, 5.0 or all")->check(CLI::IsMember({"3.1.1", "5", "5.0", "all"}));
  run->add_option("--exclude", req.excludes, "selectors to leave out (repeatable)");
  std::string shard_text;
  run->add_option("--shard", shard_text,
                  "K/N: play only shard K of N of the selected scenarios (a stable split, for parallel CI jobs; "
                  "join the shards with `mqttspec merge`)")
      ->check([](const std::string& s) { return conf::parse_shard(s) ? std::string() : "want K/N with 1 <= K <= N"; });
  run->add_option("--jobs,-j", req.jobs, "scenarios run in parallel")->check(CLI::Range(1u, 64u));
  run->add_option("--timeout-ms", req.timeout_ms, "how long each expectation, connect and handshake waits")
      ->check(CLI::Range(10u, 600000u))->capture_default_str();
  run->add_option("--max-run-seconds", req.max_run_seconds,
                  "start no scenario after this many seconds; the rest are errors (0: no limit)")
      ->capture_default_str();
  run->add_option("--eventual-timeout-ms", req.eventual_timeout_ms,
                  "how long an expectation without a deadline in the spec (a resend on resumption, queued delivery) may take")
      ->check(CLI::Range(10u, 600000u))->capture_default_str();
  run->add_option("--username", username, "user name sent in every CONNECT");
  run->add_option("--password", password, "password sent in every CONNECT");
  run->add_option("--auth-method", req.auth_method,
                  "enhanced authentication (5.0) the broker offers to --username/--password: SCRAM-SHA-256; "
                  "enables the scenarios that require enhanced-auth")
      ->check(CLI::IsMember({"SCRAM-SHA-256"}));
  run->add_option("--profile", req.profile, "JSON profile: declared capabilities and known exclusions")
      ->check(CLI::ExistingFile);
  run->add_flag("--tls", req.tls, "connect with TLS (implied by the other TLS options and by wss://)");
  run->add_flag("--ws", req.websocket,
                "MQTT over WebSocket (implied by a ws:// or wss:// target); no target: the embedded broker's WebSocket listener");
  run->add_option("--cafile", req.tls_options.ca.file, "PEM CAs that sign the broker's certificate; default: the system's")
      ->check(CLI::ExistingFile);
  run->add_option("--cert", req.tls_options.cert.file, "PEM client certificate, for brokers that require one")
      ->check(CLI::ExistingFile);
  run->add_option("--key", req.tls_options.key.file, "PEM private key of --cert")->check(CLI::ExistingFile);
  run->add_flag("--insecure", req.tls_options.insecure, "accept any broker certificate and host name");
  run->add_flag("--strict", req.strict, "SHOULD failures (non-strict) count as failures");
  run->add_option("--report-dir", req.report_dir, "where reports are written");
  run->add_option("--scenarios", scenarios_dir, "scenario directory (holds v3.1.1/ and v5.0/)");
  run->add_flag("--quiet,-q", req.quiet, "no progress lines");

  auto* list = app.add_subcommand("list", "List scenarios with their statements and levels");
  std::vector<std::string> list_selectors;
  std::string list_version = "all";
  list->add_option("selectors", list_selectors, "as for run");
  list->add_option("--version", list_version, "3.1.1, 5.0 or all");
  list->add_option("--scenarios", scenarios_dir, "scenario directory");
  std::string list_role = "broker";
  list->add_option("--role", list_role, "broker: scenarios that certify brokers; client: scenarios that certify client libraries")
      ->check(CLI::IsMember({"broker", "client"}));

  auto* coverage = app.add_subcommand("coverage", "Per statement of both catalogs: covering scenarios or why none");
  bool only_gaps = false;
  coverage->add_flag("--gaps", only_gaps, "show only uncovered server-relevant statements");
  coverage->add_option("--scenarios", scenarios_dir, "scenario directory");
  std::string coverage_role = "broker";
  coverage->add_option("--role", coverage_role, "broker: statements a Server is bound by; client: statements that bind the Client")
      ->check(CLI::IsMember({"broker", "client"}));

  // `mqttspec serve`: the runner plays the Server side of the client scenarios (docs/client-drivers.md).
  auto* serve = app.add_subcommand("serve", "Certify an MQTT client library: play the Server side of the client scenarios");
  conf::serve_request serve_req;
  std::string serve_version = "all";
  serve->add_option("selectors", serve_req.selectors, "client scenario ids or globs, statement ids or section prefixes");
  serve->add_option("--driver", serve_req.driver_text,
                    "the client driver command (docs/client-drivers.md); default: the reference client");
  serve->add_option("--host", serve_req.host, "address to listen on")->capture_default_str();
  serve->add_option("--port", serve_req.port, "port to listen on (then one scenario at a time); default: a free port per scenario")
      ->check(CLI::Range(0u, 65535u));
  serve->add_option("--version", serve_version, "3.1.1, 5.0 or all")->check(CLI::IsMember({"3.1.1", "5", "5.0", "all"}));
  serve->add_option("--exclude", serve_req.excludes, "selectors to leave out (repeatable)");
  serve->add_option("--jobs,-j", serve_req.jobs, "scenarios run in parallel")->check(CLI::Range(1u, 64u));
  serve->add_option("--timeout-ms", serve_req.timeout_ms, "how long each expectation waits")
      ->check(CLI::Range(10u, 600000u))->capture_default_str();
  serve->add_option("--eventual-timeout-ms", serve_req.eventual_timeout_ms,
                    "how long an expectation without a deadline in the spec (a resend on reconnection) may take")
      ->check(CLI::Range(10u, 600000u))->capture_default_str();
  serve->add_option("--max-run-seconds", serve_req.max_run_seconds, "start no scenario after this many seconds (0: no limit)");
  serve->add_flag("--strict", serve_req.strict, "SHOULD failures (non-strict) count as failures");
  serve->add_option("--report-dir", serve_req.report_dir, "where reports are written")->capture_default_str();
  serve->add_option("--scenarios", scenarios_dir, "scenario directory (holds client/v3.1.1/ and client/v5.0/)");
  serve->add_flag("--quiet,-q", serve_req.quiet, "no progress lines");

  auto* client_driver = app.add_subcommand("client-driver", "The reference client: a client driver built on the codec");
  conf::client_driver_options driver_opts;
  client_driver->add_option("--host", driver_opts.host, "server address");
  client_driver->add_option("--port", driver_opts.port, "server port")->required();
  client_driver->add_option("--client-id", driver_opts.client_id, "ClientID of the CONNECT unless an action gives one");
  client_driver->add_option("--version", driver_opts.version, "3.1.1 or 5.0")->check(CLI::IsMember({"3.1.1", "5", "5.0"}));

  auto* merge = app.add_subcommand("merge", "Join the results.json of the shards of a run into one set of reports");
  conf::merge_request merge_req;
  merge->add_option("results", merge_req.inputs, "results.json of each shard")->required()->check(CLI::ExistingFile);
  merge->add_option("--report-dir", merge_req.report_dir, "where the merged reports are written")->capture_default_str();
  merge->add_option("--scenarios", scenarios_dir, "scenario directory");

  auto* compare = app.add_subcommand("compare", "Compare the results.json of several brokers: one HTML page and a markdown table");
  conf::compare_request compare_req;
  std::string compare_names;
  compare->add_option("results", compare_req.inputs, "results.json of each broker")->required()->check(CLI::ExistingFile);
  compare->add_option("--names", compare_names, "column names, comma-separated; default: each file's directory name");
  compare->add_option("--out", compare_req.out_dir, "where compare.html and compare.md are written")->capture_default_str();

  CLI::App* bench = nullptr;
  auto run_bench = mqttspec::bench::add_bench_command(app, bench);

#ifdef MQTTSPEC_HAVE_NETFUZZ
  CLI::App* fuzz = nullptr;
  auto run_fuzz = conf::add_fuzz_command(app, fuzz);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2 (CLI11's own codes would clash with "1 = failures").
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (decode->parsed()) {
    std::string hex;
    if (hex_args.empty()) {
      hex.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      for (const auto& h : hex_args) (hex += h) += ' ';
    }
    return conf::decode_hex_stream(hex, version, std::cout);
  }
  if (run->parsed()) {
    if (!target_text.empty()) {
      req.broker = conf::parse_target(target_text);
      if (!req.broker) {
        std::cerr << "mqttspec: --target wants host:port or ws://host:port/path, not " << target_text << "\n";
        return 2;
      }
      req.websocket = req.websocket || req.broker->ws_path.has_value();
      req.tls = req.tls || req.broker->secure;
    }
    req.version = suite_version;
    req.cred = {username, password};
    const auto& t = req.tls_options;
    req.tls = req.tls || !t.ca.empty() || !t.cert.empty() || !t.key.empty() || t.insecure;
    req.paths = conf::default_paths(scenarios_dir);
    if (!shard_text.empty()) req.shard = conf::parse_shard(shard_text);
    return conf::run_command(req, std::cout, std::cerr);
  }
  if (merge->parsed()) {
    merge_req.paths = conf::default_paths(scenarios_dir);
    return conf::merge_command(merge_req, std::cout, std::cerr);
  }
  if (compare->parsed()) {
    for (std::size_t at = 0; !compare_names.empty();) {
      const auto comma = compare_names.find(',', at);
      compare_req.names.push_back(compare_names.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
    compare_req.paths = conf::default_paths(std::nullopt);
    return conf::compare_command(compare_req, std::cout, std::cerr);
  }
  if (serve->parsed()) {
    serve_req.version = serve_version;
    serve_req.driver = conf::split_command(serve_req.driver_text);
    return conf::serve_command(serve_req, conf::default_paths(scenarios_dir), std::cout, std::cerr);
  }
  if (client_driver->parsed()) return conf::client_driver_command(driver_opts);
  if (list->parsed() && list_role == "client")
    return conf::client_list_command(conf::default_paths(scenarios_dir), list_selectors, list_version, std::cout, std::cerr);
  if (coverage->parsed() && coverage_role == "client")
    return conf::client_coverage_command(conf::default_paths(scenarios_dir), only_gaps, std::cout, std::cerr);
  if (list->parsed()) return conf::list_command(conf::default_paths(scenarios_dir), list_selectors, list_version, std::cout, std::cerr);
  if (coverage->parsed()) return conf::coverage_command(conf::default_paths(scenarios_dir), only_gaps, std::cout, std::cerr);
  if (bench->parsed()) return run_bench();
#ifdef MQTTSPEC_HAVE_NETFUZZ
  if (fuzz->parsed()) return run_fuzz();
#endif
  return 0;
}
