// SCRAM-SHA-256 against the worked example of RFC 7677 section 3, and the server's exchange.
#include "mqttspec/auth/scram.hpp"

#include <gtest/gtest.h>

namespace scram = mqttspec::auth::scram;

namespace {

// The example's inputs: user "user", password "pencil", its nonces, salt and iteration count.
constexpr std::string_view client_nonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view salt_b64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr std::string_view expected_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view expected_server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

scram::stored_credentials example_credentials() {
  return scram::derive_credentials("pencil", *scram::base64_decode(salt_b64), 4096);
}

scram::server_exchange example_server(const scram::stored_credentials& creds) {
  return scram::server_exchange(
      [&creds](std::string_view user) { return user == "user" ? &creds : nullptr; },
      [] { return std::string(server_nonce); });
}

}  // namespace

TEST(scram, base64_round_trip) {
  for (std::string_view s : {"", "a", "ab", "abc", "abcd", "\x00\xff\x10"}) {
    auto back = scram::base64_decode(scram::base64_encode(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(scram::base64_encode("n,,"), "biws");
  EXPECT_FALSE(scram::base64_decode("abc"));
  EXPECT_FALSE(scram::base64_decode("a!c="));
}

TEST(scram, client_side_matches_rfc7677_example) {
  const auto first_text = scram::make_client_first("user", client_nonce);
  EXPECT_EQ(first_text, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  const auto first = scram::parse_client_first(first_text);
  ASSERT_TRUE(first);
  const auto server = scram::parse_server_first("r=" + std::string(client_nonce) + std::string(server_nonce) +
                                                ",s=" + std::string(salt_b64) + ",i=4096");
  ASSERT_TRUE(server);
  EXPECT_EQ(server->iterations, 4096u);
  const auto final_msg = scram::make_client_final(*first, *server, "pencil");
  ASSERT_TRUE(final_msg);
  EXPECT_EQ(final_msg->message, expected_client_final);
  EXPECT_EQ(final_msg->expected_server_final, expected_server_final);
}

TEST(scram, server_side_matches_rfc7677_example) {
  const auto creds = example_credentials();
  auto server = example_server(creds);
  auto r1 = server.step("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  ASSERT_EQ(r1.result, scram::server_exchange::outcome::challenge);
  EXPECT_EQ(r1.data, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  auto r2 = server.step(expected_client_final);
  ASSERT_EQ(r2.result, scram::server_exchange::outcome::success) << r2.why;
  EXPECT_EQ(r2.data, expected_server_final);
  EXPECT_EQ(server.step("anything").result, scram::server_exchange::outcome::failure);
}

TEST(scram, server_rejects_wrong_proof_nonce_and_user) {
  const auto creds = example_credentials();
  const auto first = *scram::parse_client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  {
    auto server = example_server(creds);
    const auto challenge = server.step(scram::make_client_first("user", client_nonce));
    const auto wrong = scram::make_client_final(first, *scram::parse_server_first(challenge.data), "pencil2");
    auto r = server.step(wrong->message);
    EXPECT_EQ(r.result, scram::server_exchange::outcome::failure);
    EXPECT_EQ(r.why, "wrong proof");
  }
  {
    auto server = example_server(creds);
    server.step(scram::make_client_first("user", client_nonce));
    auto r = server.step("c=biws,r=rOprNGfwEbeRWgbNEkqOother,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    EXPECT_EQ(r.result, scram::server_exchange::outcome::failure);
  }
  auto malformed = example_server(creds);
  EXPECT_EQ(malformed.step("n=user,r=abc").result, scram::server_exchange::outcome::failure);
}

TEST(scram, user_names_are_escaped) {
  const auto text = scram::make_client_first("a,b=c", "xyz");
  EXPECT_EQ(text, "n,,n=a=2Cb=3Dc,r=xyz");
  EXPECT_EQ(scram::parse_client_first(text)->user, "a,b=c");
  EXPECT_FALSE(scram::parse_client_first("n,,n=a=2Xb,r=xyz"));
}

TEST(scram, client_refuses_a_server_nonce_that_does_not_extend_its_own) {
  const auto first = *scram::parse_client_first("n,,n=user,r=abc");
  EXPECT_FALSE(scram::make_client_final(first, *scram::parse_server_first("r=xyzdef,s=QUJD,i=1"), "p"));
  EXPECT_FALSE(scram::make_client_final(first, *scram::parse_server_first("r=abc,s=QUJD,i=1"), "p"));
}

TEST(scram, unknown_users_are_challenged_and_fail_at_the_proof) {
  const auto creds = scram::derive_credentials("pencil", "salt-of-user", 4096);
  auto challenge_for = [&](std::string_view user) {
    auto server = example_server(creds);
    auto r = server.step(scram::make_client_first(user, "abc"));
    EXPECT_EQ(r.result, scram::server_exchange::outcome::challenge) << user;
    return std::make_pair(std::move(server), *scram::parse_server_first(r.data));
  };
  auto [server, first] = challenge_for("nobody");
  EXPECT_EQ(first.iterations, scram::default_iterations);
  EXPECT_EQ(challenge_for("nobody").second.salt, first.salt);  // the same on every try
  EXPECT_NE(challenge_for("someone-else").second.salt, first.salt);
  // Whatever password the client guesses, the proof fails, and the log says why.
  const auto final_msg = scram::make_client_final(*scram::parse_client_first("n,,n=nobody,r=abc"), first, "pencil");
  ASSERT_TRUE(final_msg);
  auto r = server.step(final_msg->message);
  EXPECT_EQ(r.result, scram::server_exchange::outcome::failure);
  EXPECT_EQ(r.why, "unknown user");
}
