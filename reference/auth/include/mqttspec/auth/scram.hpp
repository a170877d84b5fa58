#pragma once
// SCRAM-SHA-256 (RFC 5802, RFC 7677) without I/O: the message formats, the key math, and the
// server's side of one exchange. Crypto is OpenSSL's; randomness comes in through a nonce source
// so that tests can replay an exchange exactly.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mqttspec::auth::scram {

inline constexpr std::string_view method_name = "SCRAM-SHA-256";
inline constexpr unsigned default_iterations = 4096;

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// What a server keeps of a password: never the password itself.
struct stored_credentials {
  std::string salt;  // raw bytes
  unsigned iterations = default_iterations;
  std::string stored_key;  // H(ClientKey)
  std::string server_key;
};
stored_credentials derive_credentials(std::string_view password, std::string_view salt, unsigned iterations);

// client-first-message "n,,n=USER,r=NONCE" (no channel binding, no authzid).
struct client_first {
  std::string user;   // unescaped
  std::string nonce;
  std::string bare;   // "n=...,r=..." as it went into the AuthMessage
};
std::string make_client_first(std::string_view user, std::string_view nonce);
std::optional<client_first> parse_client_first(std::string_view text);

// server-first-message "r=NONCE,s=SALT,i=ITERATIONS".
struct server_first {
  std::string nonce;  // the client's nonce followed by the server's
  std::string salt;   // raw bytes
  unsigned iterations = 0;
  std::string text;
};
std::optional<server_first> parse_server_first(std::string_view text);

// The client's answer to a server-first: client-final-message "c=biws,r=NONCE,p=PROOF" and the
// server-final-message "v=SIGNATURE" a server that knows the password must send back.
struct client_final {
  std::string message;
  std::string expected_server_final;
};
// nullopt when the server's nonce does not extend ours (a client must not go on).
std::optional<client_final> make_client_final(const client_first& first, const server_first& server,
                                              std::string_view password);

// The server's side of one exchange: step() takes the client-first, then the client-final.
class server_exchange {
 public:
  enum class outcome : std::uint8_t { challenge, success, failure };
  struct step_result {
    outcome result;
    std::string data;  // server-first after a challenge, server-final on success
    std::string why;   // on failure, for the log
  };
  using credential_lookup = std::function<const stored_credentials*(std::string_view user)>;
  // Printable characters other than ',' only; each call gives a fresh nonce.
  using nonce_source = std::function<std::string()>;

  // A user `lookup` does not know is challenged like any other, with made-up credentials whose
  // salt is stable per name, and fails at the proof: the exchange does not tell who exists.
  server_exchange(credential_lookup lookup, nonce_source nonces);
  step_result step(std::string_view data);

 private:
  enum class stage : std::uint8_t { awaiting_client_first, awaiting_client_final, done };
  step_result fail(std::string why);

  credential_lookup lookup_;
  nonce_source nonces_;
  stage stage_ = stage::awaiting_client_first;
  stored_credentials credentials_;
  bool known_user_ = false;  // unknown users go through the exchange with decoy credentials
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
};

// A nonce from OpenSSL's RAND_bytes (base64 of 18 random bytes), for the real broker and runner.
std::string random_nonce();
// Random salt bytes for derive_credentials.
std::string random_salt();

}  // namespace mqttspec::auth::scram
