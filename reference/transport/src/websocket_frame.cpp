#include "mqttspec/transport/websocket/frame.hpp"

namespace mqttspec::transport::websocket {
namespace {

std::uint8_t byte_at(codec::bytes_view b, std::size_t i) { return static_cast<std::uint8_t>(b[i]); }

// Byte i of a masking key, the key being sent in network order (5.3).
std::uint8_t mask_byte(std::uint32_t key, std::uint64_t i) {
  return static_cast<std::uint8_t>(key >> (24 - 8 * (i % 4)));
}

void apply_mask(char* data, std::size_t n, std::uint32_t key, std::uint64_t offset) {
  for (std::size_t i = 0; i < n; ++i)
    data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ mask_byte(key, offset + i));
}

bool known_opcode(std::uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

}  // namespace

codec::bytes encode_frame(std::uint8_t op, codec::bytes_view payload, bool fin, std::optional<std::uint32_t> mask) {
  codec::bytes out;
  out.reserve(payload.size() + 14);
  out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | (op & 0x0F)));
  const std::uint8_t mask_bit = mask ? 0x80 : 0x00;
  const std::uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    for (int shift = 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  }
  if (mask)
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(mask_byte(*mask, static_cast<std::uint64_t>(i))));
  const auto start = out.size();
  out.append(payload);
  if (mask) apply_mask(out.data() + start, payload.size(), *mask, 0);
  return out;
}

void frame_decoder::feed(codec::bytes_view data) {
  compact();
  buf_.append(data);
}

void frame_decoder::compact() {
  // Drop consumed bytes once they are the larger part, so the buffer stays proportional to what
  // is pending while a long stream goes through.
  if (pos_ > 0 && pos_ * 2 >= buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

std::optional<std::error_code> frame_decoder::read_header() {
  const codec::bytes_view b(buf_.data() + pos_, buf_.size() - pos_);
  if (b.size() < 2) return make_error_code(errc::need_more);
  const auto b0 = byte_at(b, 0), b1 = byte_at(b, 1);
  // What the first two bytes decide is checked before waiting for the rest of the header, so a
  // hostile peer is refused at once.
  if (b0 & 0x70) return make_error_code(errc::reserved_bits);
  const std::uint8_t raw_op = b0 & 0x0F;
  if (!known_opcode(raw_op)) return make_error_code(errc::reserved_opcode);
  const auto op = static_cast<opcode>(raw_op);
  const bool fin = (b0 & 0x80) != 0;
  const bool masked = (b1 & 0x80) != 0;
  const std::uint8_t len7 = b1 & 0x7F;
  if (is_control(op) && !fin) return make_error_code(errc::fragmented_control);
  if (is_control(op) && len7 > 125) return make_error_code(errc::control_too_long);
  if (receiver_ == role::server && !masked) return make_error_code(errc::unmasked_frame);
  if (receiver_ == role::client && masked) return make_error_code(errc::masked_frame);
  if (!is_control(op)) {
    if (op == opcode::continuation && !message_) return make_error_code(errc::unexpected_continuation);
    if (op != opcode::continuation && message_) return make_error_code(errc::expected_continuation);
  }

  const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  const std::size_t header = 2 + ext + (masked ? 4 : 0);
  if (b.size() < 2 + ext) return make_error_code(errc::need_more);
  std::uint64_t length = len7;
  if (ext) {
    length = 0;
    for (std::size_t i = 0; i < ext; ++i) length = (length << 8) | byte_at(b, 2 + i);
    if (ext == 8 && (length >> 63)) return make_error_code(errc::length_msb_set);
    if ((ext == 2 && length < 126) || (ext == 8 && length <= 0xFFFF)) return make_error_code(errc::non_minimal_length);
  }
  if (length > limits_.max_frame_payload) return make_error_code(errc::frame_too_large);
  if (b.size() < header) return make_error_code(errc::need_more);

  mask_.reset();
  if (masked) {
    std::uint32_t key = 0;
    for (std::size_t i = 0; i < 4; ++i) key = (key << 8) | byte_at(b, 2 + ext + i);
    mask_ = key;
  }
  fin_ = fin;
  // Data frames report the opcode of their message; continuation ends or extends it.
  if (is_control(op)) {
    op_ = op;
  } else if (op == opcode::continuation) {
    op_ = *message_;
    if (fin) message_.reset();
  } else {
    op_ = op;
    if (!fin) message_ = op;
  }
  remaining_ = length;
  offset_ = 0;
  in_frame_ = true;
  pos_ += header;
  return std::nullopt;
}

codec::basic_result<frame_part, std::error_code> frame_decoder::next() {
  if (failed_) return failed_;
  if (!in_frame_) {
    if (auto e = read_header()) {
      if (*e != errc::need_more) failed_ = *e;
      return *e;
    }
  }
  const std::uint64_t available = buf_.size() - pos_;
  std::uint64_t take = 0;
  if (is_control(op_)) {
    // Control frames come out whole: their payload (<= 125 bytes) is interpreted, not streamed.
    if (available < remaining_) return make_error_code(errc::need_more);
    take = remaining_;
  } else {
    take = std::min(available, remaining_);
    if (take == 0 && remaining_ > 0) return make_error_code(errc::need_more);
  }
  frame_part part;
  part.op = op_;
  part.frame_fin = fin_;
  part.first = offset_ == 0;
  part.payload.assign(buf_.data() + pos_, static_cast<std::size_t>(take));
  if (mask_) apply_mask(part.payload.data(), part.payload.size(), *mask_, offset_);
  pos_ += static_cast<std::size_t>(take);
  offset_ += take;
  remaining_ -= take;
  part.last = remaining_ == 0;
  if (part.last) in_frame_ = false;
  return part;
}

}  // namespace mqttspec::transport::websocket
