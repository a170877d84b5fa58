#pragma once
// Password file: one `user:pbkdf2-sha256:<iterations>:<salt hex>:<hash hex>` line per user,
// hashed with OpenSSL's PBKDF2-HMAC-SHA256. `mqttspec-broker --hash-password user` makes a line.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mqttspec::broker {

class password_file {
 public:
  // nullopt and a message in `error` when the file cannot be read or a line is malformed.
  static std::optional<password_file> load(const std::string& path, std::string& error);
  bool check(std::string_view user, std::string_view password) const;
  static std::string make_line(std::string_view user, std::string_view password, int iterations = 100'000);

 private:
  struct entry {
    int iterations;
    std::string salt;
    std::string hash;
  };
  std::map<std::string, entry, std::less<>> users_;
};

}  // namespace mqttspec::broker
