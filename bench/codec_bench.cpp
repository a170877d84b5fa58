// Decode and encode cost of representative packets, MQTT 3.1.1 and 5.0 (with
// properties), and the heap allocations each makes (the `allocs` counter, per
// packet). Decode includes full validation (UTF-8, topic and filter syntax,
// reserved bits, properties); strings and payloads are views into the frame,
// never copied. `baseline/...` decodes the same 3.1.1 bytes with a decoder that
// checks nothing (baseline_decoder.hpp): the price of validation is the ratio
// between the two.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "allocation_counter.hpp"
#include "baseline_decoder.hpp"
#include "mqttspec/codec/codec.hpp"

namespace {

using namespace mqttspec::codec;
namespace baseline = mqttspec::bench::baseline;
using mqttspec::testing::allocations;

const std::string topic20 = "sensors/room-12/temp";  // 20 bytes
const std::string payload(1024, 'x');
const std::vector<std::string> filters = {
    "a/b/c", "a/+/c", "a/#", "sensors/+/temp", "x/y", "home/+/+/state", "$SYS/#", "devices/42/cmd", "q/r/s/t", "z"};

packet publish_of(std::size_t payload_size, bool with_props) {
  publish p;
  p.qos_level = qos::at_least_once;
  p.packet_id = 42;
  p.topic = topic20;
  p.payload = std::string_view(payload).substr(0, payload_size);
  if (with_props) {
    p.props.payload_format_indicator = 1;
    p.props.message_expiry_interval = 60;
    p.props.content_type = "application/json";
    p.props.user_properties = {{"trace", "4bf92f35"}};
  }
  return p;
}

packet connect_of(bool with_props) {
  connect c;
  c.version = with_props ? protocol_version::v5 : protocol_version::v3_1_1;
  c.client_id = "bench-client-0001";
  c.keep_alive = 30;
  will_message w;
  w.qos_level = qos::at_least_once;
  w.topic = "devices/bench/status";
  w.payload = "offline";
  if (with_props) {
    c.props.session_expiry_interval = 3600;
    c.props.receive_maximum = 100;
    c.props.maximum_packet_size = 65536;
    c.props.topic_alias_maximum = 10;
    c.props.user_properties = {{"region", "eu"}, {"fw", "1.2.3"}};
    w.props.will_delay_interval = 5;
    w.props.content_type = "text/plain";
  }
  c.will = w;
  c.user_name = "user";
  c.password = "secret";
  return c;
}

packet subscribe_of(std::size_t n, bool with_props) {
  subscribe s;
  s.packet_id = 7;
  for (std::size_t i = 0; i < n; ++i) s.subscriptions.push_back({filters[i], {qos::at_least_once}});
  if (with_props) s.props.subscription_identifiers = {12};
  return s;
}

packet puback_of(bool) {
  puback a;
  a.packet_id = 42;
  return a;
}
packet pingreq_of(bool) { return pingreq{}; }

struct sample {
  const char *name;
  packet (*make)(bool with_props);
  bool baseline;  // a baseline decoder exists for its 3.1.1 form
};

const sample samples[] = {
    {"publish_small", [](bool p) { return publish_of(64, p); }, true},
    {"publish_1kib", [](bool p) { return publish_of(1024, p); }, false},
    {"subscribe_1", [](bool p) { return subscribe_of(1, p); }, true},
    {"subscribe_10", [](bool p) { return subscribe_of(10, p); }, true},
    {"connect_will_user_password", connect_of, true},
    {"puback", puback_of, false},
    {"pingreq", pingreq_of, false},
};

// Allocations per iteration, measured over the timed loop (the counter is
// thread-local and the loop runs on this thread).
struct allocation_meter {
  benchmark::State &state;
  std::size_t start = allocations();
  ~allocation_meter() {
    state.counters["allocs"] =
        benchmark::Counter(static_cast<double>(allocations() - start), benchmark::Counter::kAvgIterations);
  }
};

void bm_decode(benchmark::State &state, const bytes &wire, protocol_version v) {
  {
    allocation_meter meter{state};
    for (auto _ : state) {
      auto f = parse_frame(wire);
      auto p = decode(*f, v);
      benchmark::DoNotOptimize(p);
    }
  }
  state.SetItemsProcessed(state.iterations());
}

template <class Packet>
void bm_baseline(benchmark::State &state, const bytes &wire) {
  const auto *at = reinterpret_cast<const std::uint8_t *>(wire.data());
  const baseline::cursor c{at, at + wire.size()};
  {
    allocation_meter meter{state};
    for (auto _ : state) {
      Packet p;
      bool ok = baseline::decode(c, p);
      benchmark::DoNotOptimize(ok);
      benchmark::DoNotOptimize(p);
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Into a caller-provided buffer that is reused: after the first packet, no
// allocation.
void bm_encode(benchmark::State &state, const packet &p, protocol_version v) {
  bytes out;
  out.reserve(4096);
  {
    allocation_meter meter{state};
    for (auto _ : state) {
      out.clear();
      (void)encode_to(p, v, out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void register_all() {
  for (const sample &s : samples) {
    for (bool five : {false, true}) {
      const auto v = five ? protocol_version::v5 : protocol_version::v3_1_1;
      const std::string name = std::string(s.name) + (five ? "_v5" : "_v311");
      auto wire = std::make_shared<const bytes>(*encode(s.make(five), v));
      auto value = std::make_shared<const packet>(s.make(five));
      benchmark::RegisterBenchmark(("decode/" + name).c_str(),
                                   [wire, v](benchmark::State &st) { bm_decode(st, *wire, v); });
      if (s.baseline && !five) {
        const std::string kind = s.name;
        benchmark::RegisterBenchmark(("baseline/" + name).c_str(), [wire, kind](benchmark::State &st) {
          if (kind.starts_with("publish"))
            bm_baseline<baseline::publish>(st, *wire);
          else if (kind.starts_with("subscribe"))
            bm_baseline<baseline::subscribe>(st, *wire);
          else
            bm_baseline<baseline::connect>(st, *wire);
        });
      }
      benchmark::RegisterBenchmark(("encode/" + name).c_str(),
                                   [value, v](benchmark::State &st) { bm_encode(st, *value, v); });
    }
  }
}

}  // namespace

int main(int argc, char **argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
