#include "fuzz_command.hpp"

#include "mqttspec/broker/embedded.hpp"
#include "mqttspec/netfuzz/net_fuzz.hpp"

#include <iostream>
#include <memory>

namespace mqttspec::conformance {

std::function<int()> add_fuzz_command(CLI::App& app, CLI::App*& sub) {
  struct settings {
    netfuzz::net_fuzz_options options;
    std::string target, replay, report_dir = "reports/fuzz/net", version = "all";
    double seconds = 10;
  };
  auto s = std::make_shared<settings>();
  sub = app.add_subcommand("fuzz", "Mutational fuzzing of a broker over TCP (liveness + conformance oracles)");
  sub->add_option("--target", s->target, "broker host:port; default: the embedded reference broker");
  sub->add_option("--time", s->seconds, "seconds to run (0: until --cases)")->capture_default_str();
  sub->add_option("--cases", s->options.max_cases, "stop after this many cases (0: no limit)");
  sub->add_option("--seed", s->options.seed, "same seed, same cases")->capture_default_str();
  sub->add_option("--version", s->version, "3.1.1, 5.0 or all")->check(CLI::IsMember({"3.1.1", "5.0", "all"}));
  sub->add_option("--report-dir", s->report_dir, "where findings and junit.xml go")->capture_default_str();
  sub->add_option("--replay", s->replay, "replay one saved finding instead of fuzzing")->check(CLI::ExistingFile);

  return [s]() {
    auto& o = s->options;
    o.duration = std::chrono::milliseconds(static_cast<long long>(s->seconds * 1000));
    o.report_dir = s->report_dir;
    if (s->version == "3.1.1") o.versions = {codec::protocol_version::v3_1_1};
    if (s->version == "5.0") o.versions = {codec::protocol_version::v5};
    std::unique_ptr<broker::embedded_broker> embedded;
    if (s->target.empty()) {
      embedded = std::make_unique<broker::embedded_broker>();
      o.host = "127.0.0.1";
      o.port = std::to_string(embedded->port());
      std::cout << "fuzzing the embedded reference broker on port " << o.port << "\n";
    } else {
      const auto colon = s->target.rfind(':');
      if (colon == std::string::npos) {
        std::cerr << "mqttspec: --target wants host:port\n";
        return 2;
      }
      o.host = s->target.substr(0, colon);
      o.port = s->target.substr(colon + 1);
    }
    if (!s->replay.empty()) return netfuzz::replay_net_case(s->replay, o, std::cout);
    return netfuzz::run_net_fuzz(o, std::cout);
  };
}

}  // namespace mqttspec::conformance
