#include "mqttspec/codec/frame.hpp"

#include "mqttspec/codec/wire.hpp"

namespace mqttspec::codec {

frame_result parse_frame(bytes_view data, std::size_t max_size) noexcept {
  auto fail = [](errc e, std::size_t at) { return frame_result{decode_error{e, at, {}, {}}}; };
  if (data.empty()) return fail(errc::need_more, 0);

  // Remaining Length: at most 4 bytes, 7 bits each, high bit = more follows (§2.1.4).
  std::uint32_t length = 0;
  std::size_t n = 0;
  for (;;) {
    if (1 + n >= data.size()) return fail(errc::need_more, data.size());
    const auto b = static_cast<std::uint8_t>(data[1 + n]);
    length |= static_cast<std::uint32_t>(b & 0x7Fu) << (7 * n);
    ++n;
    if ((b & 0x80u) == 0) break;
    if (n == 4) return fail(errc::remaining_length_too_long, 1 + n - 1);
  }

  // Decided from the header alone: the body is neither awaited nor buffered for a refused frame.
  const std::size_t total = 1 + n + std::size_t{length};
  if (total > max_size) return fail(errc::packet_too_large, 0);
  if (data.size() < total) return fail(errc::need_more, data.size());

  frame f;
  f.first_byte = static_cast<std::uint8_t>(data[0]);
  f.header_size = 1 + n;
  f.minimal_length = n == varint_size(length);
  f.bytes = data.substr(0, total);
  return f;
}

void framer::feed(bytes_view data) {
  if (start_ > 0) {  // drop consumed frames before growing
    buf_.erase(0, start_);
    start_ = 0;
  }
  buf_.append(data);
}

frame_result framer::next() {
  auto r = parse_frame(bytes_view(buf_).substr(start_), max_size_);
  if (r) start_ += r->bytes.size();
  return r;
}

}  // namespace mqttspec::codec
