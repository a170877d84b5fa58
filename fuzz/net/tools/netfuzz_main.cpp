// netfuzz: run the network fuzzer by hand (`mqttspec fuzz` is the full command: TLS, WebSocket,
// reports with rule texts).
//   netfuzz [--target host:port | --embedded | --broker-cmd CMD] [--time S] [--cases N] [--seed N]
//           [--version 3.1.1|5] [--workers N] [--reports DIR] [--no-minimize] [--quiet]
//           [--replay FILE [--repeat N]]
#include "mqttspec/netfuzz/net_fuzz.hpp"

#ifdef MQTTSPEC_HAVE_EMBEDDED_BROKER
#include "mqttspec/broker/embedded.hpp"
#endif

#include <iostream>
#include <memory>
#include <string>

int main(int argc, char** argv) {
  using namespace mqttspec::netfuzz;
  net_fuzz_options o;
  std::string replay;
  unsigned repeat = 1;
  bool embedded = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--target") {
      auto t = value();
      auto colon = t.rfind(':');
      o.target.host = t.substr(0, colon);
      if (colon != std::string::npos) o.target.port = t.substr(colon + 1);
    } else if (a == "--embedded") embedded = true;
    else if (a == "--broker-cmd") o.broker_cmd = value();
    else if (a == "--time") o.duration = std::chrono::milliseconds(static_cast<long>(std::stod(value()) * 1000));
    else if (a == "--cases") {
      o.max_cases = std::stoull(value());
      o.duration = std::chrono::milliseconds(0);
    } else if (a == "--seed") o.seed = std::stoull(value());
    else if (a == "--workers") o.workers = static_cast<unsigned>(std::stoul(value()));
    else if (a == "--version") {
      auto v = value();
      o.versions = {v == "5" || v == "5.0" ? mqttspec::codec::protocol_version::v5
                                           : mqttspec::codec::protocol_version::v3_1_1};
    } else if (a == "--reports") o.report_dir = value();
    else if (a == "--no-minimize") o.minimize = false;
    else if (a == "--quiet") o.quiet = true;
    else if (a == "--replay") replay = value();
    else if (a == "--repeat") repeat = static_cast<unsigned>(std::stoul(value()));
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
#ifdef MQTTSPEC_HAVE_EMBEDDED_BROKER
  std::unique_ptr<mqttspec::broker::embedded_broker> broker;
  if (embedded) {
    broker = std::make_unique<mqttspec::broker::embedded_broker>();
    o.target.host = "127.0.0.1";
    o.target.port = std::to_string(broker->port());
  }
#else
  if (embedded) {
    std::cerr << "built without the reference broker\n";
    return 2;
  }
#endif
  if (!replay.empty()) return replay_net_case(replay, o, std::cout, repeat);
  return run_net_fuzz(o, std::cout);
}
