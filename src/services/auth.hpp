// Logins, sessions, CSRF tokens, throttling and user administration.
//
// Thread safety: stateless over the Store and Clock it is given; callable from any thread.
#pragma once

#include "base/clock.hpp"
#include "base/result.hpp"
#include "domain/user.hpp"
#include "security/password.hpp"
#include "store/store.hpp"

#include <chrono>
#include <string>

namespace statgov::services {

struct AuthConfig {
  std::chrono::minutes session_lifetime{12 * 60};  // absolute
  std::chrono::minutes idle_timeout{30};          // unused this long, a session ends
  int max_failures = 5;                        // per login within the window
  std::chrono::minutes failure_window{15};
  security::HashCost hash_cost = security::HashCost::interactive();
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
  Result<Session> login(const std::string& login, const std::string& password, const std::string& ip,
                        const std::string& totp = "");
  // From the cookie value: the live session and its user, or UNAUTHENTICATED.
  Result<Session> authenticate(const std::string& token);
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
  std::string totp_issuer = "statgov";  // shown in authenticator apps

 private:
  store::Store& store_;
  const Clock& clock_;
  AuthConfig config_;
};

}  // namespace statgov::services
