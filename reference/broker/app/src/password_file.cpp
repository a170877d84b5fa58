#include "password_file.hpp"

#include "mqttspec/codec/hex.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace mqttspec::broker {
namespace {

constexpr std::string_view scheme = "pbkdf2-sha256";

std::string derive(std::string_view password, const std::string& salt, int iterations) {
  std::string out(32, '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                    EVP_sha256(), static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> parts;
  std::istringstream is(line);
  for (std::string part; std::getline(is, part, sep);) parts.push_back(part);
  return parts;
}

}  // namespace

std::optional<password_file> password_file::load(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read password file " + path;
    return std::nullopt;
  }
  password_file file;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    auto parts = split(line, ':');
    std::optional<std::string> salt, hash;
    if (parts.size() == 5 && parts[1] == scheme) {
      salt = codec::from_hex(parts[3]);
      hash = codec::from_hex(parts[4]);
    }
    if (!salt || !hash || hash->size() != 32 || parts[2].empty() || parts[2].size() > 9 ||
        parts[2].find_first_not_of("0123456789") != std::string::npos) {
      error = path + ":" + std::to_string(number) + ": expected user:" + std::string(scheme) + ":iterations:salt:hash";
      return std::nullopt;
    }
    file.users_[parts[0]] = entry{std::stoi(parts[2]), *salt, *hash};
  }
  return file;
}

bool password_file::check(std::string_view user, std::string_view password) const {
  auto it = users_.find(user);
  if (it == users_.end()) {
    // Spend the same time as for a known user, so timing does not reveal which names exist.
    (void)derive(password, "unknown-user-salt", 100'000);
    return false;
  }
  const auto derived = derive(password, it->second.salt, it->second.iterations);
  return CRYPTO_memcmp(derived.data(), it->second.hash.data(), derived.size()) == 0;  // constant time
}

std::string password_file::make_line(std::string_view user, std::string_view password, int iterations) {
  std::string salt(16, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size()));
  return std::string(user) + ":" + std::string(scheme) + ":" + std::to_string(iterations) + ":" + codec::to_hex(salt) +
         ":" + codec::to_hex(derive(password, salt, iterations));
}

}  // namespace mqttspec::broker
