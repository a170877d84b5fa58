#include "mqttspec/auth/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <stdexcept>
#include <vector>

namespace mqttspec::auth::scram {
namespace {

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes_of(data), data.size(), out, &len))
    throw std::runtime_error("HMAC-SHA-256 failed");
  return {reinterpret_cast<const char*>(out), len};
}

std::string sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(bytes_of(data), data.size(), out);
  return {reinterpret_cast<const char*>(out), sizeof out};
}

std::string xor_of(std::string_view a, std::string_view b) {
  std::string out(a);
  for (std::size_t i = 0; i < out.size() && i < b.size(); ++i) out[i] = static_cast<char>(out[i] ^ b[i]);
  return out;
}

// Keys of made-up credentials for names nobody registered, fixed for the life of the process.
const std::string& decoy_secret() {
  static const std::string secret = random_salt() + random_salt();
  return secret;
}

// Credentials that no proof matches, with a salt that is the same on every try of the same name:
// an unknown user is answered like a known one and fails only at the proof (RFC 5802 §9).
stored_credentials decoy_credentials(std::string_view user) {
  const auto key = hmac(decoy_secret(), user);
  return {key.substr(0, 16), default_iterations, hmac(key, "Stored Key"), hmac(key, "Server Key")};
}

bool equal_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Splits "k=v,k=v" into its attributes, in order; nullopt if one is not "letter=value".
std::optional<std::vector<std::pair<char, std::string_view>>> attributes_of(std::string_view text) {
  std::vector<std::pair<char, std::string_view>> out;
  while (true) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    if (item.size() < 2 || item[1] != '=') return std::nullopt;
    out.emplace_back(item[0], item.substr(2));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

// saslname: ',' and '=' travel as "=2C" and "=3D".
std::string escape_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',') out += "=2C";
    else if (c == '=') out += "=3D";
    else out += c;
  }
  return out;
}

std::optional<std::string> unescape_name(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '=') {
      out += name[i];
      continue;
    }
    const auto code = name.substr(i + 1, 2);
    if (code == "2C") out += ',';
    else if (code == "3D") out += '=';
    else return std::nullopt;
    i += 2;
  }
  return out;
}

bool printable_nonce(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n)
    if (c < 0x21 || c > 0x7E || c == ',') return false;
  return true;
}

// The channel-binding attribute of a client without channel binding: base64 of the "n,," header.
constexpr std::string_view no_channel_binding = "c=biws";

std::string client_proof_input(std::string_view first_bare, std::string_view server_first, std::string_view nonce) {
  // AuthMessage: client-first-bare, server-first and client-final without its proof.
  return std::string(first_bare) + "," + std::string(server_first) + "," + std::string(no_channel_binding) + ",r=" +
         std::string(nonce);
}

std::string salted_password(std::string_view password, std::string_view salt, unsigned iterations) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  if (!PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes_of(salt), static_cast<int>(salt.size()),
                         static_cast<int>(iterations), EVP_sha256(), sizeof out, out))
    throw std::runtime_error("PBKDF2-HMAC-SHA-256 failed");
  return {reinterpret_cast<const char*>(out), sizeof out};
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(bytes), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(text), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

stored_credentials derive_credentials(std::string_view password, std::string_view salt, unsigned iterations) {
  const auto salted = salted_password(password, salt, iterations);
  return {std::string(salt), iterations, sha256(hmac(salted, "Client Key")), hmac(salted, "Server Key")};
}

std::string make_client_first(std::string_view user, std::string_view nonce) {
  return "n,,n=" + escape_name(user) + ",r=" + std::string(nonce);
}

std::optional<client_first> parse_client_first(std::string_view text) {
  // GS2 header: no channel binding and no authzid (MQTT has no channel to bind to).
  if (!text.starts_with("n,,")) return std::nullopt;
  const auto bare = text.substr(3);
  auto attrs = attributes_of(bare);
  if (!attrs || attrs->size() < 2 || (*attrs)[0].first != 'n' || (*attrs)[1].first != 'r') return std::nullopt;
  auto user = unescape_name((*attrs)[0].second);
  if (!user || user->empty() || !printable_nonce((*attrs)[1].second)) return std::nullopt;
  return client_first{std::move(*user), std::string((*attrs)[1].second), std::string(bare)};
}

std::optional<server_first> parse_server_first(std::string_view text) {
  auto attrs = attributes_of(text);
  if (!attrs || attrs->size() < 3 || (*attrs)[0].first != 'r' || (*attrs)[1].first != 's' || (*attrs)[2].first != 'i')
    return std::nullopt;
  auto salt = base64_decode((*attrs)[1].second);
  const auto it = (*attrs)[2].second;
  unsigned iterations = 0;
  const auto [end, ec] = std::from_chars(it.data(), it.data() + it.size(), iterations);
  if (!salt || ec != std::errc{} || end != it.data() + it.size() || iterations == 0) return std::nullopt;
  return server_first{std::string((*attrs)[0].second), std::move(*salt), iterations, std::string(text)};
}

std::optional<client_final> make_client_final(const client_first& first, const server_first& server,
                                              std::string_view password) {
  if (!server.nonce.starts_with(first.nonce) || server.nonce.size() == first.nonce.size()) return std::nullopt;
  const auto salted = salted_password(password, server.salt, server.iterations);
  const auto client_key = hmac(salted, "Client Key");
  const auto auth_message = client_proof_input(first.bare, server.text, server.nonce);
  const auto proof = xor_of(client_key, hmac(sha256(client_key), auth_message));
  return client_final{std::string(no_channel_binding) + ",r=" + server.nonce + ",p=" + base64_encode(proof),
                      "v=" + base64_encode(hmac(hmac(salted, "Server Key"), auth_message))};
}

server_exchange::server_exchange(credential_lookup lookup, nonce_source nonces)
    : lookup_(std::move(lookup)), nonces_(std::move(nonces)) {}

server_exchange::step_result server_exchange::fail(std::string why) {
  stage_ = stage::done;
  return {outcome::failure, {}, std::move(why)};
}

server_exchange::step_result server_exchange::step(std::string_view data) {
  switch (stage_) {
    case stage::awaiting_client_first: {
      auto first = parse_client_first(data);
      if (!first) return fail("malformed client-first-message");
      const auto* creds = lookup_ ? lookup_(first->user) : nullptr;
      const auto server_nonce = nonces_();
      if (!printable_nonce(server_nonce)) return fail("nonce source gave an unusable nonce");
      known_user_ = creds != nullptr;
      credentials_ = known_user_ ? *creds : decoy_credentials(first->user);
      client_first_bare_ = first->bare;
      nonce_ = first->nonce + server_nonce;
      server_first_ = "r=" + nonce_ + ",s=" + base64_encode(credentials_.salt) + ",i=" + std::to_string(credentials_.iterations);
      stage_ = stage::awaiting_client_final;
      return {outcome::challenge, server_first_, {}};
    }
    case stage::awaiting_client_final: {
      auto attrs = attributes_of(data);
      if (!attrs || attrs->size() != 3 || attrs->front().first != 'c' || (*attrs)[1].first != 'r' || attrs->back().first != 'p')
        return fail("malformed client-final-message");
      if ((*attrs)[0].second != no_channel_binding.substr(2)) return fail("unexpected channel binding");
      if ((*attrs)[1].second != nonce_) return fail("nonce mismatch");
      auto proof = base64_decode(attrs->back().second);
      if (!proof) return fail("proof is not base64");
      const auto auth_message = client_proof_input(client_first_bare_, server_first_, nonce_);
      const auto client_key = xor_of(*proof, hmac(credentials_.stored_key, auth_message));
      if (proof->size() != credentials_.stored_key.size() || !equal_secret(sha256(client_key), credentials_.stored_key))
        return fail(known_user_ ? "wrong proof" : "unknown user");
      stage_ = stage::done;
      return {outcome::success, "v=" + base64_encode(hmac(credentials_.server_key, auth_message)), {}};
    }
    case stage::done: break;
  }
  return fail("exchange already finished");
}

std::string random_nonce() {
  unsigned char raw[18];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  return base64_encode({reinterpret_cast<const char*>(raw), sizeof raw});
}

std::string random_salt() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  return {reinterpret_cast<const char*>(raw), sizeof raw};
}

}  // namespace mqttspec::auth::scram
