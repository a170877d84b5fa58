// Frame encoder and incremental decoder against hand-written bytes: the examples of RFC 6455
// section 5.7, every rule of section 5.2 that a receiver checks, and every input split at every
// offset (the decoder must give the same payload however the bytes arrive).
#include "mqttspec/codec/hex.hpp"
#include "mqttspec/transport/websocket/frame.hpp"

#include <gtest/gtest.h>

namespace mqttspec::transport::websocket {
namespace {

codec::bytes hex(std::string_view h) { return *codec::from_hex(h); }

struct decoded {
  std::vector<frame_part> parts;
  std::error_code error;  // the first error other than need_more
};

// Feeds `input` in pieces cut at `cuts` (ascending offsets), collecting parts.
decoded decode_pieces(role receiver, const codec::bytes& input, std::vector<std::size_t> cuts, decoder_limits limits = {}) {
  frame_decoder d(receiver, limits);
  decoded out;
  cuts.push_back(input.size());
  std::size_t from = 0;
  for (auto cut : cuts) {
    d.feed(codec::bytes_view(input).substr(from, cut - from));
    from = cut;
    for (;;) {
      auto p = d.next();
      if (!p) {
        if (p.error() != errc::need_more) out.error = p.error();
        break;
      }
      out.parts.push_back(std::move(*p));
    }
    if (out.error) break;
  }
  return out;
}

decoded decode_all(role receiver, const codec::bytes& input, decoder_limits limits = {}) {
  return decode_pieces(receiver, input, {}, limits);
}

// Whole messages: the payloads of parts joined until message_end, with the message's opcode.
std::vector<std::pair<opcode, codec::bytes>> messages(const std::vector<frame_part>& parts) {
  std::vector<std::pair<opcode, codec::bytes>> out;
  codec::bytes current;
  for (const auto& p : parts) {
    if (is_control(p.op)) {  // may come between the frames of a message: kept apart
      out.emplace_back(p.op, p.payload);
      continue;
    }
    current += p.payload;
    if (p.message_end()) {
      out.emplace_back(p.op, std::move(current));
      current.clear();
    }
  }
  return out;
}

// RFC 6455 5.7: a single-frame unmasked text message "Hello".
TEST(websocket_frame, rfc_unmasked_text_hello) {
  const auto in = hex("81 05 48 65 6c 6c 6f");
  EXPECT_EQ(encode_frame(opcode::text, "Hello", true, std::nullopt), in);
  auto r = decode_all(role::client, in);
  ASSERT_FALSE(r.error) << r.error.message();
  ASSERT_EQ(r.parts.size(), 1u);
  EXPECT_EQ(r.parts[0].op, opcode::text);
  EXPECT_TRUE(r.parts[0].message_end());
  EXPECT_EQ(r.parts[0].payload, "Hello");
}

// RFC 6455 5.7: a single-frame masked text message "Hello", mask 37 fa 21 3d.
TEST(websocket_frame, rfc_masked_text_hello) {
  const auto in = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
  EXPECT_EQ(encode_frame(opcode::text, "Hello", true, 0x37fa213du), in);
  auto r = decode_all(role::server, in);
  ASSERT_FALSE(r.error) << r.error.message();
  ASSERT_EQ(messages(r.parts).size(), 1u);
  EXPECT_EQ(messages(r.parts)[0].second, "Hello");
}

// RFC 6455 5.7: a fragmented unmasked text message, "Hel" then "lo".
TEST(websocket_frame, rfc_fragmented_text) {
  const auto in = hex("01 03 48 65 6c 80 02 6c 6f");
  auto r = decode_all(role::client, in);
  ASSERT_FALSE(r.error) << r.error.message();
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_FALSE(r.parts[0].message_end());
  EXPECT_EQ(r.parts[1].op, opcode::text);  // a continuation reports its message's opcode
  EXPECT_TRUE(r.parts[1].message_end());
  ASSERT_EQ(messages(r.parts).size(), 1u);
  EXPECT_EQ(messages(r.parts)[0].second, "Hello");
}

// RFC 6455 5.7: an unmasked ping and a masked pong, both "Hello".
TEST(websocket_frame, rfc_ping_and_pong) {
  EXPECT_EQ(encode_frame(opcode::ping, "Hello", true, std::nullopt), hex("89 05 48 65 6c 6c 6f"));
  EXPECT_EQ(encode_frame(opcode::pong, "Hello", true, 0x37fa213du), hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"));
  auto r = decode_all(role::server, hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"));
  ASSERT_EQ(r.parts.size(), 1u);
  EXPECT_EQ(r.parts[0].op, opcode::pong);
  EXPECT_EQ(r.parts[0].payload, "Hello");
}

// RFC 6455 5.7: 256 bytes (16-bit length) and 64 KiB (64-bit length) in one unmasked binary frame.
TEST(websocket_frame, rfc_extended_lengths) {
  const codec::bytes p256(256, 'x'), p64k(65536, 'y');
  auto f256 = encode_frame(opcode::binary, p256, true, std::nullopt);
  EXPECT_EQ(f256.substr(0, 4), hex("82 7e 01 00"));
  auto f64k = encode_frame(opcode::binary, p64k, true, std::nullopt);
  EXPECT_EQ(f64k.substr(0, 10), hex("82 7f 00 00 00 00 00 01 00 00"));
  auto r = decode_all(role::client, f256 + f64k);
  ASSERT_FALSE(r.error) << r.error.message();
  auto m = messages(r.parts);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].second, p256);
  EXPECT_EQ(m[1].second, p64k);
  // The boundaries of the 7-bit and 16-bit forms.
  EXPECT_EQ(encode_frame(opcode::binary, codec::bytes(125, 'a'), true, std::nullopt)[1], '\x7d');
  EXPECT_EQ(encode_frame(opcode::binary, codec::bytes(126, 'a'), true, std::nullopt).substr(1, 3), hex("7e 00 7e"));
  EXPECT_EQ(encode_frame(opcode::binary, codec::bytes(65535, 'a'), true, std::nullopt).substr(1, 3), hex("7e ff ff"));
}

// Every input, split at every offset (and byte by byte), decodes to the same messages.
TEST(websocket_frame, every_split_gives_the_same_messages) {
  const codec::bytes p300(300, 'z');
  const std::vector<std::pair<role, codec::bytes>> inputs{
      {role::server, hex("81 85 37 fa 21 3d 7f 9f 4d 51 58")},
      {role::client, hex("01 03 48 65 6c 89 00 80 02 6c 6f")},  // a ping between two fragments
      {role::server, encode_frame(opcode::binary, p300, true, 0x01020304u) + encode_frame(opcode::binary, "", true, 7u)},
      {role::client, encode_frame(opcode::binary, "ab", false, std::nullopt) + encode_frame(opcode::continuation, "", false, std::nullopt) +
                         encode_frame(opcode::close, hex("03 e8"), true, std::nullopt) +
                         encode_frame(opcode::continuation, "cd", true, std::nullopt)},
  };
  for (const auto& [receiver, in] : inputs) {
    const auto whole = decode_all(receiver, in);
    ASSERT_FALSE(whole.error) << whole.error.message();
    const auto expected = messages(whole.parts);
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
      auto r = decode_pieces(receiver, in, {cut});
      ASSERT_FALSE(r.error) << "cut " << cut;
      EXPECT_EQ(messages(r.parts), expected) << "cut " << cut;
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < in.size(); ++i) every.push_back(i);
    auto r = decode_pieces(receiver, in, every);
    EXPECT_EQ(messages(r.parts), expected) << "byte by byte";
  }
}

TEST(websocket_frame, interleaved_control_frame_keeps_the_message) {
  auto r = decode_all(role::client, hex("02 01 61 89 01 70 80 01 62"));
  ASSERT_FALSE(r.error);
  auto m = messages(r.parts);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], std::make_pair(opcode::ping, codec::bytes("p")));
  EXPECT_EQ(m[1], std::make_pair(opcode::binary, codec::bytes("ab")));
}

// Section 5.2 rules a receiver enforces, each with its error; the decoder stays failed after one.
TEST(websocket_frame, refused_frames) {
  const struct {
    role receiver;
    const char* hex;
    errc want;
  } cases[] = {
      {role::client, "c2 00", errc::reserved_bits},                   // RSV1
      {role::client, "a2 00", errc::reserved_bits},                   // RSV2
      {role::client, "92 00", errc::reserved_bits},                   // RSV3
      {role::client, "83 00", errc::reserved_opcode},                 // 0x3: reserved non-control
      {role::client, "87 00", errc::reserved_opcode},
      {role::client, "8b 00", errc::reserved_opcode},                 // 0xB: reserved control
      {role::client, "8f 00", errc::reserved_opcode},
      {role::client, "09 00", errc::fragmented_control},              // ping without FIN
      {role::client, "08 00", errc::fragmented_control},              // close without FIN
      {role::client, "89 7e 00 7e", errc::control_too_long},          // ping of 126 bytes
      {role::server, "82 00", errc::unmasked_frame},                  // a client must mask
      {role::client, "82 80 00 00 00 00", errc::masked_frame},        // a server must not
      {role::client, "80 00", errc::unexpected_continuation},
      {role::client, "02 00 82 00", errc::expected_continuation},     // new message inside one
      {role::client, "02 00 81 00", errc::expected_continuation},
      {role::client, "82 7e 00 7d", errc::non_minimal_length},        // 125 in 16 bits
      {role::client, "82 7f 00 00 00 00 00 00 ff ff", errc::non_minimal_length},
      {role::client, "82 7f 80 00 00 00 00 00 00 00", errc::length_msb_set},
  };
  for (const auto& c : cases) {
    frame_decoder d(c.receiver);
    d.feed(hex(c.hex));
    std::error_code got;
    for (int i = 0; i < 4 && !got; ++i) {
      auto p = d.next();
      if (!p && p.error() != errc::need_more) got = p.error();
    }
    EXPECT_EQ(got, make_error_code(c.want)) << c.hex << ": " << got.message();
    d.feed(hex("82 00"));
    auto again = d.next();
    ASSERT_FALSE(again) << c.hex;
    EXPECT_EQ(again.error(), make_error_code(c.want)) << "stays failed";
  }
}

// Oversized frames are refused from the header alone, before any payload is buffered.
TEST(websocket_frame, size_limit_checked_from_the_header) {
  auto r = decode_all(role::client, hex("82 7e 01 00"), decoder_limits{255});
  EXPECT_EQ(r.error, make_error_code(errc::frame_too_large));
  r = decode_all(role::client, hex("82 7f 00 00 00 01 00 00 00 00"));  // 4 GiB with the default limit
  EXPECT_EQ(r.error, make_error_code(errc::frame_too_large));
  r = decode_all(role::client, encode_frame(opcode::binary, codec::bytes(255, 'a'), true, std::nullopt), decoder_limits{255});
  EXPECT_FALSE(r.error);
}

// A large data frame streams out as it arrives, unmasked across part boundaries.
TEST(websocket_frame, data_frames_stream_in_parts) {
  const codec::bytes payload(1000, 'q');
  const auto in = encode_frame(opcode::binary, payload, true, 0xdeadbeefu);
  frame_decoder d(role::server);
  d.feed(codec::bytes_view(in).substr(0, 100));
  auto first = d.next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->first);
  EXPECT_FALSE(first->last);
  EXPECT_EQ(first->payload, codec::bytes(100 - 8, 'q'));
  EXPECT_EQ(d.next().error(), make_error_code(errc::need_more));
  d.feed(codec::bytes_view(in).substr(100));
  auto second = d.next();
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->first);
  EXPECT_TRUE(second->message_end());
  EXPECT_EQ(first->payload + second->payload, payload);
}

// Hostile input: pseudo-random bytes never crash the decoder, and each call ends in a part, an
// error or need_more.
TEST(websocket_frame, random_input_never_crashes) {
  std::uint32_t state = 12345;
  auto rnd = [&] { return state = state * 1664525u + 1013904223u; };
  for (int round = 0; round < 2000; ++round) {
    codec::bytes in(rnd() % 64, '\0');
    for (auto& c : in) c = static_cast<char>(rnd() >> 24);
    for (auto receiver : {role::client, role::server}) {
      frame_decoder d(receiver, decoder_limits{1024});
      d.feed(in);
      for (int i = 0; i < 100; ++i) {
        auto p = d.next();
        if (!p) break;
      }
    }
  }
}

}  // namespace
}  // namespace mqttspec::transport::websocket
