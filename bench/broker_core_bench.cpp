// The broker core's cost per outbound QoS 1 message as the subscriber's Receive Maximum grows.
// In process, no I/O: a publisher sends a burst of QoS 1 messages to a subscriber that acknowledges
// nothing until the burst is in; then it acknowledges each PUBLISH as it arrives. With a window of
// 10 nearly all of the burst waits in the queue; with 65535 all of it is in flight at once. The
// time per message should not depend on the window.
#include "mqttspec/broker/broker.hpp"
#include "mqttspec/codec/codec.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>

namespace {

namespace broker = mqttspec::broker;
namespace codec = mqttspec::codec;

constexpr auto v5 = codec::protocol_version::v5;

codec::bytes wire(const codec::packet& p) {
  auto out = codec::encode(p, v5);
  if (!out) throw std::runtime_error("encode: " + out.error().message());
  return *out;
}

// One broker with a publisher and a subscriber to "t" at QoS 1 announcing `window` as its Receive Maximum.
class bench_broker {
 public:
  bench_broker(std::uint16_t window, std::size_t burst) : core_(settings(burst)) {
    codec::connect c;
    c.version = v5;
    c.client_id = "sub";
    c.props.receive_maximum = window;
    sub_ = connect(c);
    codec::subscribe s;
    s.packet_id = 1;
    s.subscriptions.push_back({"t", {codec::qos::at_least_once, false, false, codec::retain_handling::do_not_send}});
    core_.receive(sub_, wire(s), now_);
    c.client_id = "pub";
    c.props.receive_maximum.reset();
    pub_ = connect(c);
    codec::publish p;
    p.qos_level = codec::qos::at_least_once;
    p.topic = "t";
    p.packet_id = 1;  // free again as soon as its PUBACK is out, which is at once
    p.payload = payload_;
    publish_ = wire(p);
    drain();
    unacked_.clear();
  }

  // The burst in, then each delivery acknowledged, until nothing is in flight or queued.
  void run(std::size_t burst) {
    for (std::size_t i = 0; i < burst; ++i) {
      core_.receive(pub_, publish_, now_);
      drain();
    }
    while (!unacked_.empty()) {
      const auto id = unacked_.front();
      unacked_.pop_front();
      core_.receive(sub_, wire(codec::puback{id, codec::reason_code::success, {}}), now_);
      drain();
    }
  }

 private:
  static broker::config settings(std::size_t burst) {
    broker::config c;
    c.max_queued_messages = burst;  // the whole burst waits when the window is small
    return c;
  }

  broker::connection_id connect(const codec::connect& c) {
    const auto id = core_.open(now_);
    core_.receive(id, wire(c), now_);
    return id;
  }

  // Carries out the actions: what reaches the subscriber is decoded for the identifiers to acknowledge.
  void drain() {
    for (auto& a : core_.take_actions()) {
      auto* t = std::get_if<broker::transmit_to>(&a);
      if (!t || t->id != sub_) continue;
      framer_.feed(t->data);
      for (auto f = framer_.next(); f; f = framer_.next()) {
        auto p = codec::decode(*f, v5);
        if (!p) throw std::runtime_error("the broker sent an undecodable packet");
        if (auto* pub = std::get_if<codec::publish>(&*p)) unacked_.push_back(pub->packet_id);
      }
    }
  }

  broker::broker core_;
  broker::millis now_ = 1'000;
  broker::connection_id sub_ = 0;
  broker::connection_id pub_ = 0;
  const std::string payload_ = std::string(64, 'x');
  codec::bytes publish_;
  codec::framer framer_;
  std::deque<std::uint16_t> unacked_;
};

// Args: the subscriber's Receive Maximum, the burst (messages per iteration).
void BM_qos1_fan_in_burst(benchmark::State& state) {
  const auto window = static_cast<std::uint16_t>(state.range(0));
  const auto burst = static_cast<std::size_t>(state.range(1));
  bench_broker b(window, burst);
  for (auto _ : state) b.run(burst);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(burst));
}
BENCHMARK(BM_qos1_fan_in_burst)
    ->ArgNames({"receive_maximum", "burst"})
    ->Args({10, 1'000})
    ->Args({65535, 1'000})
    ->Args({10, 4'000})
    ->Args({65535, 4'000})
    ->Args({10, 16'000})
    ->Args({65535, 16'000})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
