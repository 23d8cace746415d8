// The security commands of the statgov binary (issue #7): Ed25519 keys and submission signatures
// for API clients, and the signed audit head that detects a rewrite of the history before it,
// even one that recomputes every hash of the chain.
#include "harness.hpp"

#include "base/crypto.hpp"
#include "security/signing.hpp"
#include "store/repos.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <fstream>
#include <random>
#include <sstream>

namespace statgov::testing {
namespace {

using Run = CliRun;
Run run(const std::string& args, const std::string& input = "") { return run_statgov(args, input); }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SecurityCli : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto_init();
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("statgov-seccli-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    test_db_ = std::make_unique<store::TestDatabase>(dir_ / "c.db");
    db_ = test_db_->target();
    data_ = std::string(STATGOV_SOURCE_DIR) + "/data";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string base() const { return "--db '" + db_ + "' --data " + data_ + " "; }
  std::filesystem::path dir_;
  std::unique_ptr<store::TestDatabase> test_db_;
  std::string db_, data_;
};

TEST_F(SecurityCli, KeygenAndSignSubmission) {
  auto gen = run("sign keygen --out " + (dir_ / "keys").string());
  ASSERT_EQ(gen.code, 0) << gen.out;
  auto info = json::parse(gen.out, nullptr, false);
  ASSERT_TRUE(info.is_object()) << gen.out;
  auto key = security::parse_private_key(slurp(dir_ / "keys" / "signing-key.jwk"));
  ASSERT_TRUE(key.ok());
  auto pub = security::parse_public_key(slurp(dir_ / "keys" / "signing-key.pub"));
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, key->public_key);
  EXPECT_EQ(info["key_id"], security::key_fingerprint(key->public_key));
  auto perms = std::filesystem::status(dir_ / "keys" / "signing-key.jwk").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::others_read, std::filesystem::perms::none)
      << "the private key is private";
  EXPECT_NE(run("sign keygen --out " + (dir_ / "keys").string()).code, 0)
      << "never overwrites a key";

  // Keys and values in any order and number format: the signature covers the canonical form.
  std::ofstream(dir_ / "payload.json")
      << R"({"version": 2, "values": {"I03": 9.0, "I01": 10.50}, "unit_uscc": "91430200MA4L000001", )"
      << R"("period": "2026M11", "form": "B204-1"})";
  auto sig = run("sign submission --key " + (dir_ / "keys" / "signing-key.jwk").string() +
                 " --payload " + (dir_ / "payload.json").string());
  ASSERT_EQ(sig.code, 0) << sig.out;
  auto out = json::parse(sig.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << sig.out;
  auto raw = security::base64_decode(out["signature"].get<std::string>());
  ASSERT_TRUE(raw.ok());
  std::string canonical =
      R"({"form":"B204-1","period":"2026M11","unit_uscc":"91430200MA4L000001","values":{"I01":10.5,"I03":9},"version":2})";
  EXPECT_TRUE(security::ed25519_verify(key->public_key, canonical, *raw));
  EXPECT_EQ(out["payload_sha256"], sha256_hex(canonical));

  std::ofstream(dir_ / "wrong.json") << R"({"values": {}, "version": 1})";
  auto refused = run("sign submission --key " + (dir_ / "keys" / "signing-key.jwk").string() +
                     " --payload " + (dir_ / "wrong.json").string());
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.out.find("docs/signatures.md"), std::string::npos);
  std::ofstream(dir_ / "notakey") << "hello";
  EXPECT_NE(run("sign submission --key " + (dir_ / "notakey").string() + " --payload " +
                (dir_ / "payload.json").string())
                .code,
            0);
}

TEST_F(SecurityCli, SignedAuditHeadDetectsRewrittenHistory) {
  ASSERT_EQ(run(base() + "demo --units 20").code, 0);
  ASSERT_EQ(run("sign keygen --out " + (dir_ / "k").string()).code, 0);
  ASSERT_EQ(run("sign keygen --out " + (dir_ / "other").string()).code, 0);
  const std::string key = (dir_ / "k" / "signing-key.jwk").string();
  const std::string pub = (dir_ / "k" / "signing-key.pub").string();

  auto head = run(base() + "audit head --key " + key);
  ASSERT_EQ(head.code, 0) << head.out;
  auto h = json::parse(head.out, nullptr, false);
  ASSERT_TRUE(h.is_object()) << head.out;
  EXPECT_GT(h["count"].get<int>(), 0);
  EXPECT_EQ(h["head_hash"].get<std::string>().size(), 64u);
  EXPECT_FALSE(h["signature"].get<std::string>().empty());
  const auto head_file = (dir_ / "head.json").string();
  std::ofstream(head_file) << head.out;

  auto ok = run(base() + "audit verify --head " + head_file + " --pub " + pub);
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("audit chain ok"), std::string::npos);
  // Later entries do not matter: the head is still in place.
  ASSERT_EQ(
      run(base() + "user add --login li --role county --region 430202000000", "Secret123").code, 0);
  EXPECT_EQ(run(base() + "audit verify --head " + head_file + " --pub " + pub).code, 0);

  // The wrong public key, or an edited head file: the signature fails.
  auto wrong_key = run(base() + "audit verify --head " + head_file + " --pub " +
                       (dir_ / "other" / "signing-key.pub").string());
  EXPECT_NE(wrong_key.code, 0);
  EXPECT_NE(wrong_key.out.find("HEAD_SIGNATURE_INVALID"), std::string::npos);
  json edited = h;
  edited["count"] = h["count"].get<int>() - 1;
  std::ofstream(dir_ / "edited.json") << edited.dump();
  EXPECT_NE(
      run(base() + "audit verify --head " + (dir_ / "edited.json").string() + " --pub " + pub).code,
      0);
  EXPECT_NE(run(base() + "audit verify --head " + head_file).code, 0) << "--head needs --pub";

  // Rewrite the history before the head and recompute every hash: the plain chain check passes,
  // the head check does not.
  {
    auto st = store::Store::open(db_);
    ASSERT_TRUE(st.ok());
    auto done = (*st)->write([](store::Conn& c) -> Status {
      SG_ASSIGN_OR_RETURN(auto rows, store::list_audit(c));
      SG_TRY(c.exec_script("DELETE FROM audit_log WHERE id = " + std::to_string(rows[1].id)));
      rows.erase(rows.begin() + 1);
      std::string prev(64, '0');
      for (auto& r : rows) {
        r.prev_hash = prev;
        r.hash = store::audit_hash(r);
        prev = r.hash;
        SG_ASSIGN_OR_RETURN(
            auto upd, c.prepare("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :id"));
        upd.set(":p", r.prev_hash).set(":h", r.hash).set(":id", r.id);
        SG_TRY(upd.exec());
      }
      return Ok{};
    });
    ASSERT_TRUE(done.ok()) << done.error().message_en;
  }
  EXPECT_EQ(run(base() + "audit verify").code, 0) << "a consistent rewrite fools the chain alone";
  auto caught = run(base() + "audit verify --head " + head_file + " --pub " + pub);
  EXPECT_NE(caught.code, 0) << caught.out;
  EXPECT_NE(caught.out.find("HEAD_MISMATCH"), std::string::npos) << caught.out;
}

}  // namespace
}  // namespace statgov::testing
