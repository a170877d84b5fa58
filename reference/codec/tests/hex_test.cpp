// hex.hpp: the hex text used by fixtures, scenarios and wire logs.
#include "mqttspec/codec/hex.hpp"

#include <gtest/gtest.h>

using namespace mqttspec::codec;
using namespace std::literals;

TEST(hex, from_hex_reads_both_cases_and_skips_separators) {
  EXPECT_EQ(from_hex("10 1e 00 04"), "\x10\x1e\x00\x04"s);
  EXPECT_EQ(from_hex("DEADbeef"), "\xde\xad\xbe\xef"s);
  EXPECT_EQ(from_hex("de:ad-be\tef\r\n00"), "\xde\xad\xbe\xef\x00"s);
  EXPECT_EQ(from_hex(""), ""s);
  EXPECT_EQ(from_hex("  "), ""s);
}

TEST(hex, from_hex_refuses_what_is_not_hex) {
  for (std::string_view bad : {"1", "abc", "0g", "1 2", "zz", "0x10", "10,20"})
    EXPECT_EQ(from_hex(bad), std::nullopt) << bad;
}

TEST(hex, to_hex_is_lower_case_with_an_optional_separator) {
  EXPECT_EQ(to_hex("\x10\xAB\x00\xff"sv), "10ab00ff");
  EXPECT_EQ(to_hex("\x10\xAB\x00\xff"sv, " "), "10 ab 00 ff");
  EXPECT_EQ(to_hex(""), "");
  EXPECT_EQ(to_hex("\x01"sv, ":"), "01") << "no separator after the last byte";
  // Every byte value survives the round trip.
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(from_hex(to_hex(all, " ")), all);
}
