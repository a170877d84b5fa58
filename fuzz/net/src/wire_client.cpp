#include "wire_client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

namespace mqttspec::netfuzz {

using namespace codec;

void reply_checker::feed(bytes_view data, std::vector<owned_packet>& out) {
  if (problem_) return;
  framer_.feed(data);
  for (;;) {
    auto f = framer_.next();
    if (!f) {
      if (f.error().code != errc::need_more)
        problem_ = violation{f.error().statement, "broker bytes do not frame: " + f.error().message(), to_hex(data)};
      return;
    }
    auto storage = std::make_shared<const bytes>(f->bytes);
    auto d = decode(bytes_view(*storage), version_);
    if (!d && first_ && either_) d = decode(bytes_view(*storage), is_v5(version_) ? protocol_version::v3_1_1 : protocol_version::v5);
    if (!d) {
      problem_ = violation{d.error().statement, "invalid " + std::string(to_string(version_)) + " packet from the broker: " +
                                                    d.error().message(), to_hex(*storage)};
      return;
    }
    const auto t = type_of(d.value());
    if (t == packet_type::connect || t == packet_type::subscribe || t == packet_type::unsubscribe ||
        t == packet_type::pingreq) {
      problem_ = violation{"", "the broker sent a client-to-server packet " + to_string(d.value()), to_hex(*storage)};
      return;
    }
    if (first_ && t != packet_type::connack && t != packet_type::disconnect) {
      // v5:MQTT-3.2.0-1 / v3.1.1:MQTT-3.2.0-1: the first packet from the Server is CONNACK.
      problem_ = violation{is_v5(version_) ? "v5:MQTT-3.2.0-1" : "v3.1.1:MQTT-3.2.0-1",
                           "first packet from the broker is " + to_string(d.value()) + ", not CONNACK", to_hex(*storage)};
      return;
    }
    first_ = false;
    out.push_back(owned_packet{storage, std::move(d.value())});
  }
}

bool wire_client::connect(const asio::ip::tcp::resolver::results_type& endpoints) {
  asio::error_code ec;
  asio::connect(sock_, endpoints, ec);
  if (ec) return false;
  sock_.set_option(asio::ip::tcp::no_delay(true), ec);
  return true;
}

bool wire_client::send(bytes_view data) {
  asio::error_code ec;
  asio::write(sock_, asio::buffer(data.data(), data.size()), ec);
  return !ec;
}

wire_client::outcome wire_client::read_until(packet_type want, clock::time_point deadline) {
  for (;;) {
    // Packets already decoded count first.
    for (const auto& p : packets_)
      if (type_of(p.value) == want) return outcome::matched;
    if (checker_.problem()) return outcome::closed;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return outcome::timeout;
    // Acknowledge at once: brokers without TCP_NODELAY (mosquitto's default) hold a second small
    // reply until the first is acknowledged, and delayed ACKs would cost 40 ms per case.
    int one = 1;
    ::setsockopt(sock_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    pollfd pfd{sock_.native_handle(), POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(left));
    if (r == 0) return outcome::timeout;
    if (r < 0) return outcome::closed;
    asio::error_code ec;
    const std::size_t n = sock_.read_some(asio::buffer(buf_), ec);
    if (ec || n == 0) return outcome::closed;
    const std::size_t before = packets_.size();
    ::setsockopt(sock_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    checker_.feed(bytes_view(buf_.data(), n), packets_);
    for (std::size_t i = before; i < packets_.size(); ++i)
      if (type_of(packets_[i].value) == want) return outcome::matched;
  }
}

void wire_client::close() {
  asio::error_code ec;
  sock_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  sock_.close(ec);
}

}  // namespace mqttspec::netfuzz
