// errc.hpp: the error category, the 5.0 reason class of each error, and the statement it names.
#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

using namespace mqttspec::codec;
namespace t = mqttspec::codec::test;

namespace {

constexpr int first_errc = static_cast<int>(errc::need_more);
constexpr int last_errc = static_cast<int>(errc::value_too_large);

const protocol_version versions[] = {protocol_version::v3_1_1, protocol_version::v5};
const packet_type all_types[] = {
    packet_type::connect,  packet_type::connack,     packet_type::publish,  packet_type::puback,
    packet_type::pubrec,   packet_type::pubrel,      packet_type::pubcomp,  packet_type::subscribe,
    packet_type::suback,   packet_type::unsubscribe, packet_type::unsuback, packet_type::pingreq,
    packet_type::pingresp, packet_type::disconnect,  packet_type::auth};

}  // namespace

TEST(errc, category_and_messages) {
  EXPECT_NE(std::string_view(codec_category().name()), "");
  std::set<std::string> messages;
  for (int e = first_errc; e <= last_errc; ++e) {
    const std::error_code ec = static_cast<errc>(e);  // is_error_code_enum makes this implicit
    EXPECT_EQ(&ec.category(), &codec_category());
    EXPECT_EQ(ec.value(), e);
    EXPECT_FALSE(ec.message().empty()) << e;
    messages.insert(ec.message());
  }
  EXPECT_EQ(messages.size(), static_cast<std::size_t>(last_errc - first_errc + 1)) << "every message is distinct";
}

TEST(errc, reason_class_of_rules_the_spec_classifies) {
  // The 5.0 text says "is a Malformed Packet" for these ...
  for (auto e : {errc::remaining_length_too_long, errc::invalid_fixed_header_flags, errc::truncated,
                 errc::malformed_utf8, errc::utf8_surrogate, errc::utf8_null, errc::connect_reserved_flag,
                 errc::invalid_will_qos, errc::invalid_qos, errc::subscription_options_reserved_bits,
                 errc::property_length_mismatch, errc::unknown_property, errc::property_not_allowed}) {
    EXPECT_EQ(reason_for(e), reason_code::malformed_packet) << make_error_code(e).message();
    const std::error_code ec = e;
    EXPECT_TRUE(ec == reason_code::malformed_packet) << ec.message();
    EXPECT_FALSE(ec == reason_code::protocol_error) << ec.message();
  }
  // ... and "is a Protocol Error" for these (§2.2.2.2, §3.3.2.3.1, §3.8.3, §3.8.3.1).
  for (auto e : {errc::duplicate_property, errc::invalid_property_value, errc::no_topic_filters,
                 errc::invalid_retain_handling, errc::no_local_on_shared_subscription}) {
    EXPECT_EQ(reason_for(e), reason_code::protocol_error) << make_error_code(e).message();
    const std::error_code ec = e;
    EXPECT_TRUE(ec == reason_code::protocol_error) << ec.message();
  }
  EXPECT_EQ(reason_for(errc::packet_too_large), reason_code::packet_too_large);
  EXPECT_EQ(reason_for(errc::unsupported_protocol_version), reason_code::unsupported_protocol_version);
  // Every class is a failure code that DISCONNECT or CONNACK can carry.
  for (int e = static_cast<int>(errc::remaining_length_too_long); e <= static_cast<int>(errc::topic_alias_zero); ++e) {
    const auto r = reason_for(static_cast<errc>(e));
    EXPECT_TRUE(is_failure(r)) << e;
    EXPECT_TRUE(is_valid_for(r, packet_type::disconnect) || is_valid_for(r, packet_type::connack)) << e;
  }
}

TEST(errc, statements_named_in_the_header) {
  EXPECT_EQ(statement_for(errc::malformed_utf8, protocol_version::v5), "v5:MQTT-1.5.4-1");
  EXPECT_EQ(statement_for(errc::utf8_null, protocol_version::v5), "v5:MQTT-1.5.4-2");
  EXPECT_EQ(statement_for(errc::malformed_utf8, protocol_version::v3_1_1), "v3.1.1:MQTT-1.5.3-1");
  EXPECT_EQ(statement_for(errc::utf8_null, protocol_version::v3_1_1), "v3.1.1:MQTT-1.5.3-2");
  EXPECT_EQ(statement_for(errc::invalid_qos, protocol_version::v3_1_1, packet_type::publish), "v3.1.1:MQTT-3.3.1-4");
  EXPECT_EQ(statement_for(errc::non_minimal_varint, protocol_version::v5), "v5:MQTT-1.5.5-1");
  EXPECT_EQ(statement_for(errc::connect_reserved_flag, protocol_version::v5), "v5:MQTT-3.1.2-3");
  EXPECT_EQ(statement_for(errc::connect_reserved_flag, protocol_version::v3_1_1), "v3.1.1:MQTT-3.1.2-3");
  EXPECT_EQ(statement_for(errc::password_without_user_name, protocol_version::v3_1_1), "v3.1.1:MQTT-3.1.2-22");
  EXPECT_EQ(statement_for(errc::topic_alias_zero, protocol_version::v5), "v5:MQTT-3.3.2-8");
}

TEST(errc, fixed_header_flag_statement_is_per_packet) {
  const auto s = [](protocol_version v, packet_type t) { return statement_for(errc::invalid_fixed_header_flags, v, t); };
  EXPECT_EQ(s(protocol_version::v5, packet_type::pubrel), "v5:MQTT-3.6.1-1");
  EXPECT_EQ(s(protocol_version::v5, packet_type::subscribe), "v5:MQTT-3.8.1-1");
  EXPECT_EQ(s(protocol_version::v5, packet_type::unsubscribe), "v5:MQTT-3.10.1-1");
  EXPECT_EQ(s(protocol_version::v5, packet_type::disconnect), "v5:MQTT-3.14.1-1");
  EXPECT_EQ(s(protocol_version::v5, packet_type::auth), "v5:MQTT-3.15.1-1");
  EXPECT_EQ(s(protocol_version::v5, packet_type::connack), "v5:MQTT-2.1.3-1");
  EXPECT_EQ(s(protocol_version::v3_1_1, packet_type::pubrel), "v3.1.1:MQTT-3.6.1-1");
  EXPECT_EQ(s(protocol_version::v3_1_1, packet_type::subscribe), "v3.1.1:MQTT-3.8.1-1");
  EXPECT_EQ(s(protocol_version::v3_1_1, packet_type::unsubscribe), "v3.1.1:MQTT-3.10.1-1");
  EXPECT_EQ(s(protocol_version::v3_1_1, packet_type::connack), "v3.1.1:MQTT-2.2.2-2");
}

TEST(errc, empty_filter_list_and_reason_code_statements_are_per_packet) {
  EXPECT_EQ(statement_for(errc::no_topic_filters, protocol_version::v5, packet_type::subscribe), "v5:MQTT-3.8.3-2");
  EXPECT_EQ(statement_for(errc::no_topic_filters, protocol_version::v5, packet_type::unsubscribe), "v5:MQTT-3.10.3-2");
  EXPECT_EQ(statement_for(errc::no_topic_filters, protocol_version::v3_1_1, packet_type::subscribe),
            "v3.1.1:MQTT-3.8.3-3");
  EXPECT_EQ(statement_for(errc::no_topic_filters, protocol_version::v3_1_1, packet_type::unsubscribe),
            "v3.1.1:MQTT-3.10.3-2");
  const std::pair<packet_type, std::string_view> v5_codes[] = {
      {packet_type::connack, "v5:MQTT-3.2.2-8"},  {packet_type::puback, "v5:MQTT-3.4.2-1"},
      {packet_type::pubrec, "v5:MQTT-3.5.2-1"},   {packet_type::pubrel, "v5:MQTT-3.6.2-1"},
      {packet_type::pubcomp, "v5:MQTT-3.7.2-1"},  {packet_type::suback, "v5:MQTT-3.9.3-2"},
      {packet_type::unsuback, "v5:MQTT-3.11.3-2"}, {packet_type::disconnect, "v5:MQTT-3.14.2-1"},
      {packet_type::auth, "v5:MQTT-3.15.2-1"},
  };
  for (const auto& [type, id] : v5_codes)
    EXPECT_EQ(statement_for(errc::invalid_reason_code, protocol_version::v5, type), id) << to_string(type);
  EXPECT_EQ(statement_for(errc::invalid_reason_code, protocol_version::v3_1_1, packet_type::suback),
            "v3.1.1:MQTT-3.9.3-2");
}

TEST(errc, every_statement_named_exists_in_the_catalog) {
  const auto* catalog = t::statement_catalog();
  if (!catalog) GTEST_SKIP() << "statement catalogs not available to this build";
  for (int e = first_errc; e <= last_errc; ++e) {
    for (auto v : versions) {
      const std::string prefix = v == protocol_version::v5 ? "v5:" : "v3.1.1:";
      std::vector<std::optional<packet_type>> ins = {std::nullopt};
      for (auto type : all_types) ins.emplace_back(type);
      for (const auto& in : ins) {
        const auto s = statement_for(static_cast<errc>(e), v, in);
        if (s.empty()) continue;
        EXPECT_EQ(s.rfind(prefix, 0), 0u) << s << " for " << make_error_code(static_cast<errc>(e)).message();
        EXPECT_EQ(catalog->count(s), 1u) << s << " for " << make_error_code(static_cast<errc>(e)).message()
                                         << (in ? std::string(" in ") + std::string(to_string(*in)) : "");
      }
    }
  }
}

TEST(errc, decode_error_message_says_where_and_which_statement) {
  const decode_error e{errc::malformed_utf8, 12, "v5:MQTT-1.5.4-1", {}};
  const auto m = e.message();
  EXPECT_NE(m.find("12"), std::string::npos) << m;
  EXPECT_NE(m.find("v5:MQTT-1.5.4-1"), std::string::npos) << m;
  std::ostringstream os;
  os << e;
  EXPECT_NE(os.str().find("v5:MQTT-1.5.4-1"), std::string::npos) << os.str();
  EXPECT_EQ(e.error_code(), make_error_code(errc::malformed_utf8));
  EXPECT_EQ(e.reason(), reason_code::malformed_packet);
}
