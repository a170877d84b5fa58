// frame.hpp: finding frames in a byte stream (§2.1, §1.5.5), the Maximum Packet Size check from the
// fixed header alone, and the incremental framer fed in arbitrary chunks.
#include "fixtures.hpp"

#include <gtest/gtest.h>

using namespace mqttspec::codec;
namespace t = mqttspec::codec::test;
using t::hexdump;
using t::unhex;

namespace {

class frame_fixture : public testing::TestWithParam<t::fixture> {};

std::string fixture_name(const testing::TestParamInfo<t::fixture>& i) { return i.param.name; }

std::string describe(const frame_result& r) {
  if (r) return "frame of " + std::to_string(r->bytes.size()) + " bytes";
  return r.error().message();
}

}  // namespace

// ------------------------------------------------------------------------------ parse_frame

TEST_P(frame_fixture, parse_frame_needs_more_on_every_prefix) {
  const auto bytes = unhex(GetParam().hex);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const auto r = parse_frame(bytes_view(bytes).substr(0, n));
    ASSERT_FALSE(r) << "prefix of " << n << " bytes: " << describe(r);
    EXPECT_EQ(r.error().code, errc::need_more) << "prefix of " << n << " bytes: " << r.error().message();
  }
}

TEST_P(frame_fixture, parse_frame_finds_the_whole_frame_and_nothing_more) {
  const auto bytes = unhex(GetParam().hex);
  const auto stream = bytes + unhex("c0 00 ff");  // whatever follows is not part of it
  const auto r = parse_frame(stream);
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(r->first_byte, static_cast<std::uint8_t>(bytes[0]));
  EXPECT_EQ(r->type_bits(), static_cast<std::uint8_t>(type_of(GetParam().expected)));
  EXPECT_EQ(r->flags(), static_cast<std::uint8_t>(bytes[0]) & 0x0F);
  EXPECT_EQ(hexdump(r->bytes), hexdump(bytes));
  EXPECT_EQ(r->bytes.data(), stream.data()) << "a view into the input, not a copy";
  EXPECT_TRUE(r->minimal_length);
  const std::size_t body_size = bytes.size() - r->header_size;
  EXPECT_EQ(r->header_size, body_size < 128 ? 2u : 3u);
  EXPECT_EQ(hexdump(r->body()), hexdump(bytes_view(bytes).substr(r->header_size)));
}

INSTANTIATE_TEST_SUITE_P(frame, frame_fixture, testing::ValuesIn(t::fixtures()), fixture_name);

TEST(frame, header_size_grows_with_the_length) {
  // §1.5.5 boundaries; bodies are zeros, the framer does not look inside.
  for (std::uint32_t n : {0u, 127u, 128u, 16'383u, 16'384u, 2'097'151u, 2'097'152u}) {
    const bytes frame = "\x30" + t::vbi(n) + bytes(n, '\0');
    const auto r = parse_frame(frame);
    ASSERT_TRUE(r) << n << ": " << describe(r);
    EXPECT_EQ(r->header_size, 1 + t::vbi(n).size()) << n;
    EXPECT_EQ(r->body().size(), n);
    EXPECT_EQ(r->bytes.size(), frame.size());
  }
}

TEST(frame, fifth_length_byte_is_refused) {
  // Four bytes with the continuation bit set already prove a fifth byte is coming.
  for (std::string_view hex : {"30 ff ff ff ff 7f", "30 80 80 80 80 01", "30 ff ff ff ff", "c0 80 80 80 80 00"}) {
    const auto r = parse_frame(unhex(hex));
    ASSERT_FALSE(r) << hex;
    EXPECT_EQ(r.error().code, errc::remaining_length_too_long) << hex << ": " << r.error().message();
    EXPECT_EQ(r.error().offset, 4u) << hex << ": the fourth length byte asks for a fifth";
    EXPECT_EQ(r.error().reason(), reason_code::malformed_packet);
  }
}

TEST(frame, largest_length_needs_more) {
  // 268,435,455 is the largest legal Remaining Length: with no body yet it is incomplete, not wrong.
  const auto r = parse_frame(unhex("30 ff ff ff 7f"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::need_more);
}

TEST(frame, non_minimal_length_is_flagged_not_refused) {
  // 3.1.1 accepts it; the decoder refuses it for 5.0 (MQTT-1.5.5-1). The framer only says so.
  const struct {
    std::string_view hex;
    std::size_t header_size;
  } rows[] = {{"c0 80 00", 3}, {"c0 80 80 80 00", 5}, {"30 83 00 00 01 74", 3}, {"30 80 01", 0}};
  for (const auto& row : rows) {
    const auto r = parse_frame(unhex(row.hex));
    if (row.header_size == 0) {  // 80 01 is minimal for 128: it needs more
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, errc::need_more);
      continue;
    }
    ASSERT_TRUE(r) << row.hex << ": " << describe(r);
    EXPECT_FALSE(r->minimal_length) << row.hex;
    EXPECT_EQ(r->header_size, row.header_size) << row.hex;
  }
  const auto minimal = parse_frame(unhex("c0 00"));
  ASSERT_TRUE(minimal);
  EXPECT_TRUE(minimal->minimal_length);
}

TEST(frame, maximum_packet_size_counts_the_whole_packet) {
  // Maximum Packet Size is the total size, fixed header included (§3.1.2.11.4).
  const auto frame = unhex("30 08 00 03 61 2f 62 00 68 69");  // 10 bytes
  EXPECT_TRUE(parse_frame(frame, 10));
  const auto r = parse_frame(frame, 9);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::packet_too_large);
  EXPECT_EQ(r.error().reason(), reason_code::packet_too_large);
}

TEST(frame, oversized_frame_is_refused_from_the_header_alone) {
  // 256 MB announced against a 1 KB limit: refused as soon as the length is known, body unseen.
  const auto header = unhex("30 ff ff ff 7f");
  const auto r = parse_frame(header, 1024);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::packet_too_large) << r.error().message();

  framer f(1024);
  f.feed(header);
  const auto n = f.next();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, errc::packet_too_large) << n.error().message();
  EXPECT_LE(f.buffered(), header.size()) << "nothing beyond the header is held";
}

TEST(frame, oversized_frame_with_some_body_already_there) {
  framer f(100);
  f.feed(unhex("30 c8 01"));  // 200 bytes announced
  f.feed(bytes(50, 'x'));
  const auto n = f.next();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, errc::packet_too_large);
  EXPECT_LE(f.buffered(), 53u);
}

TEST(frame, framer_max_size_can_change) {
  framer f;
  EXPECT_EQ(f.max_size(), max_packet_size);
  EXPECT_EQ(max_packet_size, 268'435'460u);
  f.set_max_size(4);
  EXPECT_EQ(f.max_size(), 4u);
  f.feed(unhex("30 03 00 01 74"));
  const auto n = f.next();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, errc::packet_too_large);
}

TEST(frame, framer_buffers_until_complete) {
  framer f;
  EXPECT_EQ(f.buffered(), 0u);
  auto r = f.next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::need_more);
  f.feed(unhex("32 0a 00 03"));
  EXPECT_EQ(f.buffered(), 4u);
  r = f.next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::need_more);
  f.feed(unhex("61 2f 62 00 07 68 69 21 c0"));
  r = f.next();
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(hexdump(r->bytes), "32 0a 00 03 61 2f 62 00 07 68 69 21");
  EXPECT_EQ(f.buffered(), 1u) << "the next frame's first byte stays";
  r = f.next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::need_more);
  f.feed(unhex("00"));
  r = f.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(hexdump(r->bytes), "c0 00");
  EXPECT_EQ(f.buffered(), 0u);
}

// ------------------------------------------------------------------------- split delivery

namespace {

// Decodes one frame and compares with the fixture, while the frame's bytes are still valid.
void expect_fixture(const frame_result& r, const t::fixture& fx, const std::string& how) {
  ASSERT_TRUE(r) << how << ": " << describe(r);
  EXPECT_EQ(hexdump(r->bytes), hexdump(unhex(fx.hex))) << how;
  const auto p = decode(*r, fx.version);
  ASSERT_TRUE(p) << how << ": " << p.error().message();
  EXPECT_EQ(*p, fx.expected) << how;
}

}  // namespace

TEST_P(frame_fixture, framer_split_at_every_offset) {
  const auto& fx = GetParam();
  const auto bytes = unhex(fx.hex);
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    const std::string how = "cut at " + std::to_string(cut);
    framer f;
    f.feed(bytes_view(bytes).substr(0, cut));
    if (cut < bytes.size()) {
      const auto early = f.next();
      ASSERT_FALSE(early) << how;
      ASSERT_EQ(early.error().code, errc::need_more) << how << ": " << early.error().message();
    }
    f.feed(bytes_view(bytes).substr(cut));
    expect_fixture(f.next(), fx, how);
    const auto after = f.next();
    ASSERT_FALSE(after) << how;
    EXPECT_EQ(after.error().code, errc::need_more) << how;
    EXPECT_EQ(f.buffered(), 0u) << how;
  }
}

TEST_P(frame_fixture, framer_one_byte_at_a_time) {
  const auto& fx = GetParam();
  const auto bytes = unhex(fx.hex);
  framer f;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    f.feed(bytes_view(bytes).substr(i, 1));
    auto r = f.next();
    if (i + 1 < bytes.size()) {
      ASSERT_FALSE(r) << "after byte " << i;
      ASSERT_EQ(r.error().code, errc::need_more) << "after byte " << i << ": " << r.error().message();
    } else {
      expect_fixture(r, fx, "last byte");
    }
  }
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(frame, concatenated_fixtures_come_out_in_order) {
  // All fixtures back to back, fed in chunks of several sizes that straddle frame boundaries.
  bytes stream;
  for (const auto& fx : t::fixtures()) stream += unhex(fx.hex);
  for (std::size_t chunk : {1u, 3u, 7u, 64u, 1000u, 100000u}) {
    framer f;
    std::size_t next_fixture = 0;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      f.feed(bytes_view(stream).substr(at, chunk));
      for (;;) {
        auto r = f.next();
        if (!r) {
          ASSERT_EQ(r.error().code, errc::need_more) << r.error().message();
          break;
        }
        ASSERT_LT(next_fixture, t::fixtures().size());
        const auto& fx = t::fixtures()[next_fixture++];
        expect_fixture(r, fx, fx.name + " in chunks of " + std::to_string(chunk));
      }
    }
    EXPECT_EQ(next_fixture, t::fixtures().size()) << "chunks of " << chunk;
    EXPECT_EQ(f.buffered(), 0u);
  }
}

TEST(frame, parse_frame_walks_a_buffer) {
  bytes stream;
  for (const auto& fx : t::fixtures()) stream += unhex(fx.hex);
  bytes_view rest = stream;
  for (const auto& fx : t::fixtures()) {
    const auto r = parse_frame(rest);
    expect_fixture(r, fx, fx.name);
    if (!r) return;
    rest.remove_prefix(r->bytes.size());
  }
  EXPECT_TRUE(rest.empty());
}
