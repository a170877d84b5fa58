#pragma once
// Enhanced authentication (5.0 §4.12) as the broker core sees it: a method is a named factory of
// exchanges, and an exchange turns each Authentication Data from the client into the next step.
// The core carries the steps in AUTH / CONNACK / DISCONNECT packets and keeps the MQTT rules
// (method consistency, reason codes, re-authentication, the CONNECT timeout); the mechanism itself
// (SCRAM, say) is plugged in by the shell, so the core stays free of crypto and randomness.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace mqttspec::broker {

enum class auth_outcome : std::uint8_t {
  challenge,  // send `data` in AUTH 0x18 and wait for the client's AUTH 0x18
  success,    // authenticated: `data` goes into the CONNACK (or the AUTH 0x00 of a re-authentication)
  failure,    // refuse: CONNACK 0x87, or DISCONNECT 0x87 after a failed re-authentication
};

struct auth_step {
  auth_outcome outcome = auth_outcome::failure;
  std::string data;
  std::string why;  // for the log when it failed
};

// One exchange: called with the CONNECT's (or AUTH 0x19's) Authentication Data, then with the data
// of each AUTH 0x18 that answers a challenge.
using auth_exchange = std::function<auth_step(std::string_view data)>;
// Authentication Method name -> a fresh exchange for each authentication.
using auth_methods = std::map<std::string, std::function<auth_exchange()>, std::less<>>;

}  // namespace mqttspec::broker
