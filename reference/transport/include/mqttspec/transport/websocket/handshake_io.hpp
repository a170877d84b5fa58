#pragma once
// The opening handshake carried out over a transport::stream (plain or TLS): thin read/write loops
// around the sans-I/O functions of handshake.hpp. Neither function has a deadline of its own: the
// caller bounds the handshake (the broker's CONNECT timeout, the runner's step timeout) and closes
// the stream, which completes the pending operation with an error.
#include "mqttspec/transport/stream.hpp"
#include "mqttspec/transport/websocket/handshake.hpp"

#include <functional>

namespace mqttspec::transport::websocket {

struct accepted {
  upgrade_request request;
  std::string protocol;   // the subprotocol selected and returned
  codec::bytes leftover;  // bytes read past the head: the first frames
};
// Server: reads the upgrade request, answers 101 selecting "mqtt", or an HTTP error naming what
// was wrong (then the handler gets that error; the caller closes the stream).
void async_accept(stream& s, std::function<void(handshake_result<accepted>)> handler);

struct connected {
  upgrade_response response;
  codec::bytes leftover;  // bytes read past the head: the server's first frames
};
// Client: sends the upgrade request and checks the answer.
void async_connect(stream& s, client_request request, std::function<void(handshake_result<connected>)> handler);

}  // namespace mqttspec::transport::websocket
