// The bureau's own certificate authority (issue #7, CA身份认证): a CA key and self-signed
// certificate, client certificates for staff (CN = login), server certificates for `serve`, and
// a certificate revocation list that `serve` re-reads when the file changes.
//
// Everything lives in one folder D, written only by these functions:
//   D/ca.key      CA private key (ECDSA P-256, PKCS#8 PEM, mode 0600)
//   D/ca.pem      CA certificate (CA:TRUE, keyUsage keyCertSign, cRLSign)
//   D/crl.pem     CRL signed by the CA, rewritten atomically (temp file + rename)
//   D/index.json  every certificate issued: serial, kind, subject, dates, revocation
// A lock file (D/.lock, flock) serialises concurrent `statgov ca` commands on the same folder.
//
// OpenSSL 3 EVP/X509 APIs only; no shelling out. Expected failures come back as Result errors.
// Depends on base only; nothing here knows of HTTP or the database.
#pragma once

#include "base/result.hpp"

#include <string>
#include <vector>

namespace statgov::security {

struct CaCertEntry {
  std::string serial;   // upper-case hex, as OpenSSL's BN_bn2hex prints it
  std::string kind;     // "client" | "server"
  std::string subject;  // client: the login (CN); server: the host names, comma-separated
  std::string not_before, not_after;  // UTC ISO 8601
  std::string revoked_at;             // empty = not revoked
};

struct CaInitResult {
  std::string ca_cert, ca_key, crl;  // file paths
  std::string subject;
};

struct IssuedCert {
  CaCertEntry entry;
  std::string key_file, cert_file, p12_file;  // p12_file empty for server certificates
  std::string p12_password;                    // as used (given or generated)
  bool p12_password_generated = false;
};

// Makes D (mode 0700 if new) and the CA in it. CA_EXISTS if D/ca.key or D/ca.pem exists.
Result<CaInitResult> ca_init(const std::string& dir, const std::string& name, int days);

// A client certificate for `login`: OUT/LOGIN.key, OUT/LOGIN.pem, OUT/LOGIN.p12 (refuses to
// overwrite). An empty p12_password makes a random one (returned, shown once by the CLI).
Result<IssuedCert> ca_issue_client(const std::string& dir, const std::string& login, int days,
                                   const std::string& out_dir, const std::string& p12_password);

// A server certificate for host names and/or IP addresses (subjectAltName; CN = the first):
// OUT/server.key, OUT/server.pem (the certificate followed by the CA certificate).
Result<IssuedCert> ca_issue_server(const std::string& dir, const std::vector<std::string>& hosts, int days,
                                   const std::string& out_dir);

// Revokes one certificate (serial) or every valid client certificate of a login; rewrites D/crl.pem.
// UNKNOWN_SERIAL, ALREADY_REVOKED, NO_CERTIFICATE (login has none valid).
Result<std::vector<CaCertEntry>> ca_revoke_serial(const std::string& dir, const std::string& serial);
Result<std::vector<CaCertEntry>> ca_revoke_user(const std::string& dir, const std::string& login);

// Re-signs D/crl.pem with a fresh validity period (nothing revoked or unrevoked).
Status ca_refresh_crl(const std::string& dir);

Result<std::vector<CaCertEntry>> ca_list(const std::string& dir);

// Upper case, without colons or spaces, leading zeros dropped: the form index.json and `serve` use.
std::string normalize_serial(const std::string& serial);

inline constexpr int kCrlValidityDays = 365;

}  // namespace statgov::security
