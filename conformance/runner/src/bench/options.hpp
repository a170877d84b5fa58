#pragma once
// What `mqttspec bench` runs: the workload, its size and pace, and where (options), and what came
// out of one run (result).
#include "histogram.hpp"

#include "mqttspec/codec/types.hpp"
#include "mqttspec/conformance/engine.hpp"

#include <asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mqttspec::bench {

enum class workload {
  fan_in,         // many publishers, each on its own topic; subscribers take all (a wildcard)
  fan_out,        // publishers on one topic, many subscribers
  pairs,          // N publisher/subscriber pairs, each on its own topic
  shared,         // publishers on their own topics; one shared subscription ($share) of S members
  retained,       // T retained messages, then S subscribers subscribe at once and each gets all T
  connect_storm,  // connections opened, CONNACKed and closed as fast as allowed
  idle,           // connections opened and held: the broker's memory per connection
};
std::string_view to_string(workload w) noexcept;
std::optional<workload> workload_from(std::string_view name) noexcept;

struct options {
  workload kind = workload::pairs;
  codec::protocol_version version = codec::protocol_version::v5;
  unsigned publishers = 0;   // 0: the workload's default
  unsigned subscribers = 0;  // 0: the workload's default
  unsigned qos = 0;          // of the PUBLISH packets
  std::optional<unsigned> sub_qos;  // requested in SUBSCRIBE; default: qos
  std::size_t payload = 64;  // bytes, at least stamp_size (24)
  double rate = 0;           // messages (or, for connect-storm, connections) per second in total; 0: as fast as allowed
  double duration = 10;      // seconds of publishing (idle: of holding); used when count is 0
  std::uint64_t count = 0;   // messages in total (shared out over the publishers); 0: use duration
  unsigned inflight = 100;   // QoS 1/2: unacknowledged PUBLISH per publisher (capped by Receive Maximum)
  // Messages per receiver published but not yet delivered; 0: 2000 at QoS 0, 500 at QoS 1/2 (under
  // the 1000 QoS 1/2 messages mosquitto queues per client by default).
  unsigned window = 0;
  unsigned topics = 1000;    // retained: messages (one per topic)
  unsigned connections = 1000;  // connect-storm and idle
  unsigned concurrency = 100;   // connections being opened at once
  double drain_timeout = 5;  // seconds to wait for the last deliveries and acks
  unsigned keep_alive = 60;
  std::string topic_prefix = "mqttspec-bench";
  std::optional<std::string> username, password;
  // Messaging workloads: this many more clients log in over and over while publishing lasts
  // (CONNECT with username/password, CONNACK, DISCONNECT, a new connection): does a login, e.g. a
  // slow password check, hold up the others' messages?
  unsigned logins = 0;
  bool progress = false;     // a live line on stderr once a second

  unsigned effective_publishers() const noexcept;
  unsigned effective_subscribers() const noexcept;
  unsigned effective_sub_qos() const noexcept { return sub_qos.value_or(qos); }
  unsigned effective_window() const noexcept { return window ? window : (qos == 0 ? 2000 : 500); }
  // A one-line description: "fan-in, MQTT 5.0, QoS 1, 64 B, 10 -> 1, saturation, 10 s".
  std::string describe() const;
  // Empty when the combination makes sense, else why not.
  std::string check() const;
};

// A named set of option values; the command line overrides any of them.
struct preset {
  std::string name;
  std::string summary;
  void (*apply)(options&);
};
const std::vector<preset>& presets();

// Where one run goes and how the broker is observed.
struct run_target {
  std::string label;  // shown in tables: "embedded", a host:port, a URL
  conformance::target where;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain TCP
  bool verify = true;
  std::optional<int> pid;  // a local broker process: CPU and memory from /proc/PID
  std::vector<int> tids;   // the embedded broker: its threads in this process
};

struct result {
  std::string label;
  std::string target;
  std::string workload;
  std::string description;
  std::string error;  // set: the run could not be done (setup failed, the broker went away)
  std::vector<std::string> violations;  // what the broker broke (loss at QoS 1/2, ...)
  std::vector<std::string> notes;       // what the reader should know (downgraded QoS, ...)

  unsigned qos = 0;          // the QoS deliveries were expected at (min of publish and granted)
  double elapsed = 0;        // seconds of the measured phase (publishing / connecting / holding)
  double delivery_span = 0;  // seconds from the start to the last delivery
  std::uint64_t sent = 0;          // PUBLISH written
  std::uint64_t acknowledged = 0;  // QoS 1/2: PUBACK / PUBCOMP received
  std::uint64_t refused = 0;       // acknowledgements with a failure reason code
  std::uint64_t delivered = 0;     // PUBLISH received by the subscribers (duplicates included)
  std::uint64_t expected = 0;      // deliveries due
  std::uint64_t lost = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;     // first arrivals after a higher number of the same publisher
  std::uint64_t foreign = 0;       // deliveries not from this run or from no publisher of the receiver
  double sent_rate = 0;
  double delivered_rate = 0;
  histogram latency;  // ns; retained: from SUBSCRIBE to the delivery

  // connect-storm and idle
  std::uint64_t connections = 0;
  std::uint64_t connect_failures = 0;
  double connect_rate = 0;
  histogram connack;  // ns from starting the TCP connect to the CONNACK

  // --logins: completed and failed logins, their rate over the publishing time, and their time
  // from the TCP connect to the CONNACK (ns).
  std::uint64_t logins = 0;
  std::uint64_t login_failures = 0;
  double login_rate = 0;
  histogram login;

  std::optional<int> broker_pid;
  bool broker_embedded = false;
  std::optional<double> broker_cpu;       // seconds during the measured phase
  std::optional<std::uint64_t> rss_before, rss_after;  // bytes
  double generator_cpu = 0;               // seconds of the generator's thread, same phase

  // Per million messages (deliveries, or connections for connect-storm/idle); nullopt without data.
  std::optional<double> broker_cpu_per_million() const;
  double generator_cpu_per_million() const;
  std::optional<double> memory_per_connection() const;  // bytes, idle only
  std::uint64_t work_units() const;  // what per_million divides by
};

}  // namespace mqttspec::bench
