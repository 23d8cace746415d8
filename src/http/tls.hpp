// TLS for the server: the OpenSSL context (TLS 1.2+, forward-secret AEAD ciphers), the client CA
// and its revocation list, re-read when the CRL file changes. Internal to http/.
//
// Thread safety: one TlsContext per Server, used by every io thread. The asio ssl::context is
// configured in create() and only read afterwards. The verification store and the revoked
// serials are replaced together under mu_ when the CRL file changes; a handshake takes its own
// reference to the store (SSL_set1_verify_cert_store), so a reload never frees a store in use.
#pragma once

// NOTE: <utility> before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include "http/http.hpp"

#include <boost/asio/ssl.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <variant>

namespace statgov::http {

class TlsContext {
 public:
  // The context, or an error message naming the file that failed.
  static std::variant<std::unique_ptr<TlsContext>, std::string> create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context& context() { return ctx_; }
  bool wants_client_cert() const { return !options_.client_ca_file.empty(); }
  const TlsOptions& options() const { return options_; }

  // Before a handshake: gives `ssl` the current client CA store (re-reading the CRL if changed).
  void prepare(SSL* ssl);
  // Whether the current CRL lists this serial (re-reading it if changed): checked on every
  // request so that a revocation also ends the use of a certificate on a kept-alive connection.
  bool is_revoked(const std::string& serial);

 private:
  explicit TlsContext(TlsOptions options);
  // Re-reads the CRL when its file changed, at most once a second. Keeps the old store and logs
  // an error if the new file cannot be used.
  void maybe_reload();
  // A fresh store with the client CA and the CRL, and the CRL's serials; error message on failure.
  std::optional<std::string> load(X509_STORE*& store, std::set<std::string>& revoked);

  TlsOptions options_;
  boost::asio::ssl::context ctx_;
  std::mutex mu_;
  X509_STORE* store_ = nullptr;       // guarded by mu_; owns one reference
  std::set<std::string> revoked_;     // guarded by mu_
  std::string crl_stamp_;             // guarded by mu_: inode, size and mtime of the CRL file read
  std::chrono::steady_clock::time_point last_check_{};  // guarded by mu_
};

// The verification outcome of one connection's handshake, filled by the verify callback.
struct PeerVerify {
  bool revoked = false;
  int error = 0;  // first other X509_V_ERR_* seen; 0 = none
};

// After the handshake: the peer certificate's status, common name and serial.
void read_peer_certificate(SSL* ssl, const PeerVerify& verify, ClientCert& status, std::string& cn,
                           std::string& serial);

// The verify callback body: records the outcome in `verify` and lets the handshake go on, so
// that the application can answer a revoked or foreign certificate with a clear 401.
bool note_verification(bool preverified, X509_STORE_CTX* ctx, PeerVerify& verify);

}  // namespace statgov::http
