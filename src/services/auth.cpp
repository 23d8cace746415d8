#include "services/auth.hpp"

#include "base/crypto.hpp"
#include "security/totp.hpp"
#include "store/repos.hpp"

#include <spdlog/spdlog.h>

namespace statgov::services {

namespace {
Error bad_credentials() {
  return make_error(ErrorKind::unauthenticated, "BAD_CREDENTIALS", "用户名或密码错误",
                    "Wrong login or password");
}
Error unauthenticated() {
  return make_error(ErrorKind::unauthenticated, "UNAUTHENTICATED", "请先登录", "Please log in");
}

Error cert_error(const PeerCert& cert, const std::string& login) {
  switch (cert.status) {
    case PeerCert::Status::revoked:
      return make_error(ErrorKind::unauthenticated, "CERT_REVOKED", "客户端证书已被吊销，请联系管理员重新签发",
                        "The client certificate has been revoked; ask the administrator for a new one",
                        nlohmann::json::array({nlohmann::json{{"serial", cert.serial}}}));
    case PeerCert::Status::untrusted:
      return make_error(ErrorKind::unauthenticated, "CERT_INVALID",
                        "客户端证书无效（不是本局 CA 签发的，或已过期、尚未生效）",
                        "The client certificate is not valid (not issued by the bureau's CA, expired or not yet valid)");
    case PeerCert::Status::verified:
    case PeerCert::Status::none: break;
  }
  auto e = make_error(ErrorKind::unauthenticated, "CERT_REQUIRED",
                      "工作人员账号须使用本局 CA 为该登录名签发的客户端证书（HTTPS）",
                      "Staff accounts need the client certificate the bureau's CA issued to this login (over HTTPS)");
  if (cert.status == PeerCert::Status::verified) {
    e.details.push_back({{"certificate_cn", cert.cn}, {"login", login}});
  }
  return e;
}
}  // namespace

std::optional<StaffAuth> parse_staff_auth(std::string_view s) {
  if (s == "password") return StaffAuth::password;
  if (s == "cert") return StaffAuth::cert;
  if (s == "password+cert") return StaffAuth::password_and_cert;
  return std::nullopt;
}

std::string_view cert_status_name(PeerCert::Status s) {
  switch (s) {
    case PeerCert::Status::none: return "none";
    case PeerCert::Status::verified: return "verified";
    case PeerCert::Status::revoked: return "revoked";
    case PeerCert::Status::untrusted: return "untrusted";
  }
  return "none";
}

std::string_view staff_auth_name(StaffAuth a) {
  switch (a) {
    case StaffAuth::password: return "password";
    case StaffAuth::cert: return "cert";
    case StaffAuth::password_and_cert: return "password+cert";
  }
  return "password";
}

Status AuthService::check_cert(const domain::User& user, const PeerCert& cert) const {
  if (config_.staff_auth == StaffAuth::password || !domain::is_staff(user.role)) return Ok{};
  if (cert.status == PeerCert::Status::verified && cert.cn == user.login) return Ok{};
  return cert_error(cert, user.login);
}

Result<Session> AuthService::login(const std::string& login, const std::string& password, const std::string& ip,
                                   const std::string& totp, const PeerCert& cert) {
  if (login.empty() || login.size() > 64 || password.empty() || password.size() > 128) return bad_credentials();
  auto now = clock_.now();
  std::string since = format_utc(now - config_.failure_window);
  SG_ASSIGN_OR_RETURN(int failures, store_.read([&](store::Conn& c) {
    return store::count_login_failures(c, login, since);
  }));
  if (failures >= config_.max_failures) {
    return make_error(ErrorKind::throttled, "THROTTLED",
                      "登录失败次数过多，请15分钟后再试", "Too many failed logins; try again in 15 minutes");
  }
  SG_ASSIGN_OR_RETURN(auto row, store_.read([&](store::Conn& c) { return store::find_user_by_login(c, login); }));
  // The certificate before the password: without it, a guesser learns nothing about the password.
  if (row && !row->user.disabled) {
    if (auto st = check_cert(row->user, cert); !st.ok()) {
      auto at = format_utc(now);
      SG_TRY(store_.write([&](store::Conn& c) {
        return store::append_audit(c, at, login, "login_cert_refused", "user:" + login,
                                   {{"ip", ip}, {"cert", cert_status_name(cert.status)}, {"cert_cn", cert.cn},
                                    {"cert_serial", cert.serial}});
      }));
      return st.error();
    }
  }
  // NOTE: verify against a real hash even for an unknown login would equalise timing; the
  // throttle bounds guessing either way.
  bool ok = row && !row->user.disabled && security::verify_password(row->password_hash, password);
  if (!ok) {
    auto at = format_utc(now);
    SG_TRY(store_.write([&](store::Conn& c) -> Status {
      SG_TRY(store::record_login_failure(c, login, at));
      return store::append_audit(c, at, login, "login_failed", "user:" + login, {{"ip", ip}});
    }));
    if (row && row->user.disabled) {
      return make_error(ErrorKind::unauthenticated, "ACCOUNT_DISABLED", "账号已停用", "The account is disabled");
    }
    return bad_credentials();
  }
  return open_session(*row, ip, totp, cert, "password");
}

Result<Session> AuthService::login_with_cert(const PeerCert& cert, const std::string& ip, const std::string& totp) {
  if (config_.staff_auth != StaffAuth::cert) {
    return make_error(ErrorKind::not_found, "CERT_LOGIN_OFF", "本服务器未启用证书登录，请用密码登录",
                      "Certificate login is not enabled on this server; log in with a password");
  }
  if (cert.status != PeerCert::Status::verified) return cert_error(cert, "");
  auto now = clock_.now();
  SG_ASSIGN_OR_RETURN(auto row, store_.read([&](store::Conn& c) { return store::find_user_by_login(c, cert.cn); }));
  if (!row || row->user.disabled) {
    auto at = format_utc(now);
    SG_TRY(store_.write([&](store::Conn& c) {
      return store::append_audit(c, at, cert.cn, "login_failed", "user:" + cert.cn,
                                 {{"ip", ip}, {"cert_serial", cert.serial}});
    }));
    if (row) return make_error(ErrorKind::unauthenticated, "ACCOUNT_DISABLED", "账号已停用", "The account is disabled");
    return make_error(ErrorKind::unauthenticated, "CERT_UNKNOWN_USER", "证书对应的登录名不存在：" + cert.cn,
                      "No account has the certificate's login: " + cert.cn);
  }
  return open_session(*row, ip, totp, cert, "cert");
}

Result<Session> AuthService::open_session(const store::UserRow& user_row, const std::string& ip, const std::string& totp,
                                          const PeerCert& cert, const char* method) {
  const store::UserRow* row = &user_row;
  const std::string& login = row->user.login;
  auto now = clock_.now();
  SG_ASSIGN_OR_RETURN(auto factor, store_.read([&](store::Conn& c) { return store::find_totp(c, row->user.id); }));
  std::optional<std::int64_t> totp_step;
  if (factor && factor->enabled) {
    SG_ASSIGN_OR_RETURN(auto secret, totp_secret(*factor));
    std::int64_t unix_now = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (!totp.empty() && secret) totp_step = security::totp_match(*secret, totp, unix_now);
    // A code is good once: a step at or before the last one used is a replay.
    bool good = totp_step && *totp_step > factor->last_step;
    if (!good) {
      auto at = format_utc(now);
      const char* what = totp.empty() ? "login_totp_missing" : "login_totp_failed";
      SG_TRY(store_.write([&](store::Conn& c) -> Status {
        SG_TRY(store::record_login_failure(c, login, at));
        return store::append_audit(c, at, login, what, "user:" + login, {{"ip", ip}});
      }));
      if (totp.empty()) {
        return make_error(ErrorKind::unauthenticated, "TOTP_REQUIRED", "该账号已启用动态口令，请输入身份验证器中的6位动态口令",
                          "This account uses a one-time code: enter the 6-digit code from your authenticator app");
      }
      return make_error(ErrorKind::unauthenticated, "TOTP_INVALID", "动态口令错误或已过期",
                        "The one-time code is wrong or has expired");
    }
  }
  Session s;
  s.user = row->user;
  s.token = random_token(32);
  s.token_hash = sha256_hex(s.token);
  s.csrf_token = random_token(24);
  store::SessionRow sr{s.token_hash, s.user.id, s.csrf_token, format_utc(now), format_utc(now + config_.session_lifetime),
                       format_utc(now)};
  SG_TRY(store_.write([&](store::Conn& c) -> Status {
    SG_TRY(store::insert_session(c, sr));
    SG_TRY(store::clear_login_failures(c, login));
    if (totp_step) {
      // Re-read inside the transaction: of two concurrent logins with one code, one wins.
      SG_ASSIGN_OR_RETURN(auto f, store::find_totp(c, row->user.id));
      if (!f || !f->enabled || f->last_step >= *totp_step) {
        return make_error(ErrorKind::unauthenticated, "TOTP_INVALID", "动态口令错误或已过期",
                          "The one-time code is wrong or has expired");
      }
      f->last_step = *totp_step;
      SG_TRY(store::update_totp(c, *f));
    }
    nlohmann::json details = {{"ip", ip}, {"totp", totp_step.has_value()}, {"method", method}};
    if (cert.status == PeerCert::Status::verified) {
      details["cert_serial"] = cert.serial;
      details["cert_cn"] = cert.cn;
    }
    return store::append_audit(c, format_utc(now), login, "login", "user:" + login, details);
  }));
  return s;
}

std::optional<std::string> AuthService::PendingTouches::find(const std::string& hash) {
  std::lock_guard lock(mu);
  auto it = at.find(hash);
  if (it == at.end()) return std::nullopt;
  return it->second;
}

bool AuthService::PendingTouches::claim(const std::string& hash, const std::string& time,
                                        const std::string& since) {
  std::lock_guard lock(mu);
  auto [it, added] = at.try_emplace(hash, time);
  if (added) return true;
  if (it->second > since) return false;
  it->second = time;
  return true;
}

void AuthService::PendingTouches::release(const std::string& hash, const std::string& time) {
  std::lock_guard lock(mu);
  auto it = at.find(hash);
  if (it != at.end() && it->second == time) at.erase(it);
}

Result<Session> AuthService::authenticate(const std::string& token, const PeerCert& cert) {
  if (token.empty() || token.size() > 128) return unauthenticated();
  std::string hash = sha256_hex(token);
  // NOTE: the pending last-seen time before the row: a write that commits between the two reads
  // is then seen in one of them (it is forgotten only after its commit).
  auto pending = touches_->find(hash);
  // The session and its user in one statement (issue #6: one round trip on PostgreSQL instead of
  // two); the user is looked at only after the session's own checks, as before.
  SG_ASSIGN_OR_RETURN(auto found, store_.read([&](store::Conn& c) { return store::find_session_user(c, hash); }));
  auto now = clock_.now();
  if (!found || found->session.expires_at <= format_utc(now)) return unauthenticated();
  const store::SessionRow& sess = found->session;
  const std::optional<store::UserRow>& user = found->user;
  const std::string& last_seen = pending && *pending > sess.last_seen ? *pending : sess.last_seen;
  if (last_seen <= format_utc(now - config_.idle_timeout)) {
    (void)store_.write([&](store::Conn& c) { return store::delete_session(c, hash); });
    return make_error(ErrorKind::unauthenticated, "SESSION_IDLE", "长时间未操作，请重新登录",
                      "The session ended after a period of inactivity; please log in again");
  }
  // Recording every request would make each read a write; a minute's resolution is enough. In the
  // background (issue #6): a request must not hold its thread for another group commit, and a
  // failed write (a full disk) costs the session at most its idle limit, not this request.
  const std::string minute_ago = format_utc(now - std::chrono::minutes(1));
  if (last_seen <= minute_ago) {
    std::string at = format_utc(now);
    if (touches_->claim(hash, at, minute_ago)) {
      store_.write_async([hash, at](store::Conn& c) { return store::touch_session(c, hash, at); },
                         [touches = touches_, hash, at](Status s) {
                           if (!s.ok()) {
                             spdlog::warn("session last-seen time not written: {}",
                                          s.error().message_en);
                           }
                           touches->release(hash, at);
                         });
    }
  }
  if (!user || user->user.disabled) return unauthenticated();
  SG_TRY(check_cert(user->user, cert));
  return Session{user->user, "", sess.csrf_token, hash};
}

Status AuthService::logout(const std::string& token) {
  std::string hash = sha256_hex(token);
  return store_.write([&](store::Conn& c) { return store::delete_session(c, hash); });
}

Status AuthService::logout_everywhere(std::int64_t user_id, const std::string& actor) {
  auto now = format_utc(clock_.now());
  return store_.write([&](store::Conn& c) -> Status {
    SG_TRY(store::delete_user_sessions(c, user_id));
    return store::append_audit(c, now, actor, "logout_all", "user:" + actor, nlohmann::json::object());
  });
}

Result<domain::User> AuthService::add_user(const NewUser& nu, const std::string& actor) {
  auto role = domain::parse_role(nu.role);
  if (!role) {
    return make_error(ErrorKind::invalid, "BAD_ROLE",
                      "角色应为 enterprise、township、county、city、leader、publisher、provider、admin 之一",
                      "Role must be one of enterprise, township, county, city, leader, publisher, provider, admin");
  }
  if (nu.login.empty() || nu.login.size() > 64 ||
      nu.login.find_first_of(" \t\r\n/\\") != std::string::npos) {
    return make_error(ErrorKind::invalid, "BAD_LOGIN", "登录名须为1-64个字符且不含空白", "A login has 1-64 characters and no spaces");
  }
  SG_TRY(security::check_password_policy(nu.password));
  domain::User u;
  u.login = nu.login;
  u.name = nu.name.empty() ? nu.login : nu.name;
  u.role = *role;
  if (*role == domain::Role::enterprise) {
    if (nu.unit_uscc.empty()) {
      return make_error(ErrorKind::invalid, "UNIT_REQUIRED", "企业账号须指定所属单位（统一社会信用代码）",
                        "An enterprise account needs its unit (unified social credit code)");
    }
    SG_ASSIGN_OR_RETURN(auto unit, store_.read([&](store::Conn& c) { return store::find_unit_by_uscc(c, nu.unit_uscc); }));
    if (!unit) {
      return make_error(ErrorKind::not_found, "UNIT_NOT_FOUND", "名录库中没有该单位：" + nu.unit_uscc,
                        "No unit with code " + nu.unit_uscc);
    }
    u.unit_id = unit->id;
    u.region = unit->region;
  } else {
    SG_ASSIGN_OR_RETURN(auto rc, domain::RegionCode::parse(nu.region));
    u.region = rc.str();
  }
  SG_ASSIGN_OR_RETURN(std::string hash, security::hash_password(nu.password, config_.hash_cost));
  auto now = format_utc(clock_.now());
  return store_.write([&](store::Conn& c) -> Result<domain::User> {
    SG_ASSIGN_OR_RETURN(auto existing, store::find_user_by_login(c, u.login));
    if (existing) {
      return make_error(ErrorKind::conflict, "LOGIN_TAKEN", "登录名已存在：" + u.login, "Login already exists: " + u.login);
    }
    SG_ASSIGN_OR_RETURN(u.id, store::insert_user(c, {u, hash}, now));
    SG_TRY(store::append_audit(c, now, actor, "user_add", "user:" + u.login, {{"role", nu.role}, {"region", u.region}}));
    return u;
  });
}

Status AuthService::set_password(const std::string& login, const std::string& password, const std::string& actor) {
  SG_TRY(security::check_password_policy(password));
  SG_ASSIGN_OR_RETURN(std::string hash, security::hash_password(password, config_.hash_cost));
  auto now = format_utc(clock_.now());
  return store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto u, store::find_user_by_login(c, login));
    if (!u) return make_error(ErrorKind::not_found, "USER_NOT_FOUND", "没有该用户：" + login, "No such user: " + login);
    SG_TRY(store::set_password_hash(c, u->user.id, hash));
    SG_TRY(store::delete_user_sessions(c, u->user.id));  // a new password ends every old session
    return store::append_audit(c, now, actor, "user_passwd", "user:" + login, nlohmann::json::object());
  });
}

Status AuthService::set_disabled(const std::string& login, bool disabled, const std::string& actor) {
  auto now = format_utc(clock_.now());
  return store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto u, store::find_user_by_login(c, login));
    if (!u) return make_error(ErrorKind::not_found, "USER_NOT_FOUND", "没有该用户：" + login, "No such user: " + login);
    SG_TRY(store::set_user_disabled(c, u->user.id, disabled));
    if (disabled) SG_TRY(store::delete_user_sessions(c, u->user.id));
    return store::append_audit(c, now, actor, disabled ? "user_disable" : "user_enable", "user:" + login,
                               nlohmann::json::object());
  });
}

// ---- TOTP second factor ----------------------------------------------------------------------

namespace {
// Binds a sealed secret to its account: copied onto another user's row it does not open.
std::string totp_context(std::int64_t user_id) { return "statgov totp user " + std::to_string(user_id); }
Error totp_invalid() {
  return make_error(ErrorKind::unprocessable, "TOTP_INVALID", "动态口令错误或已过期",
                    "The one-time code is wrong or has expired");
}
Status staff_only(const domain::User& u) {
  if (domain::is_staff(u.role)) return Ok{};
  return make_error(ErrorKind::forbidden, "TOTP_STAFF_ONLY", "动态口令仅用于工作人员账号",
                    "The one-time code second factor is for staff accounts");
}
Status check_code_format(const std::string& code) {
  bool ok = code.size() == 6 && code.find_first_not_of("0123456789") == std::string::npos;
  if (ok) return Ok{};
  return make_error(ErrorKind::invalid, "BAD_TOTP_CODE", "动态口令应为6位数字", "A one-time code has 6 digits");
}
}  // namespace

Result<std::optional<std::string>> AuthService::totp_secret(const store::TotpRow& row) const {
  SG_ASSIGN_OR_RETURN(auto text, security::unseal(config_.totp_key ? &*config_.totp_key : nullptr, row.secret,
                                                  totp_context(row.user_id)));
  return security::base32_decode(text);
}

Result<nlohmann::json> AuthService::totp_status(const domain::User& u) {
  SG_ASSIGN_OR_RETURN(auto f, store_.read([&](store::Conn& c) { return store::find_totp(c, u.id); }));
  return nlohmann::json{{"enabled", f && f->enabled}, {"pending", f && !f->enabled},
                        {"available", domain::is_staff(u.role)}};
}

Result<nlohmann::json> AuthService::totp_enrol(const domain::User& u, const std::string& ip) {
  SG_TRY(staff_only(u));
  auto now = format_utc(clock_.now());
  std::string secret = security::new_totp_secret();
  std::string text = security::base32_encode(secret);
  store::TotpRow row{u.id, config_.totp_key ? security::seal(*config_.totp_key, text, totp_context(u.id)) : text,
                     false, now, "", -1};
  SG_TRY(store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto f, store::find_totp(c, u.id));
    if (f && f->enabled) {
      return make_error(ErrorKind::conflict, "TOTP_ENABLED", "动态口令已启用；如需更换请先停用",
                        "The one-time code is already on; disable it first to change it");
    }
    SG_TRY(store::upsert_totp(c, row));
    return store::append_audit(c, now, u.login, "totp_enrol", "user:" + u.login, {{"ip", ip}});
  }));
  return nlohmann::json{{"secret", text}, {"otpauth_uri", security::otpauth_uri(totp_issuer, u.login, secret)},
                        {"digits", 6}, {"period", security::kTotpStepSeconds}, {"algorithm", "SHA1"}};
}

Result<nlohmann::json> AuthService::totp_confirm(const domain::User& u, const std::string& code, const std::string& ip) {
  SG_TRY(staff_only(u));
  SG_TRY(check_code_format(code));
  auto tp = clock_.now();
  auto now = format_utc(tp);
  std::int64_t unix_now = std::chrono::duration_cast<std::chrono::seconds>(tp.time_since_epoch()).count();
  return store_.write([&](store::Conn& c) -> Result<nlohmann::json> {
    SG_ASSIGN_OR_RETURN(auto f, store::find_totp(c, u.id));
    if (!f || f->enabled) {
      return make_error(ErrorKind::conflict, "TOTP_NOT_PENDING", "没有待确认的动态口令登记，请先登记",
                        "No one-time code enrolment is waiting for confirmation; enrol first");
    }
    SG_ASSIGN_OR_RETURN(auto secret, totp_secret(*f));
    auto step = secret ? security::totp_match(*secret, code, unix_now) : std::nullopt;
    if (!step) return totp_invalid();
    f->enabled = true;
    f->confirmed_at = now;
    f->last_step = *step;
    SG_TRY(store::update_totp(c, *f));
    SG_TRY(store::append_audit(c, now, u.login, "totp_enable", "user:" + u.login, {{"ip", ip}}));
    return nlohmann::json{{"enabled", true}};
  });
}

Result<nlohmann::json> AuthService::totp_disable(const domain::User& u, const std::string& code, const std::string& ip) {
  SG_TRY(staff_only(u));
  SG_TRY(check_code_format(code));
  auto tp = clock_.now();
  auto now = format_utc(tp);
  std::int64_t unix_now = std::chrono::duration_cast<std::chrono::seconds>(tp.time_since_epoch()).count();
  return store_.write([&](store::Conn& c) -> Result<nlohmann::json> {
    SG_ASSIGN_OR_RETURN(auto f, store::find_totp(c, u.id));
    if (!f || !f->enabled) {
      return make_error(ErrorKind::conflict, "TOTP_NOT_ENABLED", "动态口令未启用", "The one-time code is not on");
    }
    SG_ASSIGN_OR_RETURN(auto secret, totp_secret(*f));
    auto step = secret ? security::totp_match(*secret, code, unix_now) : std::nullopt;
    if (!step) return totp_invalid();
    SG_TRY(store::delete_totp(c, u.id));
    SG_TRY(store::append_audit(c, now, u.login, "totp_disable", "user:" + u.login, {{"ip", ip}}));
    return nlohmann::json{{"enabled", false}};
  });
}

Status AuthService::totp_reset(const std::string& login, const std::string& actor) {
  auto now = format_utc(clock_.now());
  return store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto u, store::find_user_by_login(c, login));
    if (!u) return make_error(ErrorKind::not_found, "USER_NOT_FOUND", "没有该用户：" + login, "No such user: " + login);
    SG_ASSIGN_OR_RETURN(auto f, store::find_totp(c, u->user.id));
    if (!f) {
      return make_error(ErrorKind::conflict, "TOTP_NOT_ENABLED", "该账号没有动态口令：" + login,
                        "This account has no one-time code: " + login);
    }
    SG_TRY(store::delete_totp(c, u->user.id));
    SG_TRY(store::delete_user_sessions(c, u->user.id));
    return store::append_audit(c, now, actor, "totp_reset", "user:" + login,
                               {{"was_enabled", f->enabled}});
  });
}

Result<int> AuthService::totp_reseal(store::Store& store, const Clock& clock, const security::SealKey* old_key,
                                     const security::SealKey& new_key, const std::string& actor) {
  auto now = format_utc(clock.now());
  return store.write([&](store::Conn& c) -> Result<int> {
    SG_ASSIGN_OR_RETURN(auto rows, store::list_totp(c));
    int plain_before = 0;
    for (auto& row : rows) {
      if (!security::is_sealed(row.secret)) ++plain_before;
      SG_ASSIGN_OR_RETURN(auto text, security::unseal(old_key, row.secret, totp_context(row.user_id)));
      row.secret = security::seal(new_key, text, totp_context(row.user_id));
      SG_TRY(store::upsert_totp(c, row));
    }
    SG_TRY(store::append_audit(c, now, actor, "totp_reseal", "user_totp",
                               {{"sealed", rows.size()}, {"were_plain", plain_before}}));
    return static_cast<int>(rows.size());
  });
}

}  // namespace statgov::services
