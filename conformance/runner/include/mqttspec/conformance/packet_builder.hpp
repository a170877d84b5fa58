#pragma once
// Turns a step's (already expanded) attributes into bytes on the wire: packets by fields through
// codec::encode, malformed input through codec::build or verbatim hex.
#include "mqttspec/codec/codec.hpp"
#include "mqttspec/conformance/scenario.hpp"

#include <cstdint>
#include <string>

namespace mqttspec::conformance {

// Distinct from the bytes type (both are strings) so a result can hold either.
struct build_error {
  std::string message;
};
using build_result = codec::basic_result<codec::bytes, build_error>;

// Credentials from the command line, used by every CONNECT unless the step says otherwise.
struct credentials {
  std::optional<std::string> username;
  std::optional<std::string> password;
};

// <send>: type=... fields, hex=..., or first-byte + body-hex (+ length).
build_result build_send(const attributes& a, const std::vector<attributes>& topics,
                        const std::vector<attributes>& props, codec::protocol_version v);

// The PUBLISH payload of a step: payload-hex, or the payload text repeated payload-repeat times
// (default once; big packets without big scenario files).
build_result payload_of(const attributes& a);

// <connect>: <property name="will.NAME"> children are Will Properties. `client_id` is the default when the step has no client-id attribute.
// The Keep Alive of a CONNECT whose step gives none, seconds.
inline constexpr std::uint16_t default_keep_alive = 60;

build_result build_connect(const attributes& a, const std::vector<attributes>& props, codec::protocol_version v,
                           const std::string& client_id, const credentials& cred);

// Sets one property given by its snake_case name ("session_expiry_interval", "user_property" as
// "key=value"). The property struct keeps views into `value`, which must outlive it.
std::optional<std::string> set_property(codec::properties& p, std::string_view name, std::string_view value);

// snake_case name of a property id, as in packet JSON.
std::string property_name(codec::property_id id);

}  // namespace mqttspec::conformance
