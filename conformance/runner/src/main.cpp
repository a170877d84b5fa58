// mqttspec: the command line of the conformance suite.
#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/decode_command.hpp"

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
  run->add_option("--jobs,-j", req.jobs, "scenarios run in parallel")->check(CLI::Range(1u, 64u));
  run->add_option("--timeout-ms", req.timeout_ms, "how long each expectation waits")->check(CLI::Range(10u, 600000u));
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

  auto* coverage = app.add_subcommand("coverage", "Per statement of both catalogs: covering scenarios or why none");
  bool only_gaps = false;
  coverage->add_flag("--gaps", only_gaps, "show only uncovered server-relevant statements");
  coverage->add_option("--scenarios", scenarios_dir, "scenario directory");

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
    return conf::run_command(req, std::cout, std::cerr);
  }
  if (list->parsed()) return conf::list_command(conf::default_paths(scenarios_dir), list_selectors, list_version, std::cout, std::cerr);
  if (coverage->parsed()) return conf::coverage_command(conf::default_paths(scenarios_dir), only_gaps, std::cout, std::cerr);
#ifdef MQTTSPEC_HAVE_NETFUZZ
  if (fuzz->parsed()) return run_fuzz();
#endif
  return 0;
}
