// The other behaviours the spec allows, as switches of the broker core (each off by default):
// retained messages before the SUBACK, a send quota, a lower granted QoS, a delayed resend on
// resumption and specific 5.0 reason codes; also together with the limits the broker had before.
#include "broker_harness.hpp"

#include <cctype>
#include <utility>

namespace mqttspec::broker {
namespace {

using codec::qos;
using codec::reason_code;
using testing::connect;
using testing::harness;
using testing::make_publish;
using testing::make_subscribe;
using testing::subscribe;
constexpr auto v5 = codec::protocol_version::v5;
constexpr auto v311 = codec::protocol_version::v3_1_1;

class options_both_versions : public ::testing::TestWithParam<codec::protocol_version> {};
INSTANTIATE_TEST_SUITE_P(broker, options_both_versions, ::testing::Values(v311, v5),
                         [](const auto& i) { return i.param == v5 ? "v5" : "v311"; });

// The packet types of `got`, as "PUBLISH SUBACK".
std::string types(const std::vector<codec::owned_packet>& got) {
  std::string out;
  for (const auto& p : got) {
    if (!out.empty()) out += ' ';
    out += codec::to_string(codec::type_of(p.value));
  }
  return out;
}

// The payloads of the PUBLISH packets in `got`, in order.
std::vector<std::string> payloads(const std::vector<codec::owned_packet>& got) {
  std::vector<std::string> out;
  for (const auto& p : got)
    if (const auto* pub = std::get_if<codec::publish>(&p.value)) out.emplace_back(pub->payload);
  return out;
}

const codec::publish& nth_publish(const std::vector<codec::owned_packet>& got, std::size_t n) {
  return std::get<codec::publish>(got.at(n).value);
}

// A Session kept across connections: Clean Session 0 (3.1.1), or Clean Start 0 with an expiry (5.0).
codec::connect persistent(std::string_view id, codec::protocol_version v) {
  auto c = harness::connect_packet(id, v, false);
  if (v == v5) c.props.session_expiry_interval = 600;
  return c;
}

using strings = std::vector<std::string>;

// --- retained messages before the SUBACK (§3.8.4) ---------------------------------------------

TEST_P(options_both_versions, retained_messages_may_precede_the_suback) {
  for (const bool before : {false, true}) {
    config cfg;
    cfg.retained_before_suback = before;
    harness h(cfg);
    connect(h, "pub", harness::connect_packet("pub", GetParam()));
    h.send("pub", make_publish("r/1", "one", qos::at_least_once, 1, true));
    h.send("pub", make_publish("r/2", "two", qos::at_most_once, 0, true));
    connect(h, "sub", harness::connect_packet("sub", GetParam()));
    h.send("sub", make_subscribe(7, "r/#", qos::at_least_once));
    const auto got = h.take("sub");
    EXPECT_EQ(types(got), before ? "PUBLISH PUBLISH SUBACK" : "SUBACK PUBLISH PUBLISH");
    for (const auto& p : got) {
      if (const auto* pub = std::get_if<codec::publish>(&p.value)) {
        EXPECT_TRUE(pub->retain);
      }
    }
  }
}

// The send quota and the client's Maximum Packet Size still apply to what goes before the SUBACK.
TEST(broker_options, retained_before_suback_within_quota_and_packet_size) {
  config cfg;
  cfg.retained_before_suback = true;
  cfg.send_quota = 1;
  harness h(cfg);
  connect(h, "pub", harness::connect_packet("pub", v5));
  h.send("pub", make_publish("r/a", "a", qos::at_least_once, 1, true));
  h.send("pub", make_publish("r/b", "b", qos::at_least_once, 2, true));
  h.send("pub", make_publish("r/big", std::string(200, 'x'), qos::at_most_once, 0, true));
  auto c = harness::connect_packet("sub", v5);
  c.props.maximum_packet_size = 64;
  connect(h, "sub", c);
  h.send("sub", make_subscribe(7, "r/#", qos::at_least_once));
  auto got = h.take("sub");
  ASSERT_EQ(types(got), "PUBLISH SUBACK");  // one in flight; the big one dropped (v5:MQTT-3.1.2-25)
  h.send("sub", codec::puback{nth_publish(got, 0).packet_id, reason_code::success, {}});
  got = h.take("sub");
  ASSERT_EQ(types(got), "PUBLISH");
  h.send("sub", codec::puback{nth_publish(got, 0).packet_id, reason_code::success, {}});
  EXPECT_TRUE(h.take("sub").empty());
  EXPECT_EQ(h.core.stats().messages_dropped, 1u);
}

// --- send quota (5.0 §4.9, 3.1.1 §4.6) -----------------------------------------------------------

TEST_P(options_both_versions, send_quota_holds_messages_until_acknowledged_in_order) {
  config cfg;
  cfg.send_quota = 1;
  harness h(cfg);
  connect(h, "sub", harness::connect_packet("sub", GetParam()));
  subscribe(h, "sub", "t", qos::exactly_once);
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  h.send("pub", make_publish("t", "1", qos::at_least_once, 1));
  h.send("pub", make_publish("t", "2", qos::exactly_once, 2));
  h.send("pub", make_publish("t", "3", qos::at_most_once));  // needs no quota, but keeps its place
  h.send("pub", make_publish("t", "4", qos::at_least_once, 3));
  auto got = h.take("sub");
  ASSERT_EQ(payloads(got), strings{"1"});
  h.send("sub", codec::puback{nth_publish(got, 0).packet_id, reason_code::success, {}});
  got = h.take("sub");
  ASSERT_EQ(payloads(got), (strings{"2", "3"}));
  const auto qos2_id = nth_publish(got, 0).packet_id;
  h.send("sub", codec::pubrec{qos2_id, reason_code::success, {}});
  EXPECT_EQ(types(h.take("sub")), "PUBREL");  // a QoS 2 message holds its slot until PUBCOMP
  h.send("sub", codec::pubcomp{qos2_id, reason_code::success, {}});
  got = h.take("sub");
  ASSERT_EQ(payloads(got), strings{"4"});
  h.send("sub", codec::puback{nth_publish(got, 0).packet_id, reason_code::success, {}});
  EXPECT_TRUE(h.take("sub").empty());
}

TEST(broker_options, send_quota_is_replenished_by_a_failed_pubrec) {
  config cfg;
  cfg.send_quota = 1;
  harness h(cfg);
  connect(h, "sub", harness::connect_packet("sub", v5));
  subscribe(h, "sub", "t", qos::exactly_once);
  connect(h, "pub", harness::connect_packet("pub", v5));
  h.send("pub", make_publish("t", "1", qos::exactly_once, 1));
  h.send("pub", make_publish("t", "2", qos::exactly_once, 2));
  auto got = h.take("sub");
  ASSERT_EQ(payloads(got), strings{"1"});
  h.send("sub", codec::pubrec{nth_publish(got, 0).packet_id, reason_code::unspecified_error, {}});
  EXPECT_EQ(payloads(h.take("sub")), strings{"2"});  // §4.9: PUBREC >= 0x80 gives the slot back
}

// The quota is the lower of ours and the client's Receive Maximum.
TEST(broker_options, send_quota_and_receive_maximum_take_the_lower) {
  struct limits {
    std::uint16_t ours, clients;
    std::size_t at_once;
  };
  for (const auto [ours, clients, at_once] : {limits{3, 2, 2}, limits{2, 5, 2}, limits{65535, 1, 1}}) {
    config cfg;
    cfg.send_quota = ours;
    harness h(cfg);
    auto c = harness::connect_packet("sub", v5);
    c.props.receive_maximum = clients;
    connect(h, "sub", c);
    subscribe(h, "sub", "t", qos::at_least_once);
    connect(h, "pub", harness::connect_packet("pub", v5));
    for (std::uint16_t id = 1; id <= 4; ++id) h.send("pub", make_publish("t", "m", qos::at_least_once, id));
    EXPECT_EQ(h.take("sub").size(), at_once) << ours << " / " << clients;
  }
}

TEST_P(options_both_versions, send_quota_applies_to_the_resend_of_a_resumed_session) {
  config cfg;
  cfg.send_quota = 1;
  harness h(cfg);
  connect(h, "p", persistent("p", GetParam()));
  subscribe(h, "p", "t", qos::at_least_once);
  h.drop("p");
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  for (std::uint16_t id = 1; id <= 3; ++id) h.send("pub", make_publish("t", std::to_string(id), qos::at_least_once, id));
  EXPECT_TRUE(connect(h, "p", persistent("p", GetParam())).session_present);
  for (const std::string expected : {"1", "2", "3"}) {
    const auto got = h.take("p");
    ASSERT_EQ(payloads(got), strings{expected});
    h.send("p", codec::puback{nth_publish(got, 0).packet_id, reason_code::success, {}});
  }
}

// --- lower granted QoS (§3.8.4) ------------------------------------------------------------------

TEST_P(options_both_versions, max_granted_qos_lowers_the_grant_but_not_what_may_be_published) {
  config cfg;
  cfg.max_granted_qos = qos::at_least_once;
  harness h(cfg);
  h.connect("sub", harness::connect_packet("sub", GetParam()));
  codec::owned_packet keep;
  EXPECT_FALSE(h.take_one<codec::connack>("sub", keep).props.maximum_qos);  // not announced
  h.send("sub", make_subscribe(1, "t", qos::exactly_once));
  EXPECT_EQ(h.take_one<codec::suback>("sub", keep).codes, std::vector{reason_code::granted_qos_1});
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  h.send("pub", make_publish("t", "x", qos::exactly_once, 5));
  EXPECT_EQ(h.take_one<codec::pubrec>("pub", keep).packet_id, 5);  // QoS 2 still accepted
  EXPECT_FALSE(h.clients["pub"].closed);
  EXPECT_EQ(h.take_one<codec::publish>("sub", keep).qos_level, qos::at_least_once);  // min(2, granted 1)
}

TEST_P(options_both_versions, max_granted_qos_applies_to_retained_messages) {
  config cfg;
  cfg.max_granted_qos = qos::at_most_once;
  harness h(cfg);
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  h.send("pub", make_publish("r", "kept", qos::at_least_once, 1, true));
  connect(h, "sub", harness::connect_packet("sub", GetParam()));
  h.send("sub", make_subscribe(1, "r", qos::exactly_once));
  const auto got = h.take("sub");
  ASSERT_EQ(types(got), "SUBACK PUBLISH");
  EXPECT_EQ(std::get<codec::suback>(got[0].value).codes, std::vector{reason_code::success});  // granted QoS 0
  EXPECT_EQ(nth_publish(got, 1).qos_level, qos::at_most_once);
}

// With --max-qos the grant is the lower of the two; only --max-qos refuses publishes above it.
TEST(broker_options, max_granted_qos_with_maximum_qos) {
  struct both {
    qos maximum, granted, expected;
  };
  for (const auto [maximum, granted, expected] :
       {both{qos::at_least_once, qos::exactly_once, qos::at_least_once},
        both{qos::exactly_once, qos::at_most_once, qos::at_most_once},
        both{qos::at_least_once, qos::at_most_once, qos::at_most_once}}) {
    config cfg;
    cfg.maximum_qos = maximum;
    cfg.max_granted_qos = granted;
    harness h(cfg);
    connect(h, "sub", harness::connect_packet("sub", v5));
    h.send("sub", make_subscribe(1, "t", qos::exactly_once));
    codec::owned_packet keep;
    EXPECT_EQ(h.take_one<codec::suback>("sub", keep).codes, std::vector{static_cast<reason_code>(expected)});
  }
}

// --- delayed resend on resumption ----------------------------------------------------------------

TEST_P(options_both_versions, resend_delay_holds_resends_and_the_queue_after_the_connack) {
  config cfg;
  cfg.resend_delay = 500;
  harness h(cfg);
  connect(h, "p", persistent("p", GetParam()));
  subscribe(h, "p", "t", qos::at_least_once);
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  h.send("pub", make_publish("t", "1", qos::at_least_once, 1));
  const auto first_id = nth_publish(h.take("p"), 0).packet_id;
  h.drop("p");  // "1" unacknowledged
  h.send("pub", make_publish("t", "2", qos::at_least_once, 2));
  EXPECT_TRUE(connect(h, "p", persistent("p", GetParam())).session_present);
  EXPECT_TRUE(h.take("p").empty());
  h.advance(499);
  h.send("pub", make_publish("t", "3", qos::at_most_once));  // waits behind them
  EXPECT_TRUE(h.take("p").empty());
  h.advance(1);
  const auto got = h.take("p");
  ASSERT_EQ(payloads(got), (strings{"1", "2", "3"}));
  EXPECT_TRUE(nth_publish(got, 0).dup);
  EXPECT_EQ(nth_publish(got, 0).packet_id, first_id);
  h.send("pub", make_publish("t", "4", qos::at_most_once));  // from now on at once
  EXPECT_EQ(payloads(h.take("p")), strings{"4"});
}

TEST_P(options_both_versions, resend_delay_covers_pubrel) {
  config cfg;
  cfg.resend_delay = 200;
  harness h(cfg);
  connect(h, "p", persistent("p", GetParam()));
  subscribe(h, "p", "t", qos::exactly_once);
  connect(h, "pub", harness::connect_packet("pub", GetParam()));
  h.send("pub", make_publish("t", "x", qos::exactly_once, 1));
  const auto id = nth_publish(h.take("p"), 0).packet_id;
  h.send("p", codec::pubrec{id, reason_code::success, {}});
  EXPECT_EQ(types(h.take("p")), "PUBREL");
  h.drop("p");  // PUBREL unacknowledged
  connect(h, "p", persistent("p", GetParam()));
  EXPECT_TRUE(h.take("p").empty());
  h.advance(200);
  codec::owned_packet keep;
  EXPECT_EQ(h.take_one<codec::pubrel>("p", keep).packet_id, id);
}

// Only a resumed Session waits: a new one gets its messages at once.
TEST(broker_options, resend_delay_does_not_hold_a_new_session) {
  config cfg;
  cfg.resend_delay = 1'000;
  harness h(cfg);
  connect(h, "p", persistent("p", v5));
  subscribe(h, "p", "t", qos::at_least_once);
  h.send("p", make_publish("t", "now", qos::at_least_once, 1));
  EXPECT_EQ(payloads(h.take("p")), strings{"now"});
}

// A client gone during the delay keeps its messages for the next connection, which waits again.
TEST(broker_options, resend_delay_survives_a_close_during_the_wait) {
  config cfg;
  cfg.resend_delay = 300;
  harness h(cfg);
  connect(h, "p", persistent("p", v5));
  subscribe(h, "p", "t", qos::at_least_once);
  h.drop("p");
  connect(h, "pub", harness::connect_packet("pub", v5));
  h.send("pub", make_publish("t", "kept", qos::at_least_once, 1));
  connect(h, "p", persistent("p", v5));
  h.drop("p");
  h.advance(1'000);
  connect(h, "p", persistent("p", v5));
  EXPECT_TRUE(h.take("p").empty());
  h.advance(300);
  EXPECT_EQ(payloads(h.take("p")), strings{"kept"});
}

// Server Keep Alive and Topic Aliases (5.0) go on as usual around the delay.
TEST(broker_options, resend_delay_with_server_keep_alive_and_topic_aliases) {
  config cfg;
  cfg.resend_delay = 1'000;
  cfg.server_keep_alive = 2;
  harness h(cfg);
  auto c = persistent("p", v5);
  c.props.topic_alias_maximum = 1;
  connect(h, "p", c);
  subscribe(h, "p", "t", qos::at_least_once);
  h.drop("p");
  connect(h, "pub", harness::connect_packet("pub", v5));
  h.send("pub", make_publish("t", "1", qos::at_least_once, 1));
  h.send("pub", make_publish("t", "2", qos::at_least_once, 2));
  h.connect("p", c);
  codec::owned_packet keep;
  EXPECT_EQ(h.take_one<codec::connack>("p", keep).props.server_keep_alive, 2);
  h.advance(1'000);
  const auto got = h.take("p");
  ASSERT_EQ(payloads(got), (strings{"1", "2"}));
  EXPECT_EQ(nth_publish(got, 0).props.topic_alias, 1);  // topic and alias, then the alias alone
  EXPECT_TRUE(nth_publish(got, 1).topic.empty());
  h.advance(1'999);
  EXPECT_FALSE(h.clients["p"].closed);
  h.advance(1);  // 3 s after the CONNACK: Keep Alive 2 × 1.5
  EXPECT_TRUE(h.clients["p"].closed);
}

// --- specific 5.0 reason codes (§4.13.1) ---------------------------------------------------------

struct bad_input {
  const char* what;
  std::string_view hex;  // sent after a successful CONNECT
  reason_code usual, specific;
};

class specific_reason_codes : public ::testing::TestWithParam<bad_input> {};

TEST_P(specific_reason_codes, disconnect_names_the_case_only_when_asked) {
  for (const bool specific : {false, true}) {
    config cfg;
    cfg.specific_reason_codes = specific;
    harness h(cfg);
    connect(h, "c", harness::connect_packet("c", v5));
    h.send_raw("c", *codec::from_hex(GetParam().hex));
    codec::owned_packet keep;
    EXPECT_EQ(h.take_one<codec::disconnect>("c", keep).code, specific ? GetParam().specific : GetParam().usual)
        << GetParam().what << (specific ? " (specific)" : "");
    EXPECT_TRUE(h.clients["c"].closed);
  }
}

INSTANTIATE_TEST_SUITE_P(
    broker, specific_reason_codes,
    ::testing::Values(
        bad_input{"unmapped Topic Alias", "30 06 00 00 03 23 00 01", reason_code::protocol_error,
                  reason_code::topic_alias_invalid},
        bad_input{"wildcard in a Topic Name", "30 06 00 03 61 2f 2b 00", reason_code::malformed_packet,
                  reason_code::topic_name_invalid},
        bad_input{"empty Topic Name without alias", "30 03 00 00 00", reason_code::protocol_error,
                  reason_code::topic_name_invalid},
        bad_input{"'#' not last in a filter", "82 0b 00 01 00 00 05 61 2f 23 2f 62 01", reason_code::malformed_packet,
                  reason_code::topic_filter_invalid},
        bad_input{"'+' not alone in a level", "82 09 00 01 00 00 03 61 2b 62 01", reason_code::malformed_packet,
                  reason_code::topic_filter_invalid},
        bad_input{"empty filter", "82 06 00 01 00 00 00 01", reason_code::protocol_error,
                  reason_code::topic_filter_invalid},
        bad_input{"shared subscription without a filter", "82 0e 00 01 00 00 08 24 73 68 61 72 65 2f 67 01",
                  reason_code::protocol_error, reason_code::topic_filter_invalid},
        // Already specific, or nothing more specific exists: unchanged.
        bad_input{"Topic Alias 0", "30 07 00 01 61 03 23 00 00", reason_code::topic_alias_invalid,
                  reason_code::topic_alias_invalid},
        bad_input{"Topic Alias above the maximum", "30 07 00 01 61 03 23 00 0b", reason_code::topic_alias_invalid,
                  reason_code::topic_alias_invalid},
        bad_input{"QoS 3", "36 05 00 01 61 00 01", reason_code::malformed_packet, reason_code::malformed_packet},
        bad_input{"CONNACK from a client", "20 03 00 00 00", reason_code::protocol_error, reason_code::protocol_error}),
    [](const auto& i) {
      std::string name;
      for (const char* p = i.param.what; *p; ++p) name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
      return name;
    });

TEST(broker_options, specific_reason_code_in_the_connack) {
  for (const bool specific : {false, true}) {
    config cfg;
    cfg.specific_reason_codes = specific;
    harness h(cfg);
    auto& cl = h.clients["c"];
    cl.id = h.core.open(h.now);
    // CONNECT with the Will Topic "a/#".
    h.send_raw("c", *codec::from_hex("10 16 00 04 4d 51 54 54 05 06 00 00 00 00 01 63 00 00 03 61 2f 23 00 00"));
    codec::owned_packet keep;
    EXPECT_EQ(h.take_one<codec::connack>("c", keep).code,
              specific ? reason_code::topic_name_invalid : reason_code::malformed_packet);
    EXPECT_TRUE(h.clients["c"].closed);
  }
}

TEST(broker_options, specific_reason_codes_leave_a_second_connect_a_protocol_error) {
  config cfg;
  cfg.specific_reason_codes = true;
  harness h(cfg);
  connect(h, "c", harness::connect_packet("c", v5));
  h.send("c", harness::connect_packet("c", v5));
  codec::owned_packet keep;
  EXPECT_EQ(h.take_one<codec::disconnect>("c", keep).code, reason_code::protocol_error);
}

// 3.1.1 has no reason codes to send: the connection just closes.
TEST(broker_options, specific_reason_codes_change_nothing_for_v311) {
  config cfg;
  cfg.specific_reason_codes = true;
  harness h(cfg);
  connect(h, "c", harness::connect_packet("c", v311));
  h.send_raw("c", *codec::from_hex("30 05 00 03 61 2f 2b"));
  EXPECT_TRUE(h.take("c").empty());
  EXPECT_TRUE(h.clients["c"].closed);
}

// A method that succeeds at once, or challenges once first.
config with_method(bool challenge, bool specific) {
  config c;
  c.specific_reason_codes = specific;
  c.enhanced_auth["TOY"] = [challenge] {
    return [asked = !challenge](std::string_view) mutable {
      if (!std::exchange(asked, true)) return auth_step{auth_outcome::challenge, "more?", {}};
      return auth_step{auth_outcome::success, {}, {}};
    };
  };
  return c;
}

codec::connect toy_connect() {
  auto c = harness::connect_packet("a", v5);
  c.props.authentication_method = "TOY";
  return c;
}

TEST(broker_options, specific_reason_code_for_a_wrong_method_in_auth) {
  for (const bool specific : {false, true}) {
    const auto expected = specific ? reason_code::bad_authentication_method : reason_code::protocol_error;
    codec::owned_packet keep;
    {  // re-authentication (v5:MQTT-4.12.1-1)
      harness h(with_method(false, specific));
      connect(h, "a", toy_connect());
      h.send("a", harness::auth_packet(reason_code::re_authenticate, "OTHER", ""));
      EXPECT_EQ(h.take_one<codec::disconnect>("a", keep).code, expected);
    }
    {  // before the CONNACK (v5:MQTT-4.12.0-5)
      harness h(with_method(true, specific));
      h.connect("a", toy_connect());
      EXPECT_EQ(h.take_one<codec::auth>("a", keep).code, reason_code::continue_authentication);
      h.send("a", harness::auth_packet(reason_code::continue_authentication, "OTHER", ""));
      EXPECT_EQ(h.take_one<codec::connack>("a", keep).code, expected);
      EXPECT_NE(h.clients["a"].close_why.find("[v5:MQTT-4.12.0-5]"), std::string::npos) << h.clients["a"].close_why;
    }
    {  // the right method with the wrong code is no method problem (v5:MQTT-4.12.0-3)
      harness h(with_method(true, specific));
      h.connect("a", toy_connect());
      h.take("a");
      h.send("a", harness::auth_packet(reason_code::re_authenticate, "TOY", ""));
      EXPECT_EQ(h.take_one<codec::connack>("a", keep).code, reason_code::protocol_error);
    }
  }
}

// --- all of them together with the limits the broker had before --------------------------------

// The existing limits keep their own codes (already specific) and work beside the new switches.
TEST(broker_options, existing_limits_with_every_new_switch) {
  config cfg;
  cfg.retained_before_suback = true;
  cfg.send_quota = 2;
  cfg.max_granted_qos = qos::at_least_once;
  cfg.resend_delay = 100;
  cfg.specific_reason_codes = true;
  cfg.limits.maximum_packet_size = 128;
  cfg.limits.topic_alias_maximum = 2;
  cfg.receive_maximum = 1;
  cfg.maximum_qos = qos::exactly_once;
  cfg.server_keep_alive = 30;
  codec::owned_packet keep;
  {
    harness h(cfg);
    h.connect("c", harness::connect_packet("c", v5));
    const auto ack = h.take_one<codec::connack>("c", keep);
    EXPECT_EQ(ack.props.maximum_packet_size, 128u);
    EXPECT_EQ(ack.props.topic_alias_maximum, 2);
    EXPECT_EQ(ack.props.receive_maximum, 1);
    EXPECT_EQ(ack.props.server_keep_alive, 30);
    EXPECT_FALSE(ack.props.maximum_qos);
    h.send("c", make_publish("t", std::string(200, 'x')));
    EXPECT_EQ(h.take_one<codec::disconnect>("c", keep).code, reason_code::packet_too_large);
  }
  {
    harness h(cfg);
    connect(h, "c", harness::connect_packet("c", v5));
    h.send("c", make_publish("t", "1", qos::exactly_once, 1));
    h.take("c");
    h.send("c", make_publish("t", "2", qos::exactly_once, 2));  // no PUBREL yet: beyond Receive Maximum 1
    EXPECT_EQ(h.take_one<codec::disconnect>("c", keep).code, reason_code::receive_maximum_exceeded);
  }
  {
    auto c = cfg;
    c.retain_available = false;
    harness h(c);
    connect(h, "c", harness::connect_packet("c", v5));
    h.send("c", make_publish("t", "r", qos::at_most_once, 0, true));
    EXPECT_EQ(h.take_one<codec::disconnect>("c", keep).code, reason_code::retain_not_supported);
  }
  {
    auto c = cfg;
    c.maximum_qos = qos::at_least_once;
    harness h(c);
    connect(h, "c", harness::connect_packet("c", v5));
    h.send("c", make_publish("t", "q", qos::exactly_once, 1));
    EXPECT_EQ(h.take_one<codec::disconnect>("c", keep).code, reason_code::qos_not_supported);
  }
  {  // and the switches themselves: grant 1, retained first, two in flight, held after resumption
    harness h(cfg);
    connect(h, "pub", harness::connect_packet("pub", v5));
    for (std::uint16_t id = 1; id <= 3; ++id) {
      h.send("pub", make_publish("r/" + std::to_string(id), "m", qos::exactly_once, id, true));
      h.send("pub", codec::pubrel{id, reason_code::success, {}});
    }
    connect(h, "sub", persistent("sub", v5));
    h.send("sub", make_subscribe(1, "r/#", qos::exactly_once));
    auto got = h.take("sub");
    ASSERT_EQ(types(got), "PUBLISH PUBLISH SUBACK");
    EXPECT_EQ(std::get<codec::suback>(got[2].value).codes, std::vector{reason_code::granted_qos_1});
    EXPECT_EQ(nth_publish(got, 0).qos_level, qos::at_least_once);
    h.drop("sub");
    h.connect("sub", persistent("sub", v5));
    EXPECT_EQ(types(h.take("sub")), "CONNACK");
    h.advance(100);
    got = h.take("sub");
    ASSERT_EQ(types(got), "PUBLISH PUBLISH");  // the two unacknowledged, the third still waits
    EXPECT_TRUE(nth_publish(got, 0).dup);
    h.send("sub", codec::puback{nth_publish(got, 0).packet_id, reason_code::success, {}});
    EXPECT_EQ(types(h.take("sub")), "PUBLISH");
  }
}

}  // namespace
}  // namespace mqttspec::broker
