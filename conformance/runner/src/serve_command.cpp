// `mqttspec serve`: certifies an MQTT client library through its driver (docs/client-drivers.md).
#include "mqttspec/conformance/client_role.hpp"
#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/reports.hpp"
#include "mqttspec/conformance/selection.hpp"
#include "serve_engine.hpp"
#include "suite_loading.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <ostream>
#include <thread>

#include <unistd.h>

namespace mqttspec::conformance {

namespace {

std::string utc_now() {
  const auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Before a version is played, the probe shows the driver and its library work at all: connect,
// subscribe, receive a message, publish one, disconnect. A driver that says the version is
// unsupported makes the version's scenarios unsupported; one that fails the probe otherwise
// makes them errors (a harness problem, not a finding about the library).
constexpr const char* probe_xml = R"(<scenarios>
<scenario id="client.probe">
  <title>The driver connects, subscribes, receives, publishes and disconnects</title>
  <requirement>The library under test works through its driver at all.</requirement>
  <statement ref="MQTT-3.1.0-1"/>
  <steps>
    <app client="probe" do="connect"/>
    <connect client="probe"/>
    <expect-app client="probe" event="connected"/>
    <app client="probe" do="subscribe mqttspec/probe/in 0"/>
    <expect client="probe" type="subscribe" filter="mqttspec/probe/in" capture-id="s"/>
    <send client="probe" type="suback" id="${s}" codes="0"/>
    <send client="probe" type="publish" topic="mqttspec/probe/in" qos="0" payload="probe"/>
    <expect-app client="probe" event="message" topic="mqttspec/probe/in" payload="probe"/>
    <app client="probe" do="publish mqttspec/probe/out 0 hello"/>
    <expect client="probe" type="publish" topic="mqttspec/probe/out" payload="hello"/>
    <app client="probe" do="disconnect"/>
    <expect client="probe" type="disconnect"/>
  </steps>
</scenario>
</scenarios>)";

std::atomic<bool> interrupted{false};

void on_interrupt(int) {
  if (interrupted.exchange(true)) _exit(2);
  static constexpr char note[] =
      "\nmqttspec: interrupted: finishing the running scenarios, then the reports (again to quit at once)\n";
  [[maybe_unused]] const auto n = write(STDERR_FILENO, note, sizeof note - 1);
}

std::string self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("mqttspec") : p.string();
}

std::string shell_quote(const std::string& s) {
  if (s.find_first_of(" '\"\\$`") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

int serve_command(const serve_request& req, const suite_paths& paths, std::ostream& out, std::ostream& err) {
  catalog cat;
  if (auto e = catalog::load(paths.statements, cat)) {
    err << "mqttspec: " << *e << "\n";
    return 2;
  }
  auto loaded = load_client_scenarios(paths.scenarios, &cat);
  for (const auto& e : loaded.errors) err << "mqttspec: " << to_string(e) << "\n";
  if (!loaded.errors.empty()) return 2;
  const auto versions = versions_of(req.version);
  if (versions.empty()) {
    err << "mqttspec: unknown --version " << req.version << " (3.1.1, 5.0 or all)\n";
    return 2;
  }
  const auto picked = select(loaded.scenarios, req.selectors, req.excludes, versions, &cat);
  if (picked.empty()) {
    err << "mqttspec: no client scenario matches the selectors\n";
    return 2;
  }

  serve_options opts;
  opts.driver = req.driver.empty() ? std::vector<std::string>{self_executable(), "client-driver"} : req.driver;
  opts.host = req.host;
  opts.port = req.port;
  opts.timeout = std::chrono::milliseconds(req.timeout_ms);
  opts.eventual_timeout = std::chrono::milliseconds(req.eventual_timeout_ms);
  opts.run_token = make_run_token();

  run_summary summary;
  summary.strict = req.strict;
  summary.started_at = utc_now();
  summary.target = req.driver.empty() ? "the reference client (mqttspec client-driver)" : "client driver: " + req.driver_text;
  summary.rerun_prefix = "mqttspec serve";
  if (!req.driver.empty()) summary.rerun_args = "--driver " + shell_quote(req.driver_text);
  if (req.port) summary.rerun_args += (summary.rerun_args.empty() ? "" : " ") + std::string("--port ") + std::to_string(req.port);
  if (req.strict) summary.rerun_args += (summary.rerun_args.empty() ? "" : " ") + std::string("--strict");

  struct sigaction sa {}, old_int {}, old_term {};
  interrupted = false;
  sa.sa_handler = on_interrupt;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  const auto start = std::chrono::steady_clock::now();
  const auto run_deadline = req.max_run_seconds ? start + std::chrono::seconds(req.max_run_seconds)
                                                : std::chrono::steady_clock::time_point::max();
  auto stopped = [&] { return interrupted || std::chrono::steady_clock::now() >= run_deadline; };

  // The probe of each version that has scenarios to play.
  std::map<suite_version, scenario_result> probes;
  std::vector<load_result> probe_scenarios;
  probe_scenarios.reserve(versions.size());
  for (auto v : versions) {
    if (std::none_of(picked.begin(), picked.end(), [&](const scenario* s) { return s->version == v; })) continue;
    probe_scenarios.push_back(load_scenario_text(probe_xml, v, "(probe)", &cat, scenario_role::client));
    const auto& probe = probe_scenarios.back();
    if (!probe.errors.empty() || probe.scenarios.empty()) {
      err << "mqttspec: the probe scenario does not load\n";
      return 2;
    }
    auto r = serve_scenario(probe.scenarios.front(), opts, 46655);
    const bool works = r.v == verdict::pass;
    std::string note = "probe of MQTT " + std::string(display_name(v)) + ": " +
                       (works ? "the driver works" : std::string(to_string(r.v)) + ": " + r.message);
    if (!works) {
      err << "mqttspec: " << note << "\n";
      summary.notes.push_back(note);
    }
    probes.emplace(v, std::move(r));
  }

  const unsigned jobs = req.port ? 1u : std::max(1u, req.jobs);
  out << "mqttspec: " << picked.size() << " client scenarios against " << summary.target << " with " << jobs << " jobs\n";
  summary.results.resize(picked.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex out_mutex;
  auto worker = [&] {
    while (!stopped()) {
      const auto i = next++;
      if (i >= picked.size()) return;
      const auto& sc = *picked[i];
      scenario_result r;
      const auto& probe = probes.at(sc.version);
      if (probe.v != verdict::pass) {
        r.sc = &sc;
        r.v = probe.v == verdict::unsupported ? verdict::unsupported : verdict::error;
        r.message = "not played: the probe of MQTT " + std::string(display_name(sc.version)) + " did not pass (" +
                    probe.message + ")";
      } else {
        r = serve_scenario(sc, opts, i);
      }
      std::lock_guard lock(out_mutex);
      summary.results[i] = std::move(r);
      if (!req.quiet) print_progress(summary.results[i], ++done, picked.size(), out);
      out.flush();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < jobs; ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  summary.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);

  std::size_t unplayed = 0;
  for (std::size_t i = 0; i < picked.size(); ++i) {
    auto& r = summary.results[i];
    if (r.sc) continue;
    r.sc = picked[i];
    r.v = verdict::error;
    r.message = interrupted ? "not run (interrupted)" : "not run (--max-run-seconds reached)";
    ++unplayed;
  }
  if (unplayed) summary.notes.push_back(std::to_string(unplayed) + " client scenarios not run");

  print_tree(summary, out);
  if (auto e = write_reports(summary, cat, req.report_dir)) {
    err << "mqttspec: " << *e << "\n";
    return 2;
  }
  out << "reports: " << (req.report_dir / "report.html").string() << ", junit.xml, results.json, statements.csv\n";
  if (summary.counts().count(verdict::error) || interrupted) return 2;
  return summary.any_failure() ? 1 : 0;
}

}  // namespace mqttspec::conformance
