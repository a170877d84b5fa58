#include "mqttspec/broker/scram_method.hpp"

#include <map>
#include <memory>

namespace mqttspec::broker {

std::optional<scram_user> parse_scram_user(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return scram_user{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

std::function<auth_exchange()> make_scram_sha256(const std::vector<scram_user>& users,
                                                 auth::scram::server_exchange::nonce_source nonces, unsigned iterations) {
  using credentials_map = std::map<std::string, auth::scram::stored_credentials, std::less<>>;
  auto store = std::make_shared<credentials_map>();
  for (const auto& u : users)
    (*store)[u.name] = auth::scram::derive_credentials(u.password, auth::scram::random_salt(), iterations);
  return [store, nonces = std::move(nonces)]() -> auth_exchange {
    auto lookup = [store](std::string_view user) -> const auth::scram::stored_credentials* {
      auto it = store->find(user);
      return it == store->end() ? nullptr : &it->second;
    };
    auto exchange = std::make_shared<auth::scram::server_exchange>(std::move(lookup), nonces);
    return [exchange](std::string_view data) {
      using outcome = auth::scram::server_exchange::outcome;
      auto r = exchange->step(data);
      const auto o = r.result == outcome::challenge ? auth_outcome::challenge
                     : r.result == outcome::success ? auth_outcome::success
                                                    : auth_outcome::failure;
      return auth_step{o, std::move(r.data), std::move(r.why)};
    };
  };
}

}  // namespace mqttspec::broker
