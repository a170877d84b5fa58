// mqttspec: the command line of the conformance suite.
#include "mqttspec/conformance/decode_command.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <iterator>
#include <map>

namespace {

using mqttspec::codec::protocol_version;

const std::map<std::string, protocol_version> versions{
    {"3.1", protocol_version::v3_1}, {"3.1.1", protocol_version::v3_1_1}, {"5", protocol_version::v5},
    {"5.0", protocol_version::v5}};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mqttspec: MQTT 3.1.1 and 5.0 conformance suite"};
  app.require_subcommand(1);

  auto* decode = app.add_subcommand("decode", "Decode MQTT packets given as hex (argument or stdin) into JSON");
  std::vector<std::string> hex_args;
  std::optional<protocol_version> version;
  decode->add_option("hex", hex_args, "hex bytes, spaces allowed; read from stdin when absent");
  decode->add_option("--version", version, "protocol version (3.1, 3.1.1, 5.0); default: from a leading CONNECT, else 5.0")
      ->transform(CLI::CheckedTransformer(versions));

  CLI11_PARSE(app, argc, argv);

  if (decode->parsed()) {
    std::string hex;
    if (hex_args.empty()) {
      hex.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      for (const auto& h : hex_args) (hex += h) += ' ';
    }
    return mqttspec::conformance::decode_hex_stream(hex, version, std::cout);
  }
  return 0;
}
