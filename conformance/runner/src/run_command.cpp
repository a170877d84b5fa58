#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/conformance/reports.hpp"
#include "mqttspec/conformance/selection.hpp"
#include "mqttspec/conformance/variables.hpp"
#include "suite_loading.hpp"

#ifdef MQTTSPEC_HAVE_EMBEDDED_BROKER
#include "mqttspec/broker/embedded.hpp"
#include "mqttspec/broker/scram_method.hpp"
#endif
#include "mqttspec/auth/scram.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <ostream>
#include <thread>

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
  const auto picked = select(loaded.scenarios, req.selectors, req.excludes, versions, &cat);
  if (picked.empty()) {
    err << "mqttspec: no scenario matches the selectors\n";
    return 2;
  }

  engine_options opts;
  opts.timeout = std::chrono::milliseconds(req.timeout_ms);
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

  // Capabilities per version: 5.0 from a probe CONNACK, 3.1.1 from defaults; the profile overrides.
  for (auto v : versions) {
    capability_set caps;
    if (v == suite_version::v5) {
      auto probed = probe_v5(opts);
      if (probed) {
        caps = std::move(*probed);
      } else {
        caps = default_v311();
        caps.source = "defaults (probe failed)";
        summary.notes.push_back(probed.error());
        err << "mqttspec: " << probed.error() << "\n";
      }
    } else {
      caps = default_v311();
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
  const auto start = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (;;) {
      const auto i = next++;
      if (i >= picked.size()) return;
      const auto& sc = *picked[i];
      scenario_result r;
      const exclusion* ex = nullptr;
      for (const auto& e : prof.exclusions)
        if (matches(sc, e.pattern, &cat)) ex = &e;
      if (ex) {
        r.sc = &sc;
        r.v = verdict::unsupported;
        r.message = "excluded by profile " + prof.name + ": " + ex->reason;
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

  print_tree(summary, out);
  if (auto e = write_reports(summary, cat, req.report_dir)) {
    err << "mqttspec: " << *e << "\n";
    return 2;
  }
  out << "reports: " << (req.report_dir / "report.html").string() << ", junit.xml, results.json, statements.csv\n";
  const auto counts = summary.counts();
  if (counts.count(verdict::error)) return 2;
  return summary.any_failure() ? 1 : 0;
}

}  // namespace mqttspec::conformance
