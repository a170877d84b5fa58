#pragma once
// SCRAM-SHA-256 (mqttspec_auth) plugged into the broker core as an enhanced-authentication method:
// config.enhanced_auth[auth::scram::method_name] = make_scram_sha256(users).
#include "mqttspec/auth/scram.hpp"
#include "mqttspec/broker/enhanced_auth.hpp"

#include <string>
#include <vector>

namespace mqttspec::broker {

struct scram_user {
  std::string name;
  std::string password;
};

// "USER:PASSWORD" (the password may hold ':'); nullopt without a ':' or with an empty user.
std::optional<scram_user> parse_scram_user(std::string_view text);

// Derives each user's stored keys once, with a random salt; the password itself is not kept.
// Nonces come from `nonces` (random unless a test replays an exchange).
std::function<auth_exchange()> make_scram_sha256(const std::vector<scram_user>& users,
                                                 auth::scram::server_exchange::nonce_source nonces = auth::scram::random_nonce,
                                                 unsigned iterations = auth::scram::default_iterations);

}  // namespace mqttspec::broker
