// E-signatures (电子签章, issue #7) over HTTP: a unit registers Ed25519 keys, a signed submit is
// verified against a live key of that unit, and anyone in scope re-verifies the stored signature
// against the values stored now, so an edit behind the application's back shows as INVALID.
#include "harness.hpp"

#include "base/crypto.hpp"
#include "security/signing.hpp"
#include "store/repos.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace statgov::testing {
namespace {

class SignatureApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    crypto_init();
    server_ = new TestServer(80);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static TestServer* server_;

  static Client login(const std::string& user, const std::string& pw = kDemoPassword) {
    Client c(server_->port());
    auto r = c.login(user, pw);
    EXPECT_EQ(r.status, 200) << user << ": " << r.body;
    return c;
  }
  static std::string sub(std::int64_t unit, const std::string& period = "2026M11") {
    return "/api/v1/submissions/" + std::to_string(unit) + "/B204-1/" + period;
  }
  static std::string keys(std::int64_t unit) {
    return "/api/v1/units/" + std::to_string(unit) + "/keys";
  }

  // Values for 2026M11 that pass every hard edit (as in reporting_api_test), with explanations
  // for whatever warnings remain.
  static json submit_body(Client& c, std::int64_t unit) {
    auto s = c.get(sub(unit)).json_body();
    const json& prev = s["prev"]["values"];
    const json& ly = s["ly"]["values"];
    double out = std::round(ly["I01"].get<double>() * 1.1 * 10) / 10;
    double sales = std::round(out * 0.9 * 10) / 10;
    json v = {{"I01", out}, {"I03", sales}, {"I04", 0.0}, {"I05", ly["I05"]}};
    for (const char* code : {"I01", "I03", "I04", "I05"}) {
      std::string y = std::string(code) + "_YTD";
      v[y] = std::round((prev[y].get<double>() + v[code].get<double>()) * 10) / 10;
    }
    json body = {{"values", v}};
    auto checked = c.post_json(sub(unit) + "/validate", body).json_body();
    json expl = json::object();
    for (const auto& r : checked["results"]) expl[r["rule"].get<std::string>()] = "测试说明 test";
    if (!expl.empty()) body["explanations"] = expl;
    return body;
  }
  static std::string sign(const security::SigningKey& k, const std::string& uscc,
                          const json& values, int version, const std::string& period = "2026M11") {
    auto payload = security::submission_signing_payload("B204-1", period, uscc, values, version);
    EXPECT_TRUE(payload.ok());
    return base64(security::ed25519_sign(k, *payload));
  }
};
TestServer* SignatureApi::server_ = nullptr;

TEST_F(SignatureApi, RegisterSignVerifyAndDetectTampering) {
  const std::int64_t unit = server_->demo_unit();
  auto ent = login("demo-qiye");
  auto town = login("demo-xiangzhen");

  // Another enterprise on another unit, with a key of its own.
  domain::Scope all;
  auto units =
      server_->store().read([&](store::Conn& c) { return store::all_units(c, all); });
  ASSERT_TRUE(units.ok());
  const store::UnitRow* other = nullptr;
  for (const auto& u : *units) {
    if (u.id != unit) {
      other = &u;
      break;
    }
  }
  ASSERT_NE(other, nullptr);
  auto added = server_->auth().add_user(
      {"sig-other", "", "enterprise", "", "Other1234", other->uscc}, "test");
  ASSERT_TRUE(added.ok()) << added.error().message_en;
  auto other_ent = login("sig-other", "Other1234");

  auto k1 = security::generate_signing_key();
  auto k2 = security::generate_signing_key();
  auto k_other = security::generate_signing_key();

  // Registration: the enterprise for its own unit only; a 32-byte key in base64.
  auto reg = ent.post_json(keys(unit),
                           {{"public_key", base64(k1.public_key)}, {"label", "财务章 finance"}});
  ASSERT_EQ(reg.status, 201) << reg.body;
  EXPECT_EQ(reg.json_body()["key_id"], security::key_fingerprint(k1.public_key));
  EXPECT_EQ(ent.post_json(keys(unit), {{"public_key", base64(k1.public_key)}}).error_code(),
            "KEY_EXISTS");
  auto bad_key = ent.post_json(keys(unit), {{"public_key", base64("short")}});
  EXPECT_EQ(bad_key.status, 400);
  EXPECT_EQ(bad_key.error_code(), "BAD_PUBLIC_KEY");
  EXPECT_FALSE(bad_key.json_body()["error"]["message"].get<std::string>().empty());
  EXPECT_FALSE(bad_key.json_body()["error"]["message_en"].get<std::string>().empty());
  EXPECT_EQ(town.post_json(keys(unit), {{"public_key", base64(k2.public_key)}}).status, 403)
      << "staff do not register";
  EXPECT_EQ(other_ent.post_json(keys(unit), {{"public_key", base64(k2.public_key)}}).status, 404)
      << "nor does another unit";
  ASSERT_EQ(
      other_ent.post_json(keys(other->id), {{"public_key", base64(k_other.public_key)}}).status,
      201);
  ASSERT_EQ(
      ent.post_json(keys(unit), {{"public_key", base64(k2.public_key)}, {"label", "old"}}).status,
      201);
  auto k2_id = security::key_fingerprint(k2.public_key);
  auto revoked = ent.send("DELETE", keys(unit) + "/" + k2_id, "");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_FALSE(revoked.json_body()["revoked_at"].is_null());
  EXPECT_EQ(ent.send("DELETE", keys(unit) + "/" + k2_id, "").status, 409);

  // Listing: the enterprise and staff in scope see both keys, the revoked one marked.
  auto list = town.get(keys(unit));
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.json_body()["items"].size(), 2u);
  EXPECT_EQ(other_ent.get(keys(unit)).status, 404);

  auto head = ent.get(sub(unit)).json_body();
  std::string uscc = head["uscc"];
  int next_version = head["version"].get<int>() + 1;
  json body = submit_body(ent, unit);
  const json values = body["values"];

  auto with_sig = [&](const std::string& sig, const std::string& key_id) {
    json b = body;
    b["signature"] = sig;
    b["key_id"] = key_id;
    return b;
  };
  // Signed over other values: refused, nothing stored.
  json changed = values;
  changed["I01"] = values["I01"].get<double>() + 1;
  auto bad = ent.post_json(
      sub(unit) + "/submit",
      with_sig(sign(k1, uscc, changed, next_version), security::key_fingerprint(k1.public_key)));
  ASSERT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(bad.error_code(), "BAD_SIGNATURE");
  EXPECT_NE(bad.json_body()["error"]["message"].get<std::string>().find("电子签章"),
            std::string::npos);
  EXPECT_NE(bad.json_body()["error"]["message_en"].get<std::string>().find("e-signature"),
            std::string::npos);
  // The right content but the wrong version number.
  EXPECT_EQ(ent.post_json(sub(unit) + "/submit", with_sig(sign(k1, uscc, values, next_version + 1),
                                                          security::key_fingerprint(k1.public_key)))
                .error_code(),
            "BAD_SIGNATURE");
  EXPECT_EQ(ent.post_json(sub(unit) + "/submit",
                          with_sig("not base64!", security::key_fingerprint(k1.public_key)))
                .error_code(),
            "BAD_SIGNATURE");
  // Another unit's key, even with a correct signature by it.
  auto foreign =
      ent.post_json(sub(unit) + "/submit", with_sig(sign(k_other, uscc, values, next_version),
                                                    security::key_fingerprint(k_other.public_key)));
  EXPECT_EQ(foreign.status, 422);
  EXPECT_EQ(foreign.error_code(), "KEY_UNKNOWN");
  // A revoked key.
  auto old =
      ent.post_json(sub(unit) + "/submit", with_sig(sign(k2, uscc, values, next_version), k2_id));
  EXPECT_EQ(old.status, 422);
  EXPECT_EQ(old.error_code(), "KEY_REVOKED");
  // Half a claim.
  json half = body;
  half["signature"] = sign(k1, uscc, values, next_version);
  EXPECT_EQ(ent.post_json(sub(unit) + "/submit", half).error_code(), "MISSING_FIELD");
  EXPECT_EQ(ent.get(sub(unit)).json_body()["state"], head["state"])
      << "refused submits change nothing";

  // A good signature is accepted and stored.
  auto ok = ent.post_json(
      sub(unit) + "/submit",
      with_sig(sign(k1, uscc, values, next_version), security::key_fingerprint(k1.public_key)));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json_body()["signature"]["key_id"], security::key_fingerprint(k1.public_key));
  auto sub_id = ok.json_body()["id"].get<std::int64_t>();
  std::string sig_url = "/api/v1/submissions/" + std::to_string(sub_id) + "/signature";

  // Re-verification now: valid, for the enterprise and staff in scope; refused out of scope.
  auto st = ent.get(sig_url);
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_EQ(st.json_body()["status"], "valid");
  EXPECT_EQ(st.json_body()["key_id"], security::key_fingerprint(k1.public_key));
  EXPECT_EQ(town.get(sig_url).json_body()["status"], "valid");
  auto out = other_ent.get(sig_url);
  EXPECT_EQ(out.status, 403);
  EXPECT_EQ(out.error_code(), "FORBIDDEN");
  EXPECT_EQ(http_request(server_->port(), "GET", sig_url).status, 401);
  EXPECT_EQ(ent.get("/api/v1/submissions/99999999/signature").status, 404);
  // Revoking the key later does not undo a signature made while it was live.
  ASSERT_EQ(
      ent.send("DELETE", keys(unit) + "/" + security::key_fingerprint(k1.public_key), "").status,
      200);
  EXPECT_EQ(ent.get(sig_url).json_body()["status"], "valid");

  // An unsigned submission: the demo's accepted October.
  auto oct = server_->store().read([&](store::Conn& c) {
    return store::find_submission(c, all, unit, "B204-1", "2026M10");
  });
  ASSERT_TRUE(oct.ok() && oct->has_value());
  auto unsigned_st = town.get("/api/v1/submissions/" + std::to_string((*oct)->id) + "/signature");
  ASSERT_EQ(unsigned_st.status, 200);
  EXPECT_EQ(unsigned_st.json_body()["status"], "not_signed");

  // Someone edits the value directly in the database: the signature no longer matches.
  auto tamper = server_->store().write([&](store::Conn& c) {
    return c.exec_script(std::string(c.dialect() == store::Dialect::postgres
                                          ? "UPDATE submissions SET vals = jsonb_set(vals::jsonb, '{I01}', '1.5')::text"
                                          : "UPDATE submissions SET vals = json_set(vals, '$.I01', 1.5)") +
                         " WHERE id = " +
                         std::to_string(sub_id));
  });
  ASSERT_TRUE(tamper.ok()) << tamper.error().message_en;
  auto after = town.get(sig_url);
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.json_body()["status"], "invalid");
  EXPECT_EQ(after.json_body()["valid"], false);
  EXPECT_EQ(after.json_body()["reason"]["code"], "VALUES_CHANGED");

  // Key registration and revocation are in the audit chain.
  EXPECT_EQ(server_->audit("key_register").size(), 3u);
  EXPECT_EQ(server_->audit("key_revoke").size(), 2u);
}

}  // namespace
}  // namespace statgov::testing
