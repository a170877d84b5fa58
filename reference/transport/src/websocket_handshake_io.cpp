#include "mqttspec/transport/websocket/handshake_io.hpp"

#include <array>
#include <memory>

namespace mqttspec::transport::websocket {
namespace {

// Reads until a whole HTTP head is buffered, then calls done(head length) or fails.
struct head_reader : std::enable_shared_from_this<head_reader> {
  explicit head_reader(stream& st) : s(st) {}
  stream& s;
  codec::bytes buffer;
  std::array<char, 2048> chunk{};
  // Gets the reader itself, so that it can keep it (and the buffer) alive past the call.
  std::function<void(head_reader&, handshake_result<std::size_t>)> done;

  void read() {
    s.async_read_some(asio::buffer(chunk), [self = shared_from_this()](std::error_code ec, std::size_t n) {
      if (ec) return self->done(*self, handshake_error{ec, "reading the HTTP head"});
      self->buffer.append(self->chunk.data(), n);
      auto end = find_head_end(self->buffer);
      if (end) return self->done(*self, *end);
      if (end.error() != errc::need_more) return self->done(*self, handshake_error{end.error(), {}});
      self->read();
    });
  }
};

}  // namespace

void async_accept(stream& s, std::function<void(handshake_result<accepted>)> handler) {
  auto reader = std::make_shared<head_reader>(s);
  reader->done = [&s, handler = std::move(handler)](head_reader& r, handshake_result<std::size_t> end) mutable {
    handshake_result<upgrade_request> request =
        end ? parse_upgrade_request(std::string_view(r.buffer).substr(0, *end)) : handshake_result<upgrade_request>(end.error());
    if (!end && end.error().code.category() != category()) return handler(end.error());  // I/O error: nothing to answer
    std::optional<std::string> protocol;
    if (request) {
      protocol = select_subprotocol(request->protocols);
      if (!protocol) request = handshake_error{make_error_code(errc::no_mqtt_subprotocol), {}};
    }
    auto answer = std::make_shared<codec::bytes>(request ? make_upgrade_response(*request, *protocol) : make_rejection(request.error()));
    // The reader (and its buffer) lives until the answer is written.
    s.async_write(asio::buffer(*answer), [self = r.shared_from_this(), answer, end, request = std::move(request), protocol,
                                          handler = std::move(handler)](std::error_code ec, std::size_t) mutable {
      if (!request) return handler(request.error());
      if (ec) return handler(handshake_error{ec, "writing the 101 response"});
      accepted a{std::move(*request), *protocol, self->buffer.substr(*end)};
      handler(std::move(a));
    });
  };
  reader->read();
}

void async_connect(stream& s, client_request request, std::function<void(handshake_result<connected>)> handler) {
  auto reader = std::make_shared<head_reader>(s);
  auto key = request.key;
  reader->done = [key, handler](head_reader& r, handshake_result<std::size_t> end) {
    if (!end) return handler(end.error());
    auto response = check_upgrade_response(std::string_view(r.buffer).substr(0, *end), key);
    if (!response) return handler(response.error());
    handler(connected{std::move(*response), r.buffer.substr(*end)});
  };
  auto bytes = std::make_shared<codec::bytes>(make_upgrade_request(request));
  s.async_write(asio::buffer(*bytes), [reader, bytes, handler](std::error_code ec, std::size_t) {
    if (ec) return handler(handshake_error{ec, "writing the upgrade request"});
    reader->read();
  });
}

}  // namespace mqttspec::transport::websocket
