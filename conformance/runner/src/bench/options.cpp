#include "options.hpp"

#include "payload.hpp"

#include <array>
#include <sstream>

namespace mqttspec::bench {

namespace {

constexpr std::array<std::pair<workload, std::string_view>, 7> workload_names{{
    {workload::fan_in, "fan-in"},
    {workload::fan_out, "fan-out"},
    {workload::pairs, "pairs"},
    {workload::shared, "shared"},
    {workload::retained, "retained"},
    {workload::connect_storm, "connect-storm"},
    {workload::idle, "idle"},
}};

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

std::string_view to_string(workload w) noexcept {
  for (const auto& [k, name] : workload_names)
    if (k == w) return name;
  return "?";
}

std::optional<workload> workload_from(std::string_view name) noexcept {
  for (const auto& [k, n] : workload_names)
    if (n == name) return k;
  return std::nullopt;
}

unsigned options::effective_publishers() const noexcept {
  if (publishers) return publishers;
  switch (kind) {
    case workload::fan_in: return 10;
    case workload::fan_out: return 1;
    case workload::pairs: return subscribers ? subscribers : 10;
    case workload::shared: return 4;
    case workload::retained: return 1;
    case workload::connect_storm:
    case workload::idle: return 0;
  }
  return 1;
}

unsigned options::effective_subscribers() const noexcept {
  if (kind == workload::pairs) return effective_publishers();
  if (subscribers) return subscribers;
  switch (kind) {
    case workload::fan_in: return 1;
    case workload::fan_out: return 10;
    case workload::shared: return 4;
    case workload::retained: return 10;
    case workload::pairs:
    case workload::connect_storm:
    case workload::idle: return 0;
  }
  return 1;
}

std::string options::describe() const {
  std::ostringstream s;
  s << to_string(kind) << ", MQTT " << (version == codec::protocol_version::v5 ? "5.0" : "3.1.1");
  if (kind == workload::connect_storm || kind == workload::idle) {
    s << ", " << connections << " connections, " << concurrency << " opening at once";
    if (kind == workload::connect_storm) s << ", " << (rate > 0 ? number(rate) + " connects/s" : "as fast as possible");
    if (kind == workload::idle) s << ", held " << number(duration) << " s";
    return s.str();
  }
  s << ", QoS " << qos;
  if (effective_sub_qos() != qos) s << " (subscribed at " << effective_sub_qos() << ")";
  s << ", " << payload << " B payload";
  const unsigned p = effective_publishers(), n = effective_subscribers();
  switch (kind) {
    case workload::pairs: s << ", " << p << " pairs"; break;
    case workload::shared: s << ", " << p << " publishers -> $share group of " << n; break;
    case workload::retained: s << ", " << topics << " retained topics by " << p << " publisher(s), " << n << " subscribers"; break;
    default: s << ", " << p << " publisher(s) -> " << n << " subscriber(s)";
  }
  if (kind != workload::retained) {
    s << ", " << (rate > 0 ? number(rate) + " msg/s" : std::string("saturation"));
    s << ", " << (count ? std::to_string(count) + " messages" : number(duration) + " s");
    if (qos > 0) s << ", in-flight " << inflight;
    s << ", window " << effective_window();
    if (logins) s << ", " << logins << " client(s) logging in meanwhile";
  }
  return s.str();
}

std::string options::check() const {
  if (qos > 2 || effective_sub_qos() > 2) return "QoS is 0, 1 or 2";
  if (payload < stamp_size) return "--payload must be at least " + std::to_string(stamp_size) + " bytes (the stamp)";
  if (payload > 256u * 1024 * 1024) return "--payload too large";
  if (inflight == 0 || inflight > 65535) return "--inflight is 1..65535";
  if (concurrency == 0) return "--concurrency must be above 0";
  if (rate < 0 || duration < 0 || drain_timeout < 0) return "rates and times are not negative";
  const bool messaging = kind != workload::connect_storm && kind != workload::idle;
  if (messaging && kind != workload::retained && count == 0 && duration <= 0) return "give --duration or --count";
  if (messaging && (effective_publishers() == 0 || effective_subscribers() == 0)) return "need publishers and subscribers";
  if (kind == workload::pairs && publishers && subscribers && publishers != subscribers)
    return "pairs: --publishers and --subscribers must match (or give one)";
  if (kind == workload::retained && topics == 0) return "--topics must be above 0";
  if (!messaging && connections == 0) return "--connections must be above 0";
  if (logins && (!messaging || kind == workload::retained)) return "--logins goes with fan-in, fan-out, pairs or shared";
  if (topic_prefix.empty() || topic_prefix.find_first_of("+#") != std::string::npos) return "--topic-prefix: a topic name without wildcards";
  return {};
}

const std::vector<preset>& presets() {
  static const std::vector<preset> all{
      {"fan-in", "10 publishers -> 1 subscriber (wildcard), saturation", [](options& o) { o.kind = workload::fan_in; }},
      {"fan-out", "1 publisher -> 10 subscribers of its topic, saturation", [](options& o) { o.kind = workload::fan_out; }},
      {"pairs", "10 publisher/subscriber pairs, each on its own topic, saturation", [](options& o) { o.kind = workload::pairs; }},
      {"shared", "4 publishers -> one $share group of 4 members (MQTT 5.0), saturation",
       [](options& o) { o.kind = workload::shared; }},
      {"retained", "1000 retained messages, then 10 subscribers subscribe at once and each gets all",
       [](options& o) { o.kind = workload::retained; }},
      {"connect-storm", "1000 connections opened (100 at once), CONNACKed and closed: connects/s, time to CONNACK",
       [](options& o) { o.kind = workload::connect_storm; }},
      {"idle", "1000 idle connections held 2 s: the broker's memory per connection",
       [](options& o) {
         o.kind = workload::idle;
         o.duration = 2;
       }},
      {"latency", "10 pairs at 1000 msg/s in total, QoS 1: latency at moderate load",
       [](options& o) {
         o.kind = workload::pairs;
         o.rate = 1000;
         o.qos = 1;
       }},
      {"large", "4 pairs, 64 KiB payloads, QoS 1", [](options& o) {
         o.kind = workload::pairs;
         o.publishers = 4;
         o.payload = 64 * 1024;
         o.qos = 1;
         o.window = 64;
       }},
      {"login-stall",
       "latency while 2 more clients log in over and over (--username/--password): does a login stall the others?",
       [](options& o) {
         o.kind = workload::pairs;
         o.rate = 1000;
         o.qos = 1;
         o.logins = 2;
       }},
      {"many-subscribers", "1 publisher -> 1000 subscribers at 100 msg/s", [](options& o) {
         o.kind = workload::fan_out;
         o.subscribers = 1000;
         o.rate = 100;
       }},
      {"smoke", "2 pairs, QoS 1, 1 s (a quick check that a broker works under load)", [](options& o) {
         o.kind = workload::pairs;
         o.publishers = 2;
         o.qos = 1;
         o.duration = 1;
       }},
  };
  return all;
}

std::uint64_t result::work_units() const {
  if (workload == "connect-storm" || workload == "idle") return connections;
  return delivered;
}

std::optional<double> result::broker_cpu_per_million() const {
  if (!broker_cpu || work_units() == 0) return std::nullopt;
  return *broker_cpu * 1e6 / static_cast<double>(work_units());
}

double result::generator_cpu_per_million() const {
  return work_units() ? generator_cpu * 1e6 / static_cast<double>(work_units()) : 0.0;
}

std::optional<double> result::memory_per_connection() const {
  if (workload != "idle" || !rss_before || !rss_after || connections == 0) return std::nullopt;
  return (static_cast<double>(*rss_after) - static_cast<double>(*rss_before)) / static_cast<double>(connections);
}

}  // namespace mqttspec::bench
