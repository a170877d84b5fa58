#include "mqttspec/transport/stream.hpp"

#include <asio/ssl/host_name_verification.hpp>

namespace mqttspec::transport {

void stream::expect_server(const std::string& host, bool verify) {
  if (!tls_) return;
  // SNI carries host names only, never literal addresses (RFC 6066 section 3).
  std::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
  if (verify) tls_->set_verify_callback(asio::ssl::host_name_verification(host));
}

}  // namespace mqttspec::transport
