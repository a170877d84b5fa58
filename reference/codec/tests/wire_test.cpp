// wire.hpp: Variable Byte Integers (§1.5.5), UTF-8 strings (§1.5.4 / 3.1.1 §1.5.3), the writer
// and the raw frame builder.
#include "fixtures.hpp"
#include "mqttspec/codec/detail/swar.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace mqttspec::codec;
using mqttspec::codec::test::hexdump;
using mqttspec::codec::test::unhex;
using namespace std::literals;

namespace {

// §1.5.5 table of sizes, plus the edges either side.
struct varint_row {
  std::uint32_t value;
  std::size_t size;
  std::string_view hex;  // minimal encoding
};
const varint_row varint_rows[] = {
    {0, 1, "00"},
    {1, 1, "01"},
    {127, 1, "7f"},
    {128, 2, "80 01"},
    {321, 2, "c1 02"},
    {16'383, 2, "ff 7f"},
    {16'384, 3, "80 80 01"},
    {2'097'151, 3, "ff ff 7f"},
    {2'097'152, 4, "80 80 80 01"},
    {268'435'455, 4, "ff ff ff 7f"},
};

}  // namespace

TEST(wire, varint_size_follows_the_spec_table) {
  for (const auto& r : varint_rows) EXPECT_EQ(varint_size(r.value), r.size) << r.value;
  EXPECT_EQ(varint_size(268'435'456), 0u);
  EXPECT_EQ(varint_size(std::numeric_limits<std::uint32_t>::max()), 0u);
}

TEST(wire, writer_varint_is_minimal) {
  for (const auto& r : varint_rows) {
    bytes out;
    wire_writer(out).varint(r.value);
    EXPECT_EQ(hexdump(out), r.hex) << r.value;
  }
}

TEST(wire, writer_varint_can_be_forced_wider) {
  // For deliberately non-minimal input (5.0 forbids it, MQTT-1.5.5-1; 3.1.1 does not).
  const std::tuple<std::uint32_t, std::size_t, std::string_view> rows[] = {
      {0, 2, "80 00"}, {0, 4, "80 80 80 00"}, {1, 3, "81 80 00"}, {127, 2, "ff 00"}, {128, 3, "80 81 00"},
      {127, 1, "7f"},
  };
  for (const auto& [value, width, hex] : rows) {
    bytes out;
    wire_writer(out).varint(value, width);
    EXPECT_EQ(hexdump(out), hex) << value << " in " << width;
  }
}

TEST(wire, writer_integers_are_big_endian) {
  bytes out = "x";
  wire_writer w(out);
  w.u8(0xab);
  w.u16(0x0102);
  w.u32(0x0a0b0c0d);
  w.string("MQTT");
  w.string("");
  w.raw("\x00\xff"sv);
  EXPECT_EQ(hexdump(out), "78 ab 01 02 0a 0b 0c 0d 00 04 4d 51 54 54 00 00 00 ff");
}

// ------------------------------------------------------------------------------------ UTF-8

namespace {

struct utf8_row {
  std::string_view name;
  std::string_view hex;
  std::optional<errc> code;  // nullopt: valid
  std::size_t offset = 0;
};

const utf8_row utf8_rows[] = {
    {"empty", "", std::nullopt},
    {"ascii", "61 2f 62", std::nullopt},
    {"two_byte", "c3 a9", std::nullopt},                   // é
    {"three_byte", "e2 82 ac", std::nullopt},              // €
    {"four_byte", "f0 9d 84 9e", std::nullopt},            // U+1D11E
    {"zwnbsp_kept", "ef bb bf 61", std::nullopt},          // U+FEFF is a character (MQTT-1.5.4-3)
    {"last_before_surrogates", "ed 9f bf", std::nullopt},  // U+D7FF
    {"first_after_surrogates", "ee 80 80", std::nullopt},  // U+E000
    {"largest_code_point", "f4 8f bf bf", std::nullopt},   // U+10FFFF
    {"null", "00", errc::utf8_null, 0},
    {"null_inside", "61 62 00 63", errc::utf8_null, 2},
    {"overlong_null", "c0 80", errc::malformed_utf8, 0},
    {"overlong_null_after_text", "61 c0 80", errc::malformed_utf8, 1},
    {"overlong_two_byte", "c1 bf", errc::malformed_utf8, 0},
    {"overlong_three_byte", "e0 9f bf", errc::malformed_utf8, 0},
    {"overlong_three_byte_null", "e0 80 80", errc::malformed_utf8, 0},
    {"overlong_four_byte", "f0 8f bf bf", errc::malformed_utf8, 0},
    {"high_surrogate", "ed a0 80", errc::utf8_surrogate, 0},
    {"low_surrogate_after_text", "61 ed bf bf", errc::utf8_surrogate, 1},
    {"above_u10ffff", "f4 90 80 80", errc::malformed_utf8, 0},
    {"f5_lead", "f5 80 80 80", errc::malformed_utf8, 0},
    {"ff_byte", "61 ff", errc::malformed_utf8, 1},
    {"lone_continuation", "80", errc::malformed_utf8, 0},
    {"truncated_two_byte", "c3", errc::malformed_utf8, 0},
    {"truncated_three_byte", "61 62 e2 82", errc::malformed_utf8, 2},
    {"truncated_four_byte", "f0 9d 84", errc::malformed_utf8, 0},
    {"bad_continuation", "e2 28 a1", errc::malformed_utf8, 0},
    {"continuation_cut_by_ascii", "c3 61", errc::malformed_utf8, 0},
};

void PrintTo(const utf8_row& r, std::ostream* os) { *os << r.name; }

class utf8 : public testing::TestWithParam<utf8_row> {};

}  // namespace

TEST_P(utf8, check) {
  const auto& r = GetParam();
  const auto s = unhex(r.hex);
  const auto problem = check_utf8(s);
  if (!r.code) {
    EXPECT_FALSE(problem) << "rejected as " << make_error_code(problem->code).message() << " at " << problem->offset;
    return;
  }
  ASSERT_TRUE(problem) << "accepted " << r.hex;
  EXPECT_EQ(problem->code, *r.code) << make_error_code(problem->code).message();
  EXPECT_EQ(problem->offset, r.offset);
}

INSTANTIATE_TEST_SUITE_P(wire, utf8, testing::ValuesIn(utf8_rows),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(wire, every_surrogate_is_refused) {
  for (unsigned cp = 0xD800; cp <= 0xDFFF; ++cp) {
    const char s[] = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                      static_cast<char>(0x80 | (cp & 0x3F))};
    const auto problem = check_utf8(std::string_view(s, 3));
    ASSERT_TRUE(problem) << std::hex << cp;
    EXPECT_EQ(problem->code, errc::utf8_surrogate) << std::hex << cp;
  }
}

// ------------------------------------------------------------------------------ raw frames

TEST(wire, build_writes_a_minimal_length_by_default) {
  EXPECT_EQ(hexdump(build({.first_byte = 0x30, .body = "abc"})), "30 03 61 62 63");
  EXPECT_EQ(hexdump(build({.first_byte = 0xc0})), "c0 00");
  const auto big = build({.first_byte = 0x30, .body = bytes(128, 'x')});
  EXPECT_EQ(hexdump(big.substr(0, 3)), "30 80 01");
  EXPECT_EQ(big.size(), 3u + 128u);
}

TEST(wire, build_can_break_every_length_rule) {
  // A wrong length, a non-minimal one, and a verbatim (even five-byte) one.
  EXPECT_EQ(hexdump(build({.first_byte = 0x30, .body = "abc", .remaining_length = 10})), "30 0a 61 62 63");
  EXPECT_EQ(hexdump(build({.first_byte = 0x30, .body = "abc", .length_width = 2})), "30 83 00 61 62 63");
  EXPECT_EQ(hexdump(build({.first_byte = 0xc0, .length_width = 4})), "c0 80 80 80 00");
  EXPECT_EQ(hexdump(build({.first_byte = 0x31, .body = "a", .length_bytes_override = unhex("ff ff ff ff 7f")})),
            "31 ff ff ff ff 7f 61");
}

// The word-at-a-time scan behind every decoded string (detail/swar.hpp) must see every byte of
// every length: it reads the tail as an overlapping word and gathers strings under 8 bytes, so each
// length 0..24 and each position is tried, with the bytes either side of the ones it looks for.
TEST(wire, text_scan_sees_every_byte_of_every_length) {
  const std::string clean_bytes = std::string("\x01\x7f\x22\x24\x2a\x2c\x33\x3b/aZ", 11);
  // Up to 48 bytes: the three scan paths (under 8, under 16, sixteen at a time) and their tails.
  for (std::size_t n = 0; n <= 48; ++n) {
    for (char filler : clean_bytes) {
      const std::string clean(n, filler);
      const auto scan = detail::scan_text(clean);
      EXPECT_FALSE(scan.needs_utf8_check) << n << " x " << int(filler);
      EXPECT_FALSE(scan.has_wildcard) << n << " x " << int(filler);
    }
    for (std::size_t at = 0; at < n; ++at) {
      for (const char bad : {'\0', '\x80', '\xc3', '\xff'}) {
        std::string s(n, 'a');
        s[at] = bad;
        const auto scan = detail::scan_text(s);
        EXPECT_TRUE(scan.needs_utf8_check) << n << " @" << at << " " << int(bad);
        EXPECT_FALSE(scan.has_wildcard) << n << " @" << at << " " << int(bad);
      }
      for (const char wildcard : {'+', '#'}) {
        std::string s(n, 'a');
        s[at] = wildcard;
        const auto scan = detail::scan_text(s);
        EXPECT_FALSE(scan.needs_utf8_check) << n << " @" << at;
        EXPECT_TRUE(scan.has_wildcard) << n << " @" << at << " " << wildcard;
      }
      // Every byte value at this position, against the rule stated byte by byte.
      for (int b = 0; b < 256; ++b) {
        std::string s(n, 'a');
        s[at] = static_cast<char>(b);
        const auto scan = detail::scan_text(s);
        EXPECT_EQ(scan.needs_utf8_check, b == 0 || b >= 0x80) << n << " @" << at << " " << b;
        EXPECT_EQ(scan.has_wildcard, b == '+' || b == '#') << n << " @" << at << " " << b;
      }
    }
  }
}
