#include "generator.hpp"
#include "script.hpp"

#include <gtest/gtest.h>

namespace mqttspec::netfuzz {
namespace {

using codec::protocol_version;

TEST(Script, TokensAreShortLowercaseAndDistinct) {
  const auto a = make_token(1), b = make_token(2);
  EXPECT_EQ(a.size(), token_length);
  EXPECT_EQ(a.substr(0, 2), "nf");
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) << a;
}

TEST(Script, WithTokenReplacesEveryOccurrenceAndKeepsLengths) {
  script s;
  s.token = make_token(7);
  s.steps.push_back(open_step(0));
  s.steps.push_back(send_step(0, probe_connect(protocol_version::v5, s.token + "c0") + s.token));
  const auto t = make_token(8);
  const auto r = with_token(s, t);
  EXPECT_EQ(r.token, t);
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[1].data.size(), s.steps[1].data.size());
  EXPECT_EQ(r.steps[1].data.find(s.token), std::string::npos);
  EXPECT_NE(r.steps[1].data.find(t + "c0"), std::string::npos);
  // The frame still decodes: the client identifier kept its length.
  auto d = codec::decode(codec::bytes_view(r.steps[1].data).substr(0, r.steps[1].data.size() - token_length),
                         protocol_version::v5);
  ASSERT_TRUE(d);
  EXPECT_EQ(std::get<codec::connect>(d.value()).client_id, t + "c0");
}

TEST(Script, PrefixAndConnectionCount) {
  script s;
  s.steps = {open_step(0), open_step(2), send_step(2, "x")};
  EXPECT_EQ(connection_count(s), 3u);
  EXPECT_EQ(prefix(s, 1).steps.size(), 2u);
  EXPECT_EQ(prefix(s, 9).steps.size(), 3u);
}

TEST(Generator, SameSeedAndNumberGiveTheSameScript) {
  for (std::uint64_t n = 0; n < 50; ++n) {
    EXPECT_EQ(generate(protocol_version::v5, 3, n), generate(protocol_version::v5, 3, n));
    EXPECT_EQ(generate(protocol_version::v3_1_1, 3, n), generate(protocol_version::v3_1_1, 3, n));
  }
  EXPECT_NE(generate(protocol_version::v5, 3, 1), generate(protocol_version::v5, 4, 1));
}

// Unmutated scripts are valid protocol walks: every frame decodes, every name carries the token,
// and each connection starts with CONNECT.
TEST(Generator, UnmutatedScriptsAreValidAndNamespaced) {
  generator_options o;
  o.mutation_rate = 0;
  std::set<codec::packet_type> seen;
  for (auto v : {protocol_version::v3_1_1, protocol_version::v5}) {
    for (std::uint64_t n = 0; n < 400; ++n) {
      const auto s = generate(v, 11, n, o);
      ASSERT_EQ(s.token.size(), token_length);
      ASSERT_FALSE(s.steps.empty());
      EXPECT_EQ(s.steps.front().op, step_op::open);
      std::vector<bool> fresh(connection_count(s), false);
      auto all = s.steps;
      all.insert(all.end(), s.cleanup.begin(), s.cleanup.end());
      for (const auto& st : all) {
        EXPECT_FALSE(st.mutated);
        if (st.op == step_op::open) fresh[st.conn] = true;
        if (st.op != step_op::send) continue;
        codec::bytes_view rest = st.data;
        while (!rest.empty()) {
          auto f = codec::parse_frame(rest);
          ASSERT_TRUE(f) << "case " << n;
          auto d = codec::decode(f.value(), v);
          ASSERT_TRUE(d) << "case " << n << ": " << d.error().message();
          const auto t = codec::type_of(d.value());
          seen.insert(t);
          if (fresh[st.conn]) {
            EXPECT_EQ(t, codec::packet_type::connect) << "case " << n;
          }
          fresh[st.conn] = false;
          if (const auto* c = std::get_if<codec::connect>(&d.value())) {
            EXPECT_TRUE(c->client_id.starts_with(s.token));
          }
          if (const auto* p = std::get_if<codec::publish>(&d.value()); p && !p->topic.empty()) {
            EXPECT_TRUE(p->topic.starts_with(s.token)) << p->topic;
          }
          if (const auto* sub = std::get_if<codec::subscribe>(&d.value())) {
            for (const auto& x : sub->subscriptions) EXPECT_NE(x.filter.find(s.token), std::string::npos) << x.filter;
          }
          rest.remove_prefix(f->bytes.size());
        }
      }
    }
  }
  // The walk covers the protocol's client side.
  for (auto t : {codec::packet_type::connect, codec::packet_type::publish, codec::packet_type::pubrel,
                 codec::packet_type::subscribe, codec::packet_type::unsubscribe, codec::packet_type::pingreq,
                 codec::packet_type::disconnect, codec::packet_type::puback})
    EXPECT_TRUE(seen.count(t)) << to_string(t);
}

// A mutated script may have set RETAIN or Clean Start anywhere: its cleanup takes over every
// client and clears every topic of its namespace.
TEST(Generator, MutatedScriptsCleanUpTheirWholeNamespace) {
  generator_options o;
  o.mutation_rate = 1;
  const auto s = generate(protocol_version::v3_1_1, 5, 3, o);
  ASSERT_FALSE(s.cleanup.empty());
  const auto& last = s.cleanup.back().data;
  for (int k = 0; k < 3; ++k) EXPECT_NE(last.find(s.token + "/t/" + std::to_string(k)), std::string::npos);
  EXPECT_EQ(static_cast<std::uint8_t>(last.back()), 0x00);  // ... then DISCONNECT
  EXPECT_EQ(static_cast<std::uint8_t>(last[last.size() - 2]), 0xe0);
}

TEST(Generator, MutatedScriptsMarkTheirMutatedSteps) {
  generator_options o;
  o.mutation_rate = 1;
  std::size_t mutated = 0;
  for (std::uint64_t n = 0; n < 100; ++n)
    for (const auto& st : generate(protocol_version::v5, 5, n, o).steps) mutated += st.mutated;
  EXPECT_GT(mutated, 100u);
}

}  // namespace
}  // namespace mqttspec::netfuzz
