#include "bench_command.hpp"

#include "engine.hpp"
#include "proc_stats.hpp"
#include "report.hpp"

#include "mqttspec/conformance/commands.hpp"
#include "mqttspec/transport/tls.hpp"

#ifdef MQTTSPEC_HAVE_EMBEDDED_BROKER
#include "mqttspec/broker/embedded.hpp"
#endif

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

namespace mqttspec::bench {

namespace {

struct settings {
  options cli;  // what the command line said; applied over the preset, option by option
  std::vector<std::pair<CLI::Option*, std::function<void(options&, const options&)>>> overrides;
  std::string preset = "pairs";
  std::string version = "5.0";
  std::string target, compare, label, compare_label;
  std::optional<int> pid, compare_pid;
  bool tls = false, websocket = false, json = false, quiet = false, list = false;
  transport::tls_client_options tls_options;
  std::string json_file, markdown_file;
  std::string workload_name;
};

// A target of the command line, ready to run against: parsed, TLS context built, broker process found.
codec::basic_result<run_target, std::string> make_target(const std::string& text, const settings& s, std::optional<int> pid) {
  auto t = conformance::parse_target(text);
  if (!t) return std::string("want host:port or ws://host:port/path (wss:// for TLS), not " + text);
  run_target rt;
  rt.label = text;
  rt.where = *t;
  if (s.websocket && !rt.where.ws_path) rt.where.ws_path = "/mqtt";
  const auto& o = s.tls_options;
  const bool tls = s.tls || t->secure || !o.ca.empty() || !o.cert.empty() || o.insecure;
  if (tls) {
    auto ctx = transport::make_client_context(o);
    if (!ctx) return ctx.error();
    rt.tls = *ctx;
    rt.verify = !o.insecure;
    rt.where.secure = true;
  }
  rt.pid = pid;
  if (!rt.pid && is_local_host(t->host)) {
    try {
      rt.pid = pid_listening_on(static_cast<std::uint16_t>(std::stoul(t->port)));
    } catch (const std::exception&) {
    }
  }
  return rt;
}

// Connection-heavy workloads need descriptors: as many as this process may have.
void raise_descriptor_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

int run_bench(settings& s) {
  if (s.list) {
    for (const auto& p : presets()) std::cout << p.name << std::string(p.name.size() < 18 ? 18 - p.name.size() : 1, ' ') << p.summary << "\n";
    return 0;
  }
  options o;
  const auto& all = presets();
  auto pr = std::find_if(all.begin(), all.end(), [&](const preset& p) { return p.name == s.preset; });
  if (pr == all.end()) {
    std::cerr << "mqttspec bench: no preset " << s.preset << " (see --list-presets)\n";
    return 2;
  }
  pr->apply(o);
  for (auto& [opt, copy] : s.overrides)
    if (opt->count() > 0) copy(o, s.cli);
  o.version = s.version == "3.1.1" ? codec::protocol_version::v3_1_1 : codec::protocol_version::v5;
  if (auto why = o.check(); !why.empty()) {
    std::cerr << "mqttspec bench: " << why << "\n";
    return 2;
  }
  raise_descriptor_limit();

  std::vector<run_target> targets;
#ifdef MQTTSPEC_HAVE_EMBEDDED_BROKER
  std::unique_ptr<broker::embedded_broker> embedded;
#endif
  if (s.target.empty()) {
#ifdef MQTTSPEC_HAVE_EMBEDDED_BROKER
    auto bo = broker::embedded_broker::default_options();
    bo.max_connections = std::max<std::size_t>(bo.max_connections, o.connections + 1000);
    const bool tls = s.tls || !s.tls_options.ca.empty() || !s.tls_options.cert.empty() || s.tls_options.insecure;
    auto tls_options = s.tls_options;
    if (s.websocket) bo.ws_port = 0;
    if (tls) {
      const auto id = transport::make_self_signed("localhost");
      auto server_ctx = transport::make_server_context({{"", id.cert_pem}, {"", id.key_pem}, {}});
      if (!server_ctx) {
        std::cerr << "mqttspec bench: embedded TLS listener: " << server_ctx.error() << "\n";
        return 2;
      }
      bo.tls = *server_ctx;
      if (tls_options.ca.empty()) tls_options.ca.pem = id.cert_pem;
    }
    const auto before = own_tasks();
    embedded = std::make_unique<broker::embedded_broker>(bo);
    run_target rt;
    rt.label = "embedded";
    rt.where.host = "127.0.0.1";
    rt.where.port = std::to_string(s.websocket ? embedded->ws_port() : embedded->port());
    if (s.websocket) rt.where.ws_path = "/mqtt";
    if (tls) {
      auto ctx = transport::make_client_context(tls_options);
      if (!ctx) {
        std::cerr << "mqttspec bench: " << ctx.error() << "\n";
        return 2;
      }
      rt.tls = *ctx;
      rt.verify = !tls_options.insecure;
      rt.where.secure = true;
    }
    for (int t : own_tasks())
      if (std::find(before.begin(), before.end(), t) == before.end()) rt.tids.push_back(t);
    targets.push_back(std::move(rt));
#else
    std::cerr << "mqttspec bench: built without the reference broker; give --target\n";
    return 2;
#endif
  } else {
    auto t = make_target(s.target, s, s.pid);
    if (!t) {
      std::cerr << "mqttspec bench: --target: " << t.error() << "\n";
      return 2;
    }
    targets.push_back(std::move(*t));
  }
  if (!s.compare.empty()) {
    auto t = make_target(s.compare, s, s.compare_pid);
    if (!t) {
      std::cerr << "mqttspec bench: --compare: " << t.error() << "\n";
      return 2;
    }
    targets.push_back(std::move(*t));
  }

  if (!s.label.empty()) targets[0].label = s.label;
  if (targets.size() > 1 && !s.compare_label.empty()) targets[1].label = s.compare_label;
  const bool live = !s.quiet && isatty(STDERR_FILENO);
  std::vector<result> results;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the first broker settle
    if (live) std::cerr << (targets.size() > 1 ? (i == 0 ? "A: " : "B: ") : "") << targets[i].label << ": " << o.describe() << "\n";
    results.push_back(run_workload(o, targets[i], live ? &std::cerr : nullptr));
  }

  if (s.json) std::cout << to_json(results).dump(2) << "\n";
  else print_table(std::cout, results);
  if (!s.json_file.empty()) {
    std::ofstream f(s.json_file);
    f << to_json(results).dump(2) << "\n";
    if (!f) std::cerr << "mqttspec bench: cannot write " << s.json_file << "\n";
  }
  if (!s.markdown_file.empty()) {
    std::ofstream f(s.markdown_file);
    print_markdown(f, results);
    if (!f) std::cerr << "mqttspec bench: cannot write " << s.markdown_file << "\n";
  }
  return exit_status(results);
}

}  // namespace

std::function<int()> add_bench_command(CLI::App& app, CLI::App*& sub) {
  auto s = std::make_shared<settings>();
  sub = app.add_subcommand("bench", "Load generator and latency meter for any broker (throughput, latency, loss, CPU, memory)");
  std::string names;
  for (const auto& p : presets()) names += (names.empty() ? "" : ", ") + p.name;
  sub->add_option("preset", s->preset, "workload preset: " + names)->capture_default_str();
  auto field = [&](const std::string& name, auto member, const std::string& help) {
    auto* opt = sub->add_option(name, s->cli.*member, help);
    s->overrides.emplace_back(opt, [member](options& dst, const options& src) { dst.*member = src.*member; });
    return opt;
  };
  sub->add_option("--target", s->target,
                  "broker host:port, or ws://host:port/path (wss:// with TLS); default: the embedded reference broker");
  sub->add_option("--compare", s->compare, "a second broker: the same workload runs there next, and the table shows A/B ratios");
  sub->add_option("--label", s->label, "the --target broker's name in tables (default: the target)");
  sub->add_option("--compare-label", s->compare_label, "the --compare broker's name in tables (default: its target)");
  sub->add_option("--broker-pid", s->pid, "the --target broker's process, for its CPU and memory (default: found from a local port)");
  sub->add_option("--compare-pid", s->compare_pid, "the --compare broker's process (default: found from a local port)");
  sub->add_option("--version", s->version, "MQTT version: 3.1.1 or 5.0")->check(CLI::IsMember({"3.1.1", "5.0"}))->capture_default_str();
  auto* kind = sub->add_option("--workload", s->workload_name,
                               "fan-in, fan-out, pairs, shared, retained, connect-storm, idle (default: the preset's)")
                   ->check([](const std::string& w) { return workload_from(w) ? std::string() : "unknown workload " + w; });
  s->overrides.emplace_back(kind, [s = s.get()](options& dst, const options&) { dst.kind = *workload_from(s->workload_name); });
  field("--publishers", &options::publishers, "publishers (pairs: pairs)");
  field("--subscribers", &options::subscribers, "subscribers (shared: group members)");
  field("--qos", &options::qos, "QoS of the PUBLISH packets (0, 1, 2)")->check(CLI::Range(0u, 2u));
  field("--sub-qos", &options::sub_qos, "QoS asked in SUBSCRIBE (default: --qos)")->check(CLI::Range(0u, 2u));
  field("--payload", &options::payload, "payload bytes (at least 24: the stamp)");
  field("--rate", &options::rate, "messages/s in total (connect-storm: connections/s); 0: saturation");
  field("--duration", &options::duration, "seconds of publishing (idle: of holding the connections)");
  field("--count", &options::count, "messages in total instead of a duration");
  field("--inflight", &options::inflight, "QoS 1/2: unacknowledged PUBLISH per publisher (capped by Receive Maximum)");
  field("--window", &options::window, "messages per receiver published but not yet delivered (flow control at saturation); default 2000 at QoS 0, 500 at QoS 1/2");
  field("--topics", &options::topics, "retained: retained messages, one per topic");
  field("--connections", &options::connections, "connect-storm, idle: connections");
  field("--concurrency", &options::concurrency, "connections being opened at once");
  field("--drain-timeout", &options::drain_timeout, "seconds to wait for the last deliveries after publishing");
  field("--keep-alive", &options::keep_alive, "Keep Alive in CONNECT (seconds); quiet connections send PINGREQ");
  field("--topic-prefix", &options::topic_prefix, "topics are PREFIX/<run>/...");
  field("--username", &options::username, "user name in every CONNECT");
  field("--password", &options::password, "password in every CONNECT");
  field("--logins", &options::logins,
        "messaging workloads: this many more clients log in over and over meanwhile (CONNECT, CONNACK, DISCONNECT)");
  sub->add_flag("--tls", s->tls, "TLS (implied by wss:// and the other TLS options); no target: the embedded broker behind TLS");
  sub->add_flag("--ws", s->websocket, "MQTT over WebSocket (a host:port target is upgraded at /mqtt)");
  sub->add_option("--cafile", s->tls_options.ca.file, "PEM CAs that sign the broker's certificate")->check(CLI::ExistingFile);
  sub->add_option("--cert", s->tls_options.cert.file, "PEM client certificate")->check(CLI::ExistingFile);
  sub->add_option("--key", s->tls_options.key.file, "PEM private key of --cert")->check(CLI::ExistingFile);
  sub->add_flag("--insecure", s->tls_options.insecure, "accept any broker certificate and host name");
  sub->add_flag("--json", s->json, "print JSON instead of the table");
  sub->add_option("--json-file", s->json_file, "also write the JSON here");
  sub->add_option("--markdown-file", s->markdown_file, "also write a markdown table here");
  sub->add_flag("--quiet", s->quiet, "no live progress line (it shows only on a terminal anyway)");
  sub->add_flag("--list-presets", s->list, "list the presets and exit");
  return [s]() { return run_bench(*s); };
}

}  // namespace mqttspec::bench
