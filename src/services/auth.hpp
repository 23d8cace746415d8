// Logins, sessions, CSRF tokens, throttling and user administration.
//
// Thread safety: stateless over the Store and Clock it is given; callable from any thread.
#pragma once

#include "base/clock.hpp"
#include "base/result.hpp"
#include "domain/user.hpp"
#include "security/password.hpp"
#include "security/sealed.hpp"
#include "store/store.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace statgov::store {
struct UserRow;
struct TotpRow;
}

namespace statgov::services {

// How staff accounts (every role above enterprise reporter) prove who they are (docs/tls-ca.md).
// Enterprise reporters log in with passwords in every mode.
enum class StaffAuth {
  password,           // login + password (+ TOTP if enrolled): no certificate needed
  cert,               // the bureau's client certificate, CN = login: POST /auth/cert-login, or the
                      // password login with that certificate; a password alone is refused
  password_and_cert,  // the password login, only with that certificate
};
std::optional<StaffAuth> parse_staff_auth(std::string_view s);  // "password" | "cert" | "password+cert"
std::string_view staff_auth_name(StaffAuth a);

// The TLS client certificate of the request, as the server verified it (http::ClientCert without
// the HTTP types).
struct PeerCert {
  enum class Status { none, verified, revoked, untrusted };
  Status status = Status::none;
  std::string cn;      // subject common name
  std::string serial;  // upper-case hex
};
std::string_view cert_status_name(PeerCert::Status s);  // "none" | "verified" | "revoked" | "untrusted"

struct AuthConfig {
  std::chrono::minutes session_lifetime{12 * 60};  // absolute
  std::chrono::minutes idle_timeout{30};          // unused this long, a session ends
  int max_failures = 5;                        // per login within the window
  std::chrono::minutes failure_window{15};
  security::HashCost hash_cost = security::HashCost::interactive();
  StaffAuth staff_auth = StaffAuth::password;
  // Seals the TOTP secrets in the database (serve --totp-key, security/sealed.hpp); without it they
  // are stored as written by authenticator apps (base32), and sealed ones cannot be opened.
  std::optional<security::SealKey> totp_key;
};

struct Session {
  domain::User user;
  std::string token;       // the cookie value (only returned at login)
  std::string csrf_token;
  std::string token_hash;
};

class AuthService {
 public:
  AuthService(store::Store& store, const Clock& clock, AuthConfig config = {})
      : store_(store), clock_(clock), config_(config) {}

  // totp: the current code when the account has a second factor (TOTP_REQUIRED / TOTP_INVALID,
  // both 401 and counted by the login throttle, otherwise).
  // cert: the request's client certificate; staff accounts need it unless staff_auth is password
  // (401 CERT_REQUIRED / CERT_REVOKED / CERT_INVALID, checked before the password so a password
  // cannot be tested without the certificate). Audited with the certificate's serial.
  Result<Session> login(const std::string& login, const std::string& password, const std::string& ip,
                        const std::string& totp = "", const PeerCert& cert = {});
  // Staff auth mode `cert` only (otherwise 404 CERT_LOGIN_OFF): the verified certificate is the
  // credential, its CN the login. TOTP still applies to accounts that enrolled.
  Result<Session> login_with_cert(const PeerCert& cert, const std::string& ip, const std::string& totp = "");
  // From the cookie value: the live session and its user, or UNAUTHENTICATED. Unless staff_auth
  // is password, a staff user's every request needs the certificate of that login too, so a
  // stolen cookie alone is not enough. Does not wait for the writer to record activity: the
  // session's last-seen time (at most once a minute) is written in the background, and until that
  // write commits this process counts the request's time as the session's last-seen time itself.
  // (Only ending an idle session waits for its delete, once per session.)
  Result<Session> authenticate(const std::string& token, const PeerCert& cert = {});
  Status logout(const std::string& token);
  // Ends every session of the user (all devices), e.g. after a lost laptop.
  Status logout_everywhere(std::int64_t user_id, const std::string& actor);

  struct NewUser {
    std::string login, name, role, region, password;
    std::string unit_uscc;  // enterprise accounts: the unit they report for
  };
  Result<domain::User> add_user(const NewUser& u, const std::string& actor);
  Status set_password(const std::string& login, const std::string& password, const std::string& actor);
  Status set_disabled(const std::string& login, bool disabled, const std::string& actor);
  const AuthConfig& config() const { return config_; }

  // TOTP second factor (RFC 6238) for staff accounts. enrol: a new secret, returned this once
  // ({secret, otpauth_uri}); it takes effect after confirm with a current code. disable needs a
  // current code too. Wrong codes: 422 TOTP_INVALID.
  Result<nlohmann::json> totp_status(const domain::User& u);
  Result<nlohmann::json> totp_enrol(const domain::User& u, const std::string& ip);
  Result<nlohmann::json> totp_confirm(const domain::User& u, const std::string& code, const std::string& ip);
  Result<nlohmann::json> totp_disable(const domain::User& u, const std::string& code, const std::string& ip);
  // Administration (statgov totp reset / reseal). reset: removes an account's second factor (a lost
  // phone) and ends its sessions; USER_NOT_FOUND, TOTP_NOT_ENABLED when there is none.
  Status totp_reset(const std::string& login, const std::string& actor);
  // Every stored secret opened with old_key (none: only secrets stored before a key was set can be
  // read) and sealed again with new_key, all in one transaction: one secret that does not open
  // (SEAL_KEY_MISSING / SEAL_KEY_WRONG) changes nothing. Returns how many were sealed.
  static Result<int> totp_reseal(store::Store& store, const Clock& clock, const security::SealKey* old_key,
                                 const security::SealKey& new_key, const std::string& actor);
  std::string totp_issuer = "statgov";  // shown in authenticator apps

 private:
  // The TOTP secret of a row, opened with the configured key (a plain base32 row from before the key
  // reads as it is); nullopt if the stored text is not base32.
  Result<std::optional<std::string>> totp_secret(const store::TotpRow& row) const;
  store::Store& store_;
  const Clock& clock_;
  AuthConfig config_;

  // Last-seen times this process queued for sessions and whose write has not finished yet, by
  // token hash. Shared with the writes' completions, which may run after this service is gone.
  struct PendingTouches {
    std::mutex mu;
    std::unordered_map<std::string, std::string> at;  // token hash -> UTC time written
    std::optional<std::string> find(const std::string& hash);
    // Records `at` for the session unless a write of a time after `since` is already pending;
    // true: the caller writes it.
    bool claim(const std::string& hash, const std::string& at, const std::string& since);
    // The write of `at` finished (committed or failed): forgets it unless a later one replaced it.
    void release(const std::string& hash, const std::string& at);
  };
  std::shared_ptr<PendingTouches> touches_ = std::make_shared<PendingTouches>();

  // The user's row is known and the credential checked: the TOTP factor, then a new session.
  Result<Session> open_session(const store::UserRow& row, const std::string& ip, const std::string& totp,
                               const PeerCert& cert, const char* method);
  // Whether a staff account's request carries the right certificate (Ok when not needed).
  Status check_cert(const domain::User& user, const PeerCert& cert) const;
};

}  // namespace statgov::services
