// The staff TOTP second factor (RFC 6238, issue #7) over HTTP: enrol, confirm, login with a code,
// wrong and missing codes counted by the login throttle, replay refused, disable.
#include "harness.hpp"

#include "security/sealed.hpp"
#include "security/totp.hpp"
#include "store/repos.hpp"

#include <gtest/gtest.h>

namespace statgov::testing {
namespace {

class TotpApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(40); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static TestServer* server_;

  static std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               server_->clock().now().time_since_epoch())
        .count();
  }
  static std::string code_now(const std::string& secret) {
    return security::totp(secret, unix_now());
  }
  static HttpResult login(const std::string& user, const std::string& totp = "",
                          bool send_totp = true) {
    json body = {{"login", user}, {"password", kDemoPassword}};
    if (send_totp) body["totp"] = totp;
    return http_request(server_->port(), "POST", "/api/v1/auth/login", body.dump());
  }
  // An AuthService configuration like the server's, with or without a TOTP seal key.
  static services::AuthConfig config(std::optional<security::SealKey> key) {
    services::AuthConfig cfg;
    cfg.hash_cost = security::HashCost::test();
    cfg.totp_key = std::move(key);
    return cfg;
  }
  static std::string wrong_code(const std::string& secret) {
    // A code matching none of the steps in the accepted window.
    for (int i = 0;; ++i) {
      std::string c = std::string(6 - std::to_string(i).size(), '0') + std::to_string(i);
      if (!security::totp_match(secret, c, unix_now())) return c;
    }
  }
};
TestServer* TotpApi::server_ = nullptr;

TEST_F(TotpApi, EnrolConfirmLoginThrottleDisable) {
  const std::string user = "demo-quxian";
  Client c(server_->port());
  ASSERT_EQ(c.login(user, kDemoPassword).status, 200);
  EXPECT_EQ(c.get("/api/v1/me/totp").json_body()["enabled"], false);

  auto enrol = c.post_json("/api/v1/me/totp", json::object());
  ASSERT_EQ(enrol.status, 201) << enrol.body;
  std::string b32 = enrol.json_body()["secret"];
  std::string uri = enrol.json_body()["otpauth_uri"];
  EXPECT_EQ(uri.rfind("otpauth://totp/", 0), 0u);
  EXPECT_NE(uri.find("secret=" + b32), std::string::npos);
  auto secret = security::base32_decode(b32);
  ASSERT_TRUE(secret && secret->size() == 20);
  // Not on until confirmed: a login without a code still works.
  EXPECT_EQ(login(user, "", false).status, 200);

  auto wrong = c.post_json("/api/v1/me/totp/confirm", {{"code", wrong_code(*secret)}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_EQ(wrong.error_code(), "TOTP_INVALID");
  EXPECT_EQ(c.post_json("/api/v1/me/totp/confirm", {{"code", "12ab"}}).error_code(),
            "BAD_TOTP_CODE");
  auto confirm = c.post_json("/api/v1/me/totp/confirm", {{"code", code_now(*secret)}});
  ASSERT_EQ(confirm.status, 200) << confirm.body;
  auto status = c.get("/api/v1/me/totp");
  EXPECT_EQ(status.json_body()["enabled"], true);
  EXPECT_EQ(status.body.find(b32), std::string::npos) << "the secret is never returned again";
  EXPECT_EQ(c.post_json("/api/v1/me/totp", json::object()).error_code(), "TOTP_ENABLED");

  // Login now needs the code.
  auto missing = login(user, "", false);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.error_code(), "TOTP_REQUIRED");
  EXPECT_FALSE(missing.json_body()["error"]["message"].get<std::string>().empty());
  EXPECT_FALSE(missing.json_body()["error"]["message_en"].get<std::string>().empty());
  auto bad = login(user, wrong_code(*secret));
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.error_code(), "TOTP_INVALID");
  // The confirmation used this step's code: a new step is needed.
  server_->clock().advance(std::chrono::seconds(30));
  std::string good = code_now(*secret);
  auto in = login(user, good);
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_NE(in.headers["set-cookie"].find("sg_session="), std::string::npos);
  auto replay = login(user, good);
  EXPECT_EQ(replay.status, 401) << "a code is good once";
  EXPECT_EQ(replay.error_code(), "TOTP_INVALID");
  // One step late is still accepted, two are not.
  server_->clock().advance(std::chrono::seconds(30));
  std::string prev_step = code_now(*secret);
  server_->clock().advance(std::chrono::seconds(30));
  EXPECT_EQ(login(user, prev_step).status, 200);
  server_->clock().advance(std::chrono::seconds(60));
  EXPECT_EQ(login(user, prev_step).error_code(), "TOTP_INVALID");

  // Wrong and missing codes count as failed logins: five and the account is throttled, even
  // for the right code.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(login(user, wrong_code(*secret)).status, 401);
  server_->clock().advance(std::chrono::seconds(30));
  auto throttled = login(user, code_now(*secret));
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.error_code(), "THROTTLED");
  server_->clock().advance(std::chrono::minutes(16));
  EXPECT_EQ(login(user, code_now(*secret)).status, 200);

  // Disabling needs a current code.
  ASSERT_EQ(c.login(user, kDemoPassword).status, 401) << "the client helper sends no code";
  server_->clock().advance(std::chrono::seconds(30));
  auto fresh = login(user, code_now(*secret));
  ASSERT_EQ(fresh.status, 200);
  // Take the session from the answer.
  std::string cookie = fresh.headers["set-cookie"];
  cookie = cookie.substr(0, cookie.find(';'));
  std::string csrf = fresh.json_body()["csrf_token"];
  auto off_wrong = http_request(server_->port(), "POST", "/api/v1/me/totp/disable",
                                json{{"code", wrong_code(*secret)}}.dump(),
                                {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(off_wrong.status, 422);
  server_->clock().advance(std::chrono::seconds(30));
  auto off = http_request(server_->port(), "POST", "/api/v1/me/totp/disable",
                          json{{"code", code_now(*secret)}}.dump(),
                          {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(login(user, "", false).status, 200);
  server_->clock().set(from_local(2026, 11, 26, 10, 0));
}

// With serve --totp-key the secret is sealed in the database (security/sealed.hpp): a copy of the
// database alone does not give the second factor, and a server without the key says so (503).
TEST_F(TotpApi, SecretsAreSealedWithTheServersKey) {
  const std::string user = "demo-xiangzhen";
  const std::string ip = "127.0.0.1";
  services::AuthService keyed(server_->store(), server_->clock(),
                              config(*security::parse_seal_key(security::new_seal_key_text())));
  auto session = keyed.login(user, kDemoPassword, ip);
  ASSERT_TRUE(session.ok()) << session.error().message_en;
  auto enrol = keyed.totp_enrol(session->user, ip);
  ASSERT_TRUE(enrol.ok()) << enrol.error().message_en;
  std::string b32 = (*enrol)["secret"];
  auto secret = *security::base32_decode(b32);
  auto row = server_->store().read([&](store::Conn& c) { return store::find_totp(c, session->user.id); });
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_TRUE(security::is_sealed((*row)->secret)) << (*row)->secret;
  EXPECT_EQ((*row)->secret.find(b32), std::string::npos) << "the base32 secret is not in the database";
  ASSERT_TRUE(keyed.totp_confirm(session->user, code_now(secret), ip).ok());

  server_->clock().advance(std::chrono::seconds(30));  // the next code (the confirming one is used)
  auto with_code = keyed.login(user, kDemoPassword, ip, code_now(secret));
  EXPECT_TRUE(with_code.ok()) << with_code.error().message_en;
  auto without_code = keyed.login(user, kDemoPassword, ip);
  EXPECT_EQ(without_code.error().code, "TOTP_REQUIRED");

  // The test server runs without the key: the login cannot check the code and says why.
  server_->clock().advance(std::chrono::seconds(30));
  auto r = login(user, code_now(secret));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.error_code(), "SEAL_KEY_MISSING");
  // Another key does not open it either.
  services::AuthService other(server_->store(), server_->clock(),
                              config(*security::parse_seal_key(security::new_seal_key_text())));
  EXPECT_EQ(other.login(user, kDemoPassword, ip, code_now(secret)).error().code, "SEAL_KEY_WRONG");

  // Leave the account as it was for the other tests.
  server_->clock().advance(std::chrono::seconds(30));
  ASSERT_TRUE(keyed.totp_disable(session->user, code_now(secret), ip).ok());
  EXPECT_EQ(login(user, "", false).status, 200);
}

// statgov totp reseal / reset: every secret moves to the new key in one transaction (secrets stored
// before any key included), nothing changes when one does not open, and reset removes the factor.
TEST_F(TotpApi, ResealMovesEverySecretToTheNewKeyAndResetRemovesIt) {
  const std::string ip = "127.0.0.1";
  const auto key_a = *security::parse_seal_key(security::new_seal_key_text());
  const auto key_b = *security::parse_seal_key(security::new_seal_key_text());
  services::AuthService with_a(server_->store(), server_->clock(), config(key_a));
  services::AuthService with_b(server_->store(), server_->clock(), config(key_b));
  services::AuthService plain(server_->store(), server_->clock(), config(std::nullopt));

  // One account enrolled and confirmed under key A, one enrolled (pending) before any key.
  auto sealed_user = with_a.login("demo-xiangzhen", kDemoPassword, ip);
  ASSERT_TRUE(sealed_user.ok()) << sealed_user.error().message_en;
  auto enrol = with_a.totp_enrol(sealed_user->user, ip);
  ASSERT_TRUE(enrol.ok());
  auto secret = *security::base32_decode((*enrol)["secret"].get<std::string>());
  ASSERT_TRUE(with_a.totp_confirm(sealed_user->user, code_now(secret), ip).ok());
  auto plain_user = plain.login("demo-quxian", kDemoPassword, ip);
  ASSERT_TRUE(plain_user.ok());
  ASSERT_TRUE(plain.totp_enrol(plain_user->user, ip).ok());
  auto stored = [&](std::int64_t id) {
    auto row = server_->store().read([&](store::Conn& c) { return store::find_totp(c, id); });
    return row.ok() && row->has_value() ? (*row)->secret : std::string("none");
  };
  const std::string a_row = stored(sealed_user->user.id), plain_row = stored(plain_user->user.id);
  ASSERT_TRUE(security::is_sealed(a_row));
  ASSERT_FALSE(security::is_sealed(plain_row));

  // Without the old key, or with the wrong one, the sealed secret does not open: nothing changes.
  auto no_old = services::AuthService::totp_reseal(server_->store(), server_->clock(), nullptr, key_b, "cli");
  EXPECT_EQ(no_old.ok() ? "" : no_old.error().code, "SEAL_KEY_MISSING");
  auto wrong_old = services::AuthService::totp_reseal(server_->store(), server_->clock(), &key_b, key_b, "cli");
  EXPECT_EQ(wrong_old.ok() ? "" : wrong_old.error().code, "SEAL_KEY_WRONG");
  EXPECT_EQ(stored(sealed_user->user.id), a_row);
  EXPECT_EQ(stored(plain_user->user.id), plain_row) << "the plain row was not sealed by a failed reseal";

  auto moved = services::AuthService::totp_reseal(server_->store(), server_->clock(), &key_a, key_b, "cli");
  ASSERT_TRUE(moved.ok()) << moved.error().message_en;
  EXPECT_EQ(*moved, 2);
  EXPECT_TRUE(security::is_sealed(stored(plain_user->user.id)));
  server_->clock().advance(std::chrono::seconds(30));
  EXPECT_TRUE(with_b.login("demo-xiangzhen", kDemoPassword, ip, code_now(secret)).ok());
  server_->clock().advance(std::chrono::seconds(30));
  EXPECT_EQ(with_a.login("demo-xiangzhen", kDemoPassword, ip, code_now(secret)).error().code, "SEAL_KEY_WRONG");

  // Reset (a lost phone): the password alone logs in again; its sessions are gone; audited.
  EXPECT_EQ(with_b.totp_reset("nobody", "cli").error().code, "USER_NOT_FOUND");
  ASSERT_TRUE(with_b.totp_reset("demo-xiangzhen", "cli").ok());
  EXPECT_EQ(with_b.totp_reset("demo-xiangzhen", "cli").error().code, "TOTP_NOT_ENABLED");
  EXPECT_FALSE(with_b.authenticate(sealed_user->token).ok()) << "reset ends the account's sessions";
  EXPECT_TRUE(with_b.login("demo-xiangzhen", kDemoPassword, ip).ok());
  ASSERT_TRUE(with_b.totp_reset("demo-quxian", "cli").ok());
  EXPECT_EQ(server_->audit("totp_reset").size(), 2u);
  EXPECT_EQ(server_->audit("totp_reseal").size(), 1u) << "the failed reseals left no entry";
}

TEST_F(TotpApi, EnterprisesHaveNoTotp) {
  Client c(server_->port());
  ASSERT_EQ(c.login("demo-qiye", kDemoPassword).status, 200);
  auto r = c.post_json("/api/v1/me/totp", json::object());
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error_code(), "TOTP_STAFF_ONLY");
}

}  // namespace
}  // namespace statgov::testing
