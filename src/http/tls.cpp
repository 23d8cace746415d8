#include "http/tls.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace statgov::http {

namespace ssl = boost::asio::ssl;

namespace {

std::string ssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// Identifies one version of a file: a rename gives a new inode, an edit a new size or mtime.
std::string file_stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
  if (!bn) return "";
  char* hex = BN_bn2hex(bn);
  std::string s = hex ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return s;
}

// Mozilla's "intermediate" TLS 1.2 list: ECDHE key exchange, AEAD ciphers only. TLS 1.3 keeps
// OpenSSL's default suites (all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

TlsContext::TlsContext(TlsOptions options) : options_(std::move(options)), ctx_(ssl::context::tls_server) {}

TlsContext::~TlsContext() {
  if (store_) X509_STORE_free(store_);
}

std::variant<std::unique_ptr<TlsContext>, std::string> TlsContext::create(const TlsOptions& options) {
  std::unique_ptr<TlsContext> t(new TlsContext(options));
  SSL_CTX* ctx = t->ctx_.native_handle();
  ERR_clear_error();
  if (options.cert_file.empty() || options.key_file.empty()) return std::string("TLS needs a certificate and a key file");
  if (!options.crl_file.empty() && options.client_ca_file.empty()) {
    return std::string("a CRL (--crl) needs the client CA (--client-ca)");
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_TICKET);
  // NOTE: no session resumption. A resumed session skips certificate verification, so a
  // certificate revoked since the first handshake would come back as verified. A full handshake
  // per connection is cheap next to a browser's keep-alive connection.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return "cipher list: " + ssl_errors();
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
    return "cannot use the certificate " + options.cert_file + ": " + ssl_errors();
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return "cannot use the key " + options.key_file + ": " + ssl_errors();
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return "the key " + options.key_file + " does not match the certificate " + options.cert_file;
  }
  if (!options.client_ca_file.empty()) {
    // Browsers offer only certificates whose issuer is in this list.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (!names) return "cannot read the client CA " + options.client_ca_file + ": " + ssl_errors();
    SSL_CTX_set_client_CA_list(ctx, names);
    static const unsigned char sid_ctx[] = "statgov";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    X509_STORE* store = nullptr;
    std::set<std::string> revoked;
    if (auto err = t->load(store, revoked)) return *err;
    t->store_ = store;
    t->revoked_ = std::move(revoked);
    t->crl_stamp_ = options.crl_file.empty() ? "" : file_stamp(options.crl_file);
    t->last_check_ = std::chrono::steady_clock::now();
  }
  return t;
}

std::optional<std::string> TlsContext::load(X509_STORE*& store, std::set<std::string>& revoked) {
  ERR_clear_error();
  X509_STORE* s = X509_STORE_new();
  if (!s) return "out of memory";
  if (X509_STORE_load_file(s, options_.client_ca_file.c_str()) != 1) {
    X509_STORE_free(s);
    return "cannot read the client CA " + options_.client_ca_file + ": " + ssl_errors();
  }
  if (!options_.crl_file.empty()) {
    std::ifstream in(options_.crl_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    std::string pem = text.str();
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509_CRL* crl = bio ? PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (!in || !crl) {
      X509_STORE_free(s);
      return "cannot read the CRL " + options_.crl_file + ": " + ssl_errors();
    }
    if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl); next && X509_cmp_current_time(next) < 0) {
      spdlog::warn("the CRL {} is past its next-update time; it is still used (renew it: statgov ca crl)",
                   options_.crl_file);
    }
    STACK_OF(X509_REVOKED)* list = X509_CRL_get_REVOKED(crl);
    for (int i = 0; i < sk_X509_REVOKED_num(list); ++i) {
      revoked.insert(serial_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(list, i))));
    }
    int added = X509_STORE_add_crl(s, crl);
    X509_CRL_free(crl);
    if (added != 1) {
      X509_STORE_free(s);
      return "cannot use the CRL " + options_.crl_file + ": " + ssl_errors();
    }
    X509_STORE_set_flags(s, X509_V_FLAG_CRL_CHECK);
  }
  store = s;
  return std::nullopt;
}

void TlsContext::maybe_reload() {
  if (options_.crl_file.empty()) return;
  auto now = std::chrono::steady_clock::now();
  // Callers hold mu_.
  if (now - last_check_ < std::chrono::seconds(1)) return;
  last_check_ = now;
  std::string stamp = file_stamp(options_.crl_file);
  if (stamp == crl_stamp_) return;
  X509_STORE* store = nullptr;
  std::set<std::string> revoked;
  if (auto err = load(store, revoked)) {
    // Keep the last good list: a broken file must not let revoked certificates back in.
    spdlog::error("CRL not reloaded, keeping the previous one: {}", *err);
    crl_stamp_ = stamp;
    return;
  }
  X509_STORE_free(store_);
  store_ = store;
  revoked_ = std::move(revoked);
  crl_stamp_ = stamp;
  spdlog::info("CRL reloaded from {}: {} revoked certificates", options_.crl_file, revoked_.size());
}

void TlsContext::prepare(SSL* ssl) {
  if (!wants_client_cert()) return;
  std::lock_guard lock(mu_);
  maybe_reload();
  // Takes its own reference: the store lives as long as this connection needs it.
  SSL_set1_verify_cert_store(ssl, store_);
  X509_VERIFY_PARAM_set_flags(SSL_get0_param(ssl), options_.crl_file.empty() ? 0 : X509_V_FLAG_CRL_CHECK);
}

bool TlsContext::is_revoked(const std::string& serial) {
  std::lock_guard lock(mu_);
  maybe_reload();
  return revoked_.count(serial) > 0;
}

bool note_verification(bool preverified, X509_STORE_CTX* ctx, PeerVerify& verify) {
  if (preverified) return true;
  int err = X509_STORE_CTX_get_error(ctx);
  // The CRL file is read from local disk and re-read when it changes, so it is as fresh as the
  // CA folder; its next-update time is advisory here (a warning at load).
  if (err == X509_V_ERR_CRL_HAS_EXPIRED) {
    X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return true;
  }
  if (err == X509_V_ERR_CERT_REVOKED) verify.revoked = true;
  else if (verify.error == 0) verify.error = err;
  // Go on with the handshake: the application answers 401 CERT_REVOKED / CERT_INVALID where a
  // certificate is needed, and enterprise users with a stray certificate can still use passwords.
  return true;
}

void read_peer_certificate(SSL* ssl, const PeerVerify& verify, ClientCert& status, std::string& cn,
                           std::string& serial) {
  status = ClientCert::none;
  cn.clear();
  serial.clear();
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert) return;
  serial = serial_hex(X509_get0_serialNumber(cert));
  X509_NAME* subject = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
    if (n >= 0) cn.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
  }
  // A second CN would make "the" name ambiguous: not an identity.
  bool one_cn = idx >= 0 && X509_NAME_get_index_by_NID(subject, NID_commonName, idx) < 0;
  if (verify.revoked) status = ClientCert::revoked;
  else if (verify.error != 0 || SSL_get_verify_result(ssl) != X509_V_OK || !one_cn) status = ClientCert::untrusted;
  else status = ClientCert::verified;
  ERR_clear_error();
}

}  // namespace statgov::http
