// encode.hpp: every canonical fixture encodes byte for byte; a seeded generator walks the option
// space of both versions and checks decode(encode(p)) == p; what a version cannot carry is refused.
#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>

using namespace mqttspec::codec;
namespace t = mqttspec::codec::test;
using t::hexdump;
using t::unhex;
using namespace std::literals;

namespace {

constexpr auto v31 = protocol_version::v3_1;
constexpr auto v311 = protocol_version::v3_1_1;
constexpr auto v5 = protocol_version::v5;

std::vector<t::fixture> canonical_fixtures() {
  std::vector<t::fixture> out;
  for (const auto& f : t::fixtures())
    if (f.canonical) out.push_back(f);
  return out;
}

class encode_fixture : public testing::TestWithParam<t::fixture> {};

}  // namespace

TEST_P(encode_fixture, encodes_to_the_hand_written_bytes) {
  const auto& fx = GetParam();
  const auto r = encode(fx.expected, fx.version);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(hexdump(*r), hexdump(unhex(fx.hex)));
  const auto size = encoded_size(fx.expected, fx.version);
  ASSERT_TRUE(size) << size.error().message();
  EXPECT_EQ(*size, unhex(fx.hex).size());
}

TEST_P(encode_fixture, encode_to_appends) {
  const auto& fx = GetParam();
  bytes out = "prefix";
  const auto ec = encode_to(fx.expected, fx.version, out);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(hexdump(out), hexdump("prefix" + unhex(fx.hex)));
}

INSTANTIATE_TEST_SUITE_P(encode, encode_fixture, testing::ValuesIn(canonical_fixtures()),
                         [](const auto& i) { return i.param.name; });

TEST(encode, non_canonical_fixtures_encode_to_the_short_form) {
  // Success without properties leaves the Reason Code and Property Length out.
  const auto puback_bytes = encode(puback{.packet_id = 3}, v5);
  ASSERT_TRUE(puback_bytes);
  EXPECT_EQ(hexdump(*puback_bytes), "40 02 00 03");
  const auto disconnect_bytes = encode(disconnect{}, v5);
  ASSERT_TRUE(disconnect_bytes);
  EXPECT_EQ(hexdump(*disconnect_bytes), "e0 00");
}

TEST(encode, four_byte_remaining_length_round_trips) {
  // Past 2,097,151 bytes the Remaining Length takes all four bytes (§1.5.5).
  const std::string payload(2'100'000, 'Z');
  for (auto v : {v311, v5}) {
    const packet p = publish{.qos_level = qos::at_least_once, .topic = "big", .packet_id = 1, .payload = payload};
    const auto encoded = encode(p, v);
    ASSERT_TRUE(encoded) << encoded.error().message();
    const auto f = parse_frame(*encoded);
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_EQ(f->header_size, 5u);
    EXPECT_EQ(f->bytes.size(), encoded->size());
    const auto back = decode(*f, v);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_TRUE(*back == p) << t::tag(v);
  }
}

// --------------------------------------------------------------- what a version cannot carry

namespace {

struct refusal_row {
  std::string_view name;
  packet value;
  protocol_version version;
  errc code;
};

const std::string& big_string() {
  static const std::string s(65'536, 'x');  // one byte more than a two-byte length can say
  return s;
}

std::vector<refusal_row> refusal_rows() {
  using rc = reason_code;
  const properties some_props{.reason_string = "r"};
  return {
      {"publish_properties", publish{.topic = "t", .props = {.message_expiry_interval = 5}, .payload = ""}, v311, errc::not_in_version},
      {"publish_user_property", publish{.topic = "t", .props = {.user_properties = {{"k", "v"}}}, .payload = ""}, v311, errc::not_in_version},
      {"connect_properties", connect{.version = v311, .props = {.session_expiry_interval = 1}, .client_id = "c"}, v311, errc::not_in_version},
      {"connect_will_properties", connect{.version = v311, .client_id = "c", .will = will_message{.props = {.will_delay_interval = 1}, .topic = "t"}}, v311, errc::not_in_version},
      {"connack_code_without_3_1_1_equivalent", connack{.code = rc::unspecified_error}, v311, errc::not_in_version},
      {"connack_properties", connack{.props = {.maximum_qos = 1}}, v311, errc::not_in_version},
      {"puback_reason", puback{.packet_id = 1, .code = rc::no_matching_subscribers}, v311, errc::not_in_version},
      {"pubrec_properties", pubrec{.packet_id = 1, .props = some_props}, v311, errc::not_in_version},
      {"pubrel_reason", pubrel{.packet_id = 1, .code = rc::packet_identifier_not_found}, v311, errc::not_in_version},
      {"pubcomp_properties", pubcomp{.packet_id = 1, .props = some_props}, v311, errc::not_in_version},
      {"subscribe_properties", subscribe{.packet_id = 1, .props = {.subscription_identifiers = {1}}, .subscriptions = {{"a", {}}}}, v311, errc::not_in_version},
      {"subscribe_no_local", subscribe{.packet_id = 1, .subscriptions = {{"a", {.no_local = true}}}}, v311, errc::not_in_version},
      {"subscribe_retain_as_published", subscribe{.packet_id = 1, .subscriptions = {{"a", {.retain_as_published = true}}}}, v311, errc::not_in_version},
      {"subscribe_retain_handling", subscribe{.packet_id = 1, .subscriptions = {{"a", {.handling = retain_handling::send_if_new}}}}, v311, errc::not_in_version},
      {"suback_5_0_only_code", suback{.packet_id = 1, .codes = {rc::quota_exceeded}}, v311, errc::not_in_version},
      {"suback_failure_in_3_1", suback{.packet_id = 1, .codes = {rc::unspecified_error}}, v31, errc::not_in_version},
      {"suback_properties", suback{.packet_id = 1, .props = some_props, .codes = {rc::success}}, v311, errc::not_in_version},
      {"unsubscribe_properties", unsubscribe{.packet_id = 1, .props = {.user_properties = {{"k", "v"}}}, .filters = {"a"}}, v311, errc::not_in_version},
      {"unsuback_codes", unsuback{.packet_id = 1, .codes = {rc::success}}, v311, errc::not_in_version},
      {"unsuback_properties", unsuback{.packet_id = 1, .props = some_props}, v311, errc::not_in_version},
      {"disconnect_reason", disconnect{.code = rc::disconnect_with_will_message}, v311, errc::not_in_version},
      {"disconnect_properties", disconnect{.props = {.session_expiry_interval = 0}}, v311, errc::not_in_version},
      {"auth_3_1_1", auth{}, v311, errc::not_in_version},
      {"auth_3_1", auth{.code = rc::continue_authentication}, v31, errc::not_in_version},
      // Values that do not fit their fields at all.
      {"topic_too_long", publish{.topic = big_string(), .payload = ""}, v5, errc::value_too_large},
      {"client_id_too_long", connect{.version = v311, .client_id = big_string()}, v311, errc::value_too_large},
      {"password_too_long", connect{.version = v5, .client_id = "c", .user_name = "u", .password = big_string()}, v5, errc::value_too_large},
      {"user_property_too_long", disconnect{.props = {.user_properties = {{"k", big_string()}}}}, v5, errc::value_too_large},
      {"auth_data_too_long", auth{.code = rc::continue_authentication, .props = {.authentication_method = "m", .authentication_data = big_string()}}, v5, errc::value_too_large},
      {"filter_too_long", unsubscribe{.packet_id = 1, .filters = {big_string()}}, v5, errc::value_too_large},
      {"subscription_identifier_too_large", subscribe{.packet_id = 1, .props = {.subscription_identifiers = {268'435'456}}, .subscriptions = {{"a", {}}}}, v5, errc::value_too_large},
  };
}

void PrintTo(const refusal_row& r, std::ostream* os) { *os << r.name; }

class refused : public testing::TestWithParam<refusal_row> {};

}  // namespace

TEST_P(refused, with_errc) {
  const auto& row = GetParam();
  const auto r = encode(row.value, row.version);
  ASSERT_FALSE(r) << "encoded " << hexdump(r->substr(0, 64));
  EXPECT_EQ(r.error(), make_error_code(row.code)) << r.error().message();
  const auto size = encoded_size(row.value, row.version);
  ASSERT_FALSE(size);
  EXPECT_EQ(size.error(), make_error_code(row.code));
  bytes out = "kept";
  EXPECT_EQ(encode_to(row.value, row.version, out), make_error_code(row.code));
  EXPECT_EQ(out, "kept") << "nothing appended on error";
}

INSTANTIATE_TEST_SUITE_P(encode, refused, testing::ValuesIn(refusal_rows()),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(encode, the_same_content_is_fine_in_5_0) {
  // The refusals above are about the version, not the packets: 5.0 carries them.
  for (const auto& row : refusal_rows()) {
    if (row.code != errc::not_in_version || type_of(row.value) == packet_type::connect) continue;
    if (const auto* u = std::get_if<unsuback>(&row.value); u && u->codes.empty()) continue;  // 5.0 needs codes
    const auto r = encode(row.value, v5);
    ASSERT_TRUE(r) << row.name << ": " << r.error().message();
    const auto back = decode(*r, v5);
    ASSERT_TRUE(back) << row.name << ": " << back.error().message();
    EXPECT_EQ(*back, row.value) << row.name;
  }
}

// ------------------------------------------------------------------------- the round trip

namespace {

// Builds random but valid packets. Strings come from fixed pools (views stay valid); binary data
// lives in an arena owned by the generator.
class generator {
 public:
  generator(protocol_version v, std::uint32_t seed) : v_(v), rng_(seed) {}

  packet any() {
    const int last = is_v5(v_) ? 15 : 14;  // AUTH only in 5.0
    return make(static_cast<packet_type>(pick(1, last)));
  }

  packet make(packet_type type) {
    switch (type) {
      case packet_type::connect: return make_connect();
      case packet_type::connack: {
        connack c;
        c.code = pick_code(type);
        c.session_present = c.code == reason_code::success && coin();
        c.props = props(type);
        return c;
      }
      case packet_type::publish: return make_publish();
      case packet_type::puback: return ack<puback>();
      case packet_type::pubrec: return ack<pubrec>();
      case packet_type::pubrel: return ack<pubrel>();
      case packet_type::pubcomp: return ack<pubcomp>();
      case packet_type::subscribe: {
        subscribe s;
        s.packet_id = id();
        s.props = props(type);
        for (int i = 0, n = pick(1, 5); i < n; ++i) s.subscriptions.push_back(make_subscription());
        return s;
      }
      case packet_type::suback: {
        suback s;
        s.packet_id = id();
        s.props = props(type);
        for (int i = 0, n = pick(1, 6); i < n; ++i) s.codes.push_back(pick_code(type));
        return s;
      }
      case packet_type::unsubscribe: {
        unsubscribe u;
        u.packet_id = id();
        u.props = props(type);
        for (int i = 0, n = pick(1, 5); i < n; ++i) u.filters.push_back(filter());
        return u;
      }
      case packet_type::unsuback: {
        unsuback u;
        u.packet_id = id();
        u.props = props(type);
        if (is_v5(v_))
          for (int i = 0, n = pick(1, 6); i < n; ++i) u.codes.push_back(pick_code(type));
        return u;
      }
      case packet_type::pingreq: return pingreq{};
      case packet_type::pingresp: return pingresp{};
      case packet_type::disconnect: {
        disconnect d;
        if (is_v5(v_)) d.code = pick_code(type);
        d.props = props(type);
        return d;
      }
      case packet_type::auth: {
        auth a;
        a.code = pick_code(type);
        a.props = props(type);
        return a;
      }
    }
    return pingreq{};
  }

 private:
  bool coin(int percent = 50) { return pick(1, 100) <= percent; }
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::uint32_t u32(std::uint32_t lo = 0, std::uint32_t hi = 0xffffffff) {
    return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng_);
  }
  std::uint16_t id() { return static_cast<std::uint16_t>(pick(1, 65535)); }
  template <class T>
  T from(const std::vector<T>& pool) { return pool[static_cast<std::size_t>(pick(0, static_cast<int>(pool.size()) - 1))]; }

  std::string_view text() {
    static const std::string long_text(300, 'L');
    static const std::vector<std::string_view> pool = {
        "", "a", "client-1", "\xc3\xa9t\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9d\x84\x9e", "\xef\xbb\xbf",
        "with space", long_text};
    return from(pool);
  }
  std::string_view topic() {
    static const std::string long_topic = "deep/" + std::string(200, 't');
    static const std::vector<std::string_view> pool = {
        "a", "a/b", "/", "sport/tennis/player1", "$SYS/broker/load", "\xc3\xa9/\xc3\xbc", "\xef\xbb\xbfx", "a//b",
        long_topic};
    return from(pool);
  }
  std::string_view filter() {
    static const std::vector<std::string_view> common = {"#", "+", "a/+", "a/#", "+/+/c", "/", "x", "$SYS/#", "a/b/c"};
    static const std::vector<std::string_view> shared = {"$share/g/a/#", "$share/grp/+", "$share/x/y"};
    if (is_v5(v_) && coin(20)) return from(shared);
    return from(common);
  }
  bytes_view binary() {
    const int n = coin(10) ? pick(128, 400) : pick(0, 20);
    std::string b;
    for (int i = 0; i < n; ++i) b.push_back(static_cast<char>(pick(0, 255)));
    arena_.push_back(std::move(b));
    return arena_.back();
  }

  reason_code pick_code(packet_type type) {
    std::vector<reason_code> codes;
    if (is_v5(v_)) {
      for (int c = 0; c < 256; ++c)
        if (is_defined(static_cast<std::uint8_t>(c)) && is_valid_for(static_cast<reason_code>(c), type))
          codes.push_back(static_cast<reason_code>(c));
    } else if (type == packet_type::connack) {
      for (std::uint8_t c = 0; c <= 5; ++c) codes.push_back(*from_v311_connack(c));
    } else if (type == packet_type::suback) {
      for (int c : {0, 1, 2, 0x80})
        if (is_valid_v311_suback(static_cast<std::uint8_t>(c), v_)) codes.push_back(static_cast<reason_code>(c));
    } else {
      codes.push_back(reason_code::success);
    }
    return from(codes);
  }

  properties props(packet_type type) { return props_at(t::bit(type), type); }

  properties props_at(std::uint32_t where, packet_type type) {
    properties p;
    if (!is_v5(v_) || coin(30)) return p;  // often none at all
    for (const auto& spec : t::spec_properties()) {
      if (!(spec.places & where) || !coin(35)) continue;
      using i = property_id;
      switch (spec.id) {
        case i::payload_format_indicator: p.payload_format_indicator = static_cast<std::uint8_t>(pick(0, 1)); break;
        case i::message_expiry_interval: p.message_expiry_interval = u32(); break;
        case i::content_type: p.content_type = text(); break;
        case i::response_topic: p.response_topic = topic(); break;
        case i::correlation_data: p.correlation_data = binary(); break;
        case i::subscription_identifier:
          for (int n = type == packet_type::publish ? pick(1, 3) : 1; n > 0; --n)
            p.subscription_identifiers.push_back(u32(1, 268'435'455));
          break;
        case i::session_expiry_interval: p.session_expiry_interval = u32(); break;
        case i::assigned_client_identifier: p.assigned_client_identifier = text(); break;
        case i::server_keep_alive: p.server_keep_alive = static_cast<std::uint16_t>(pick(0, 65535)); break;
        case i::authentication_method: p.authentication_method = text(); break;
        case i::authentication_data:  // only beside an Authentication Method (§3.1.2.11.10)
          if (p.authentication_method) p.authentication_data = binary();
          break;
        case i::request_problem_information: p.request_problem_information = static_cast<std::uint8_t>(pick(0, 1)); break;
        case i::will_delay_interval: p.will_delay_interval = u32(); break;
        case i::request_response_information: p.request_response_information = static_cast<std::uint8_t>(pick(0, 1)); break;
        case i::response_information: p.response_information = text(); break;
        case i::server_reference: p.server_reference = text(); break;
        case i::reason_string: p.reason_string = text(); break;
        case i::receive_maximum: p.receive_maximum = static_cast<std::uint16_t>(pick(1, 65535)); break;
        case i::topic_alias_maximum: p.topic_alias_maximum = static_cast<std::uint16_t>(pick(0, 65535)); break;
        case i::topic_alias: p.topic_alias = static_cast<std::uint16_t>(pick(1, 65535)); break;
        case i::maximum_qos: p.maximum_qos = static_cast<std::uint8_t>(pick(0, 1)); break;
        case i::retain_available: p.retain_available = static_cast<std::uint8_t>(pick(0, 1)); break;
        case i::user_property:
          for (int n = pick(1, 3); n > 0; --n) p.user_properties.emplace_back(text(), text());
          break;
        case i::maximum_packet_size: p.maximum_packet_size = u32(1); break;
        case i::wildcard_subscription_available: p.wildcard_subscription_available = static_cast<std::uint8_t>(pick(0, 1)); break;
        case i::subscription_identifier_available: p.subscription_identifier_available = static_cast<std::uint8_t>(pick(0, 1)); break;
        case i::shared_subscription_available: p.shared_subscription_available = static_cast<std::uint8_t>(pick(0, 1)); break;
      }
    }
    return p;
  }

  packet make_connect() {
    connect c;
    c.version = v_;
    c.clean_start = coin();
    c.keep_alive = static_cast<std::uint16_t>(pick(0, 65535));
    c.props = props(packet_type::connect);
    c.client_id = text();
    if (coin()) {
      will_message w;
      w.qos_level = static_cast<qos>(pick(0, 2));
      w.retain = coin();
      w.props = props_at(t::will_bit, packet_type::connect);
      w.topic = topic();
      w.payload = binary();
      c.will = w;
    }
    if (coin()) c.user_name = text();
    // 3.1.1 forbids a password without a user name (MQTT-3.1.2-22); 5.0 allows it.
    if ((is_v5(v_) || c.user_name) && coin()) c.password = binary();
    return c;
  }

  packet make_publish() {
    publish p;
    p.qos_level = static_cast<qos>(pick(0, 2));
    p.dup = p.qos_level != qos::at_most_once && coin();
    p.retain = coin();
    p.props = props(packet_type::publish);
    // With a Topic Alias the topic may be empty (5.0 §3.3.2.3.4).
    p.topic = p.props.topic_alias && coin() ? std::string_view{} : topic();
    if (p.qos_level != qos::at_most_once) p.packet_id = id();
    p.payload = binary();
    return p;
  }

  template <class Ack>
  packet ack() {
    Ack a;
    a.packet_id = id();
    a.code = pick_code(Ack::type);
    a.props = props(Ack::type);
    return a;
  }

  subscription make_subscription() {
    subscription s;
    s.filter = filter();
    s.options.max_qos = static_cast<qos>(pick(0, 2));
    if (is_v5(v_)) {
      s.options.no_local = !parse_shared(s.filter) && coin();  // No Local on a shared one is an error
      s.options.retain_as_published = coin();
      s.options.handling = static_cast<retain_handling>(pick(0, 2));
    }
    return s;
  }

  protocol_version v_;
  std::mt19937 rng_;
  std::deque<std::string> arena_;
};

struct round_trip_case {
  protocol_version version;
  std::uint32_t seed;
  int count;
};

void PrintTo(const round_trip_case& c, std::ostream* os) { *os << t::tag(c.version) << " seed " << c.seed; }

class round_trip : public testing::TestWithParam<round_trip_case> {};

}  // namespace

TEST_P(round_trip, decode_of_encode_is_identity) {
  const auto& c = GetParam();
  generator gen(c.version, c.seed);
  std::set<packet_type> seen;
  for (int i = 0; i < c.count; ++i) {
    const packet p = gen.any();
    seen.insert(type_of(p));
    const auto encoded = encode(p, c.version);
    ASSERT_TRUE(encoded) << "#" << i << " " << p << ": " << encoded.error().message();
    const auto size = encoded_size(p, c.version);
    ASSERT_TRUE(size);
    EXPECT_EQ(*size, encoded->size()) << p;
    const auto f = parse_frame(*encoded);
    ASSERT_TRUE(f) << p << ": " << f.error().message();
    EXPECT_EQ(f->bytes.size(), encoded->size());
    EXPECT_TRUE(f->minimal_length);
    const auto back = decode(*f, c.version);
    ASSERT_TRUE(back) << "#" << i << " " << p << "\n" << hexdump(*encoded) << "\n" << back.error().message();
    ASSERT_EQ(*back, p) << "#" << i << "\n" << hexdump(*encoded);
  }
  EXPECT_EQ(seen.size(), c.version == protocol_version::v5 ? 15u : 14u) << "every packet type was made";
}

INSTANTIATE_TEST_SUITE_P(encode, round_trip,
                         testing::Values(round_trip_case{v5, 1, 3000}, round_trip_case{v5, 20240229, 3000},
                                         round_trip_case{v311, 2, 2000}, round_trip_case{v311, 77, 2000},
                                         round_trip_case{v31, 3, 500}),
                         [](const auto& i) {
                           return std::string(t::tag(i.param.version)) + "_seed_" + std::to_string(i.param.seed);
                         });
