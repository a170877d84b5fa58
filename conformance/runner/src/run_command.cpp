#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/reports.hpp"
#include "mqttspec/conformance/selection.hpp"
#include "mqttspec/conformance/variables.hpp"
#include "mqttspec/conformance/version_probe.hpp"
#include "suite_loading.hpp"

#ifdef MQTTSPEC_HAVE_EMBEDDED_BROKER
#include "mqttspec/broker/embedded.hpp"
#include "mqttspec/broker/scram_method.hpp"
#endif
#include "mqttspec/auth/scram.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <thread>

#include <unistd.h>

namespace mqttspec::conformance {

std::string target::display() const {
  if (!ws_path) return host + ":" + port;
  const auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return (secure ? "wss://" : "ws://") + h + ":" + port + *ws_path;
}

namespace {

// "ws://host:port/path" and "wss://...": the authority as for host:port, then the path.
std::optional<target> parse_ws_url(std::string_view text) {
  const bool secure = text.starts_with("wss://");
  text.remove_prefix(secure ? 6 : 5);
  const auto slash = text.find('/');
  const std::string authority(text.substr(0, slash));
  const std::string path = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
  if (authority.empty() || authority.find('@') != std::string::npos) return std::nullopt;
  // Without a port, the scheme's own: 80 for ws, 443 for wss.
  const bool has_port = authority.front() == '[' ? authority.find("]:") != std::string::npos
                                                 : authority.find(':') != std::string::npos;
  auto t = parse_target(has_port ? authority : authority + (secure ? ":443" : ":80"));
  if (!t || path.find_first_of(" \r\n#") != std::string::npos) return std::nullopt;
  t->ws_path = path;
  t->secure = secure;
  return t;
}

}  // namespace

std::optional<target> parse_target(const std::string& text) {
  if (text.starts_with("ws://") || text.starts_with("wss://")) return parse_ws_url(text);
  target t;
  std::string host = text, port = "1883";
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return std::nullopt;
      port = text.substr(close + 2);
    }
  } else if (auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  const auto n = parse_number(port, 65535);
  if (host.empty() || !n || *n == 0 || port.find('x') != std::string::npos) return std::nullopt;
  t.host = host;
  t.port = port;
  return t;
}

namespace {

std::string utc_now() {
  const auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Arguments that reproduce this run's connection settings, for "rerun" hints.
std::string rerun_args(const run_request& req) {
  std::string s;
  if (req.broker) s += "--target " + req.broker->display();
  else if (req.websocket) s += "--ws";
  if (req.cred.username) s += " --username '" + *req.cred.username + "'";
  if (req.cred.password) s += " --password ...";
  if (req.auth_method) s += " --auth-method " + *req.auth_method;
  if (req.tls) s += " --tls";
  if (!req.tls_options.ca.file.empty()) s += " --cafile " + req.tls_options.ca.file;
  if (!req.tls_options.cert.file.empty()) s += " --cert " + req.tls_options.cert.file + " --key " + req.tls_options.key.file;
  if (req.tls_options.insecure) s += " --insecure";
  if (req.profile) s += " --profile " + req.profile->string();
  if (req.strict) s += " --strict";
  return s;
}

// Ctrl-C or SIGTERM during a run: no new scenario starts, the running ones end within their own
// deadlines, and the reports are written for what ran. A second one leaves at once.
std::atomic<bool> interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "read and written by a signal handler");

void on_interrupt(int) {
  if (interrupted.exchange(true)) _exit(2);
  static constexpr char note[] =
      "\nmqttspec: interrupted: finishing the running scenarios, then the reports (again to quit at once)\n";
  [[maybe_unused]] const auto n = write(STDERR_FILENO, note, sizeof note - 1);
}

// on_interrupt handles SIGINT and SIGTERM while this lives.
class interrupt_scope {
 public:
  interrupt_scope() {
    interrupted = false;
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESTART;  // the other threads' blocking calls carry on
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~interrupt_scope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  interrupt_scope(const interrupt_scope&) = delete;
  interrupt_scope& operator=(const interrupt_scope&) = delete;

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

}  // namespace

int run_command(const run_request& req, std::ostream& out, std::ostream& err) {
  catalog cat;
  load_result loaded;
  if (!load_suite(req.paths, cat, loaded, err)) return 2;
  const auto versions = versions_of(req.version);
  if (versions.empty()) {
    err << "mqttspec: unknown --version " << req.version << " (3.1.1, 5.0 or all)\n";
    return 2;
  }
  profile prof;
  if (req.profile) {
    if (auto e = load_profile(*req.profile, prof)) {
      err << "mqttspec: " << *e << "\n";
      return 2;
    }
  }
  auto picked = select(loaded.scenarios, req.selectors, req.excludes, versions, &cat);
  if (picked.empty()) {
    err << "mqttspec: no scenario matches the selectors\n";
    return 2;
  }
  if (req.shard) {
    const auto selected = picked.size();
    picked = take_shard(picked, *req.shard);
    if (picked.empty()) {
      err << "mqttspec: shard " << to_string(*req.shard) << " of the " << selected << " selected scenarios is empty\n";
      return 2;
    }
  }

  engine_options opts;
  opts.timeout = std::chrono::milliseconds(req.timeout_ms);
  opts.eventual_timeout = std::chrono::milliseconds(req.eventual_timeout_ms);
  opts.cred = req.cred;
  opts.run_token = make_run_token();
  if (req.auth_method) {
    if (*req.auth_method != auth::scram::method_name || !req.cred.username || !req.cred.password) {
      err << "mqttspec: --auth-method " << *req.auth_method << " needs --username and --password (and only "
          << auth::scram::method_name << " is spoken)\n";
      return 2;
    }
    opts.enhanced_auth = enhanced_auth_credentials{*req.auth_method, *req.cred.username, *req.cred.password};
  }
  run_summary summary;
  summary.strict = req.strict;
  summary.rerun_args = rerun_args(req);
  summary.started_at = utc_now();

  auto tls_options = req.tls_options;
#ifdef MQTTSPEC_HAVE_EMBEDDED_BROKER
  std::unique_ptr<broker::embedded_broker> embedded;
#endif
  if (req.broker) {
    opts.broker = *req.broker;
    if (req.websocket && !opts.broker.ws_path) opts.broker.ws_path = "/mqtt";
    opts.broker.secure = opts.broker.ws_path && req.tls;
    summary.target = opts.broker.display();
  } else {
#ifdef MQTTSPEC_HAVE_EMBEDDED_BROKER
    auto broker_options = broker::embedded_broker::default_options();
    if (req.websocket) broker_options.ws_port = 0;
    // The embedded broker offers SCRAM-SHA-256, so the enhanced-authentication scenarios run by default.
    if (!opts.enhanced_auth)
      opts.enhanced_auth = enhanced_auth_credentials{std::string(auth::scram::method_name), "mqttspec",
                                                     auth::scram::random_nonce()};
    broker_options.core.enhanced_auth[opts.enhanced_auth->method] =
        broker::make_scram_sha256({{opts.enhanced_auth->user, opts.enhanced_auth->password}});
    if (req.tls) {
      const auto id = transport::make_self_signed("localhost");
      auto server_ctx = transport::make_server_context({{"", id.cert_pem}, {"", id.key_pem}, {}});
      if (!server_ctx) {
        err << "mqttspec: embedded TLS listener: " << server_ctx.error() << "\n";
        return 2;
      }
      broker_options.tls = *server_ctx;
      if (tls_options.ca.empty()) tls_options.ca.pem = id.cert_pem;
    }
    embedded = std::make_unique<broker::embedded_broker>(broker_options);
    opts.broker = target{"127.0.0.1", std::to_string(embedded->port())};
    if (req.websocket) {
      opts.broker.port = std::to_string(embedded->ws_port());
      opts.broker.ws_path = "/mqtt";
      opts.broker.secure = req.tls;
    }
    summary.target = "embedded reference broker (" + opts.broker.display() + ")";
#else
    err << "mqttspec: no --target given and this build has no embedded reference broker "
           "(target mqttspec_broker_net was not built); pass --target host:port\n";
    return 2;
#endif
  }

  if (req.tls) {
    auto ctx = transport::make_client_context(tls_options);
    if (!ctx) {
      err << "mqttspec: " << ctx.error() << "\n";
      return 2;
    }
    opts.tls = *ctx;
    opts.tls_verify = !tls_options.insecure;
    summary.target += " over TLS";
  }

  interrupt_scope on_interrupt_write_reports;
  const auto start = std::chrono::steady_clock::now();
  const auto run_deadline = req.max_run_seconds ? start + std::chrono::seconds(req.max_run_seconds)
                                                : std::chrono::steady_clock::time_point::max();
  auto stopped = [&] { return interrupted || std::chrono::steady_clock::now() >= run_deadline; };

  // Each version that has scenarios to play is probed first (version_probe.hpp); its capabilities:
  // 5.0 from the probe's CONNACK, 3.1.1 from defaults; the profile overrides.
  std::map<suite_version, version_probe> probes;
  auto count_of = [&](suite_version v) {
    return std::count_if(picked.begin(), picked.end(), [&](const scenario* sc) { return sc->version == v; });
  };
  for (auto v : versions)
    if (count_of(v) > 0 && !stopped()) probes.emplace(v, probe_version(v, opts, prof));
  std::vector<version_probe*> all_probes;
  for (auto& [v, probe] : probes) all_probes.push_back(&probe);
  reconcile(all_probes);
  for (auto& [v, probe] : probes) {
    const auto count = count_of(v);
    capability_set caps = probe.caps;
    if (probe.result != version_probe::outcome::works) {
      caps.source = "none (the probe failed)";
      const bool unsupported = probe.result == version_probe::outcome::unsupported;
      summary.notes.push_back(probe.summary + "; its " + std::to_string(count) + " scenarios are " +
                              (unsupported ? "unsupported" : "errors") + ", not played");
      err << "mqttspec: " << summary.notes.back() << "\n";
    }
    // Section 6 scenarios need the run to go over WebSocket (requires="websocket").
    if (opts.broker.ws_path) caps.tags.insert("websocket");
    // The enhanced-authentication scenarios need a method the runner speaks, with credentials.
    if (v == suite_version::v5 && opts.enhanced_auth) caps.tags.insert("enhanced-auth");
    apply(prof, caps);
    summary.capabilities[v] = std::move(caps);
  }

  out << "mqttspec: " << picked.size() << " scenarios against " << summary.target << " with " << req.jobs
      << " jobs\n";
  summary.results.resize(picked.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex out_mutex;
  auto worker = [&] {
    while (!stopped()) {
      const auto i = next++;
      if (i >= picked.size()) return;
      const auto& sc = *picked[i];
      scenario_result r;
      const exclusion* ex = nullptr;
      for (const auto& e : prof.exclusions)
        if (matches(sc, e.pattern, &cat)) ex = &e;
      const auto& probe = probes.at(sc.version);
      if (ex) {
        r.sc = &sc;
        r.v = verdict::unsupported;
        r.message = "excluded by profile " + prof.name + ": " + ex->reason;
      } else if (probe.result != version_probe::outcome::works) {
        r = not_played(sc, probe);
      } else {
        r = run_scenario(sc, opts, summary.capabilities.at(sc.version), i);
      }
      std::lock_guard lock(out_mutex);
      summary.results[i] = std::move(r);
      if (!req.quiet) print_progress(summary.results[i], ++done, picked.size(), out);
      out.flush();
    }
  };
  std::vector<std::thread> threads;
  const unsigned jobs = std::max(1u, req.jobs);
  for (unsigned j = 0; j < jobs; ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  summary.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  // What a stop left unplayed is an error, so the run cannot read as complete.
  const std::string not_run = interrupted ? "not run (interrupted)"
                                          : "not run (--max-run-seconds " + std::to_string(req.max_run_seconds) + " reached)";
  std::size_t unplayed = 0;
  for (std::size_t i = 0; i < picked.size(); ++i) {
    auto& r = summary.results[i];
    if (r.sc) continue;
    r.sc = picked[i];
    r.v = verdict::error;
    r.message = not_run;
    ++unplayed;
  }
  if (unplayed) {
    summary.notes.push_back(std::to_string(unplayed) + " of " + std::to_string(picked.size()) + " scenarios " + not_run);
    err << "mqttspec: " << summary.notes.back() << "\n";
  }

  print_tree(summary, out);
  if (auto e = write_reports(summary, cat, req.report_dir)) {
    err << "mqttspec: " << *e << "\n";
    return 2;
  }
  out << "reports: " << (req.report_dir / "report.html").string() << ", junit.xml, results.json, statements.csv\n";
  // A run that could play no version at all judged nothing: not a success.
  const bool none_works = std::none_of(probes.begin(), probes.end(), [](const auto& p) {
    return p.second.result == version_probe::outcome::works;
  });
  if (summary.counts().count(verdict::error) || interrupted || none_works) return 2;
  return summary.any_failure() ? 1 : 0;
}

}  // namespace mqttspec::conformance
