#pragma once
// TLS contexts (asio::ssl over OpenSSL) built from the options a user gives on the command line,
// and throwaway self-signed identities for tests and the embedded broker.
#include "mqttspec/codec/result.hpp"

#include <asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace mqttspec::transport {

// Certificate and key in PEM, either inline or as file names.
struct pem_source {
  std::string file;  // read from here when set
  std::string pem;   // else this text
  bool empty() const noexcept { return file.empty() && pem.empty(); }
};

struct tls_client_options {
  pem_source ca;     // trusted CAs; empty: the system's default store
  pem_source cert;   // client certificate (mutual TLS); optional
  pem_source key;    // its private key
  bool insecure = false;  // accept any server certificate (still encrypts)
};

struct tls_server_options {
  pem_source cert;  // required
  pem_source key;   // required
  pem_source ca;    // CAs for client certificates; when set, a client must present one it signs
};

// What went wrong building a context, for the user ("cannot read --cafile x.pem: ...").
using context_or_error = codec::basic_result<std::shared_ptr<asio::ssl::context>, std::string>;

context_or_error make_client_context(const tls_client_options& o);
context_or_error make_server_context(const tls_server_options& o);

// A fresh EC key and a self-signed certificate for `common_name`, valid for a day, with the
// subject alternative names localhost and 127.0.0.1. Throws std::runtime_error if OpenSSL fails.
struct identity {
  std::string cert_pem;
  std::string key_pem;
};
identity make_self_signed(const std::string& common_name = "localhost");

}  // namespace mqttspec::transport
