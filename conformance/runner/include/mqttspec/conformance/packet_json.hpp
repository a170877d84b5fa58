#pragma once
// JSON form of packets and decode errors, for `mqttspec decode`, results.json and wire logs.
#include "mqttspec/codec/codec.hpp"

#include <nlohmann/json.hpp>

namespace mqttspec::conformance {

nlohmann::ordered_json to_json(const codec::packet& p);
nlohmann::ordered_json to_json(const codec::properties& p);
nlohmann::ordered_json to_json(const codec::decode_error& e);

}  // namespace mqttspec::conformance
