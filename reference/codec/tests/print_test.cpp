// Printing (packet.hpp operator<<, to_string): every packet type prints on one readable line that
// names the type and shows its key fields, whatever bytes the fields hold.
#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <sstream>

using namespace mqttspec::codec;
namespace t = mqttspec::codec::test;
using namespace std::literals;

namespace {

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// What a reader needs to see of each packet. Strings are only required when they are plain
// ASCII: other bytes may rightly be escaped.
std::vector<std::string> key_fields(const packet& p) {
  std::vector<std::string> keys{std::string(to_string(type_of(p)))};
  auto text = [&](std::string_view s) {
    if (!s.empty() && printable_ascii(s)) keys.emplace_back(s);
  };
  auto number = [&](unsigned n) { keys.push_back(std::to_string(n)); };
  auto props = [&](const properties& pr) {
    for (const auto& [k, v] : pr.user_properties) {
      text(k);
      text(v);
    }
    if (pr.reason_string) text(*pr.reason_string);
    if (pr.authentication_method) text(*pr.authentication_method);
    if (pr.server_reference) text(*pr.server_reference);
    if (pr.content_type) text(*pr.content_type);
  };
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, connect>) {
          text(x.client_id);
          number(x.keep_alive);
          if (x.will) {
            text(x.will->topic);
            props(x.will->props);
          }
          if (x.user_name) text(*x.user_name);
          props(x.props);
        } else if constexpr (std::is_same_v<T, publish>) {
          text(x.topic);
          if (x.qos_level != qos::at_most_once) number(x.packet_id);
          props(x.props);
        } else if constexpr (std::is_same_v<T, subscribe>) {
          number(x.packet_id);
          for (const auto& s : x.subscriptions) text(s.filter);
          props(x.props);
        } else if constexpr (std::is_same_v<T, unsubscribe>) {
          number(x.packet_id);
          for (auto f : x.filters) text(f);
          props(x.props);
        } else if constexpr (std::is_same_v<T, suback> || std::is_same_v<T, unsuback>) {
          number(x.packet_id);
          props(x.props);
        } else if constexpr (std::is_same_v<T, pingreq> || std::is_same_v<T, pingresp>) {
        } else if constexpr (std::is_same_v<T, connack> || std::is_same_v<T, disconnect> || std::is_same_v<T, auth>) {
          props(x.props);
        } else {  // the four publish responses
          number(x.packet_id);
          props(x.props);
        }
      },
      p);
  return keys;
}

// A reason code shows either by name or by value.
std::optional<reason_code> shown_code(const packet& p) {
  return std::visit(
      [](const auto& x) -> std::optional<reason_code> {
        if constexpr (requires { x.code; }) {
          if (x.code != reason_code::success) return x.code;
        }
        return std::nullopt;
      },
      p);
}

std::string hex_byte(reason_code c) {
  static constexpr char digits[] = "0123456789abcdef";
  const auto v = static_cast<unsigned>(c);
  return {'0', 'x', digits[v >> 4], digits[v & 15]};
}

class print_fixture : public testing::TestWithParam<t::fixture> {};

}  // namespace

TEST_P(print_fixture, prints_type_and_key_fields) {
  const auto& fx = GetParam();
  const auto s = to_string(fx.expected);
  EXPECT_EQ(s.rfind(std::string(to_string(type_of(fx.expected))), 0), 0u) << s << ": starts with the type";
  for (const auto& key : key_fields(fx.expected)) EXPECT_NE(s.find(key), std::string::npos) << s << " lacks " << key;
  if (const auto code = shown_code(fx.expected)) {
    const auto l = lower(s);
    EXPECT_TRUE(l.find(lower(to_string(*code, type_of(fx.expected)))) != std::string::npos ||
                l.find(hex_byte(*code)) != std::string::npos)
        << s << " does not show reason " << hex_byte(*code);
  }
}

TEST_P(print_fixture, prints_one_readable_line) {
  const auto& fx = GetParam();
  const auto s = to_string(fx.expected);
  // No control bytes (payloads hold 00 and ff), no line breaks, and valid UTF-8 throughout.
  EXPECT_TRUE(std::none_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) << s;
  EXPECT_FALSE(check_utf8(s)) << s;
  std::ostringstream os;
  os << fx.expected;
  EXPECT_EQ(os.str(), s) << "operator<< and to_string agree";
}

INSTANTIATE_TEST_SUITE_P(print, print_fixture, testing::ValuesIn(t::fixtures()),
                         [](const auto& i) { return i.param.name; });

TEST(print, publish_shows_its_flags_and_payload) {
  const packet p = publish{.dup = true, .qos_level = qos::exactly_once, .retain = true, .topic = "a/b",
                           .packet_id = 7, .payload = "hello"};
  const auto s = to_string(p);
  for (std::string_view part : {"PUBLISH"sv, "a/b"sv, "7"sv, "hello"sv, "2"sv})
    EXPECT_NE(s.find(part), std::string::npos) << s << " lacks " << part;
  EXPECT_NE(lower(s).find("qos"), std::string::npos) << s;
  EXPECT_NE(lower(s).find("retain"), std::string::npos) << s;
  EXPECT_NE(lower(s).find("dup"), std::string::npos) << s;
}

TEST(print, binary_payload_is_escaped_and_long_payload_is_cut) {
  const std::string big(100'000, 'z');
  const packet p = publish{.topic = "t", .payload = "\x00\x01\xff\x1b[31m"sv};
  const auto s = to_string(p);
  EXPECT_EQ(s.find('\x1b'), std::string::npos) << "no terminal escapes get through";
  const auto long_one = to_string(packet{publish{.topic = "t", .payload = big}});
  EXPECT_LT(long_one.size(), 2'000u) << "a one-line summary, not the whole payload";
  EXPECT_NE(long_one.find("100000"), std::string::npos) << "the size is given";
}

TEST(print, alternatives_print_like_the_variant) {
  // GoogleTest failure messages go through the per-alternative operator<<.
  std::ostringstream a, b;
  a << puback{.packet_id = 9};
  b << packet{puback{.packet_id = 9}};
  EXPECT_EQ(a.str(), b.str());
  std::ostringstream w;
  w << will_message{.qos_level = qos::at_least_once, .topic = "last/will", .payload = "x"};
  EXPECT_NE(w.str().find("last/will"), std::string::npos) << w.str();
  std::ostringstream s;
  s << subscription{"a/+", {.max_qos = qos::exactly_once}};
  EXPECT_NE(s.str().find("a/+"), std::string::npos) << s.str();
}
