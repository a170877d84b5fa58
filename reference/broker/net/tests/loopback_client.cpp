#include "loopback_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mqttspec::broker::test {
namespace {

arrival only(arrival::kind k) {
  arrival a;
  a.what = k;
  return a;
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const arrival& a) {
  switch (a.what) {
    case arrival::kind::packet: return os << *a.packet << " [" << codec::to_hex(a.raw, " ") << "]";
    case arrival::kind::closed: return os << "connection closed";
    case arrival::kind::timeout: return os << "nothing (timed out)";
    case arrival::kind::garbage: return os << "undecodable bytes [" << codec::to_hex(a.raw, " ") << "]: " << a.error;
  }
  return os;
}

loopback_client::loopback_client(std::uint16_t port, codec::protocol_version v) : version_(v) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    ADD_FAILURE() << "socket: " << std::strerror(errno);
    return;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    ADD_FAILURE() << "connect to 127.0.0.1:" << port << ": " << std::strerror(errno);
    drop();
  }
}

loopback_client::~loopback_client() { drop(); }

std::uint16_t loopback_client::local_port() const {
  sockaddr_in me{};
  socklen_t size = sizeof me;
  if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&me), &size) != 0) return 0;
  return ntohs(me.sin_port);
}

void loopback_client::drop() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void loopback_client::send_bytes(codec::bytes_view data) {
  if (fd_ < 0) {
    ADD_FAILURE() << "send on a closed client";
    return;
  }
  while (!data.empty()) {
    const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      ADD_FAILURE() << "send: " << std::strerror(errno);
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void loopback_client::send(const codec::packet& p) {
  auto wire = codec::encode(p, version_);
  if (!wire) {
    ADD_FAILURE() << "cannot encode " << p << " in " << codec::to_string(version_) << ": " << wire.error().message();
    return;
  }
  send_bytes(*wire);
}

arrival loopback_client::next(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto f = framer_.next();
    if (f) {
      arrival a;
      a.raw = codec::bytes(f->bytes);
      auto& kept = storage_.emplace_back(std::make_unique<const codec::bytes>(a.raw));
      auto p = codec::decode(*kept, version_);
      if (!p) {
        a.what = arrival::kind::garbage;
        a.error = p.error().message();
        return a;
      }
      a.what = arrival::kind::packet;
      a.packet = packets_.emplace_back(std::make_unique<const codec::packet>(std::move(*p))).get();
      return a;
    }
    if (f.error().code != codec::errc::need_more) {
      arrival a;
      a.what = arrival::kind::garbage;
      a.error = f.error().message();
      return a;
    }
    if (eof_ || fd_ < 0) return only(arrival::kind::closed);

    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return only(arrival::kind::timeout);
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // timed out: the deadline check above reports it
    char buf[16 * 1024];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;  // orderly close, or reset: either way the broker is done with us
      continue;
    }
    framer_.feed(codec::bytes_view(buf, static_cast<std::size_t>(n)));
  }
}

::testing::AssertionResult loopback_client::expect_closed(milliseconds timeout) {
  const arrival a = next(timeout);
  if (a.what == arrival::kind::closed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected the broker to close the connection, observed " << a;
}

::testing::AssertionResult loopback_client::expect_nothing_pending(milliseconds timeout) {
  send(codec::pingreq{});
  const arrival a = next(timeout);
  if (a.what == arrival::kind::packet && std::holds_alternative<codec::pingresp>(*a.packet))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected PINGRESP with nothing before it, observed " << a;
}

}  // namespace mqttspec::broker::test
