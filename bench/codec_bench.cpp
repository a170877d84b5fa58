// Decode and encode throughput of representative packets. Decode includes full validation
// (UTF-8, topic syntax, properties); payloads are views into the frame, never copied.
#include "mqttspec/codec/codec.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

using namespace mqttspec::codec;

struct sample {
  packet value;
  bytes storage;  // strings the packet's views point into
};

publish make_publish(std::size_t payload_size, const std::string& topic, const std::string& payload) {
  publish p;
  p.qos_level = qos::at_least_once;
  p.packet_id = 42;
  p.topic = topic;
  p.payload = std::string_view(payload).substr(0, payload_size);
  return p;
}

const std::string topic20 = "sensors/room-12/temp";  // 20 bytes
const std::string payload(1024, 'x');
const std::vector<std::string> filters = {"a/b/c", "a/+/c", "a/#", "sensors/+/temp", "x/y", "home/+/+/state",
                                          "$SYS/#", "devices/42/cmd", "q/r/s/t", "z"};

packet small_publish() { return make_publish(64, topic20, payload); }
packet kib_publish() { return make_publish(1024, topic20, payload); }

packet connect_with_will() {
  connect c;
  c.version = protocol_version::v5;
  c.client_id = "bench-client-0001";
  c.keep_alive = 30;
  c.props.session_expiry_interval = 3600;
  c.props.receive_maximum = 100;
  c.props.maximum_packet_size = 65536;
  c.props.topic_alias_maximum = 10;
  c.props.user_properties = {{"region", "eu"}, {"fw", "1.2.3"}};
  will_message w;
  w.qos_level = qos::at_least_once;
  w.topic = "devices/bench/status";
  w.payload = "offline";
  w.props.will_delay_interval = 5;
  w.props.content_type = "text/plain";
  c.will = w;
  c.user_name = "user";
  c.password = "secret";
  return c;
}

packet subscribe10() {
  subscribe s;
  s.packet_id = 7;
  for (const auto& f : filters) s.subscriptions.push_back({f, {qos::at_least_once}});
  return s;
}

void bm_decode(benchmark::State& state, packet (*make)(), protocol_version v) {
  const bytes wire = *encode(make(), v);
  for (auto _ : state) {
    auto f = parse_frame(wire);
    auto p = decode(*f, v);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}

void bm_encode(benchmark::State& state, packet (*make)(), protocol_version v) {
  const packet p = make();
  bytes out;
  for (auto _ : state) {
    out.clear();
    (void)encode_to(p, v, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out.size()));
}

constexpr auto v311 = protocol_version::v3_1_1;
constexpr auto v5 = protocol_version::v5;

BENCHMARK_CAPTURE(bm_decode, publish_small_v311, small_publish, v311);
BENCHMARK_CAPTURE(bm_decode, publish_small_v5, small_publish, v5);
BENCHMARK_CAPTURE(bm_decode, publish_1kib_v5, kib_publish, v5);
BENCHMARK_CAPTURE(bm_decode, connect_will_props_v5, connect_with_will, v5);
BENCHMARK_CAPTURE(bm_decode, subscribe_10_v5, subscribe10, v5);
BENCHMARK_CAPTURE(bm_encode, publish_small_v311, small_publish, v311);
BENCHMARK_CAPTURE(bm_encode, publish_small_v5, small_publish, v5);
BENCHMARK_CAPTURE(bm_encode, publish_1kib_v5, kib_publish, v5);
BENCHMARK_CAPTURE(bm_encode, connect_will_props_v5, connect_with_will, v5);
BENCHMARK_CAPTURE(bm_encode, subscribe_10_v5, subscribe10, v5);

}  // namespace

BENCHMARK_MAIN();
