#pragma once
// Client conformance: `mqttspec serve` plays the Server side of client scenarios against an MQTT
// client library, which a driver process makes act (docs/client-drivers.md). Client scenarios are
// the same XML language as the broker suite's with the roles reversed; they live in
// scenarios/client/v3.1.1/*.xml and scenarios/client/v5.0/*.xml and are read by the same loader.
#include "mqttspec/conformance/scenario_loader.hpp"

#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqttspec::conformance {

struct suite_paths;

// Which side of the connection the runner plays: the Client (broker scenarios) or the Server
// (client scenarios). The role picks the table of step elements the loader accepts.
enum class scenario_role { broker, client };

// One document's text in a role (load_scenario_text without a role reads broker scenarios).
load_result load_scenario_text(std::string_view xml, suite_version v, const std::string& file, const catalog* cat,
                               scenario_role role);
// Every dir/client/v3.1.1/*.xml and dir/client/v5.0/*.xml (dir: the scenarios directory).
load_result load_client_scenarios(const std::filesystem::path& dir, const catalog* cat);

// A statement the Client is bound by: applies_to is anything but "server".
bool client_relevant(const statement& s) noexcept;

// Client statements no network observer of a client can judge, with why
// (statements/client-not-testable.tsv: qualified id, reason). Error text on a bad file.
std::optional<std::string> load_client_untestable(const std::filesystem::path& statements_dir, const catalog& cat,
                                                  std::map<std::string, std::string, std::less<>>& out);

// `mqttspec list --role client` and `mqttspec coverage --role client`.
int client_list_command(const suite_paths& paths, const std::vector<std::string>& selectors, const std::string& version,
                        std::ostream& out, std::ostream& err);
int client_coverage_command(const suite_paths& paths, bool only_gaps, std::ostream& out, std::ostream& err);

struct serve_request {
  std::vector<std::string> selectors;
  std::vector<std::string> excludes;
  // The driver command (argv). Empty: the reference client, this executable's `client-driver`.
  std::vector<std::string> driver;
  std::string driver_text;  // as given on the command line, for rerun lines
  std::string host = "127.0.0.1";
  // 0: each scenario listens on a free port of its own (scenarios run in parallel); otherwise every
  // scenario listens on this port in turn (one job).
  unsigned port = 0;
  std::string version = "all";
  unsigned jobs = 2;
  unsigned timeout_ms = 2000;
  unsigned eventual_timeout_ms = 10000;
  unsigned max_run_seconds = 0;
  bool strict = false;
  bool quiet = false;
  std::filesystem::path report_dir = "reports/clients";
};

// Splits a command line into words: spaces separate, '...' and "..." quote, \ escapes.
std::vector<std::string> split_command(std::string_view text);

// `mqttspec serve`: exit status 0 nothing failed, 1 failures, 2 errors (harness, driver).
int serve_command(const serve_request& req, const suite_paths& paths, std::ostream& out, std::ostream& err);

// `mqttspec client-driver`: the reference client, a driver of the contract built on the codec.
struct client_driver_options {
  std::string host = "127.0.0.1";
  std::string port;
  std::string client_id;
  std::string version = "5.0";
};
int client_driver_command(const client_driver_options& o);

}  // namespace mqttspec::conformance
