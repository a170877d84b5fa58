#include "mqttspec/transport/tls.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>

namespace mqttspec::transport {
namespace {

using context_ptr = std::shared_ptr<asio::ssl::context>;

std::string describe(const char* what, const pem_source& s, const std::error_code& ec) {
  return std::string("cannot use ") + what + (s.file.empty() ? "" : " " + s.file) + ": " + ec.message();
}

// Certificate chain, then key; both or neither.
std::optional<std::string> load_identity(asio::ssl::context& ctx, const pem_source& cert, const pem_source& key,
                                         const char* cert_name, const char* key_name) {
  std::error_code ec;
  if (!cert.file.empty()) ctx.use_certificate_chain_file(cert.file, ec);
  else ctx.use_certificate_chain(asio::buffer(cert.pem), ec);
  if (ec) return describe(cert_name, cert, ec);
  if (!key.file.empty()) ctx.use_private_key_file(key.file, asio::ssl::context::pem, ec);
  else ctx.use_private_key(asio::buffer(key.pem), asio::ssl::context::pem, ec);
  if (ec) return describe(key_name, key, ec);
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    return std::string("the ") + key_name + " does not belong to the " + cert_name;
  return std::nullopt;
}

std::optional<std::string> load_authorities(asio::ssl::context& ctx, const pem_source& ca, const char* name) {
  std::error_code ec;
  if (!ca.file.empty()) ctx.load_verify_file(ca.file, ec);
  else ctx.add_certificate_authority(asio::buffer(ca.pem), ec);
  if (ec) return describe(name, ca, ec);
  return std::nullopt;
}

context_ptr make_context(asio::ssl::context::method m) {
  auto ctx = std::make_shared<asio::ssl::context>(m);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3);
  // TLS 1.0 and 1.1 are deprecated (RFC 8996); MQTT's spec recommends current TLS.
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  return ctx;
}

// OpenSSL handles with their free functions.
template <class T, void (*Free)(T*)>
struct handle {
  T* p;
  explicit handle(T* q) : p(q) {
    if (!p) throw std::runtime_error("OpenSSL: out of memory or unsupported");
  }
  ~handle() { Free(p); }
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
};

void check(int ok, const char* what) {
  if (ok != 1) throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

std::string to_pem(const std::function<int(BIO*)>& write) {
  handle<BIO, BIO_free_all> bio(BIO_new(BIO_s_mem()));
  check(write(bio.p), "PEM_write");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.p, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

context_or_error make_client_context(const tls_client_options& o) {
  auto ctx = make_context(asio::ssl::context::tls_client);
  std::error_code ec;
  if (o.ca.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) return "cannot load the system's CA certificates: " + ec.message();
  } else if (auto e = load_authorities(*ctx, o.ca, "--cafile")) {
    return *e;
  }
  if (o.cert.empty() != o.key.empty()) return std::string("--cert and --key go together");
  if (!o.cert.empty())
    if (auto e = load_identity(*ctx, o.cert, o.key, "--cert", "--key")) return *e;
  ctx->set_verify_mode(o.insecure ? asio::ssl::verify_none : asio::ssl::verify_peer);
  return ctx;
}

context_or_error make_server_context(const tls_server_options& o) {
  if (o.cert.empty() || o.key.empty()) return std::string("a TLS listener needs a certificate and its key");
  auto ctx = make_context(asio::ssl::context::tls_server);
  if (auto e = load_identity(*ctx, o.cert, o.key, "certificate", "key")) return *e;
  if (!o.ca.empty()) {
    if (auto e = load_authorities(*ctx, o.ca, "client CA file")) return *e;
    ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

identity make_self_signed(const std::string& common_name) {
  handle<EVP_PKEY, EVP_PKEY_free> key(EVP_EC_gen("P-256"));
  handle<X509, X509_free> cert(X509_new());
  check(X509_set_version(cert.p, 2), "X509_set_version");
  std::uint64_t serial = 0;
  check(RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial), "RAND_bytes");
  check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.p), serial >> 1), "serial");
  // Backdated a little so clocks that disagree by seconds still accept it.
  X509_gmtime_adj(X509_getm_notBefore(cert.p), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.p), 24 * 3600);
  check(X509_set_pubkey(cert.p, key.p), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.p);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0),
        "subject");
  check(X509_set_issuer_name(cert.p, name), "issuer");
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.p, cert.p, nullptr, nullptr, 0);
  const std::string san = "DNS:" + common_name + ",DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san.c_str()},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    handle<X509_EXTENSION, X509_EXTENSION_free> ext(X509V3_EXT_conf_nid(nullptr, &v3, nid, value));
    check(X509_add_ext(cert.p, ext.p, -1), "X509_add_ext");
  }
  if (X509_sign(cert.p, key.p, EVP_sha256()) <= 0) throw std::runtime_error("OpenSSL: X509_sign failed");
  identity id;
  id.cert_pem = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.p); });
  id.key_pem = to_pem([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key.p, nullptr, nullptr, 0, nullptr, nullptr); });
  return id;
}

}  // namespace mqttspec::transport
