// The statgov binary: command errors exit non-zero with a message; the audit chain detects
// tampering; an acknowledged submission survives kill -9 of the server.
#include "harness.hpp"

#include "store/repos.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <random>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace statgov::testing {
namespace {

using Run = CliRun;
Run run(const std::string& args, const std::string& input = "") { return run_statgov(args, input); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("statgov-cli-" + std::to_string(rd()));
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

TEST_F(Cli, CommandsReportErrorsAndExitNonZero) {
  auto demo = run(base() + "demo --units 30");
  ASSERT_EQ(demo.code, 0) << demo.out;
  EXPECT_NE(demo.out.find("30 units"), std::string::npos);
  EXPECT_NE(run(base() + "demo --units 30").code, 0) << "the demo loads into an empty database only";

  auto bad_role = run(base() + "user add --login x --role king --region 430202000000", "Secret123");
  EXPECT_NE(bad_role.code, 0);
  EXPECT_NE(bad_role.out.find("BAD_ROLE"), std::string::npos);
  auto weak = run(base() + "user add --login zhang --role county --region 430202000000", "short");
  EXPECT_NE(weak.code, 0);
  EXPECT_NE(weak.out.find("WEAK_PASSWORD"), std::string::npos);
  auto bad_region = run(base() + "user add --login zhang --role county --region 43abc", "Secret123");
  EXPECT_NE(bad_region.code, 0);
  auto ok = run(base() + "user add --login zhang --role county --region 430202000000", "Secret123");
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(run(base() + "user add --login zhang --role county --region 430202000000", "Secret123").code, 0);
  EXPECT_EQ(run(base() + "user passwd --login zhang", "Another456").code, 0);
  EXPECT_NE(run(base() + "user passwd --login nobody", "Another456").code, 0);
  EXPECT_EQ(run(base() + "user disable --login zhang").code, 0);
  // A bad --trusted-proxy range stops serve before it listens, naming the range.
  for (const char* bad : {"10.0.0.0/33", "example.org", "10.0.0.1,"}) {
    auto r = run(base() + "serve --listen 127.0.0.1:0 --web '' --trusted-proxy '" + bad + "'");
    EXPECT_EQ(r.code, 1) << bad << ": " << r.out;
    EXPECT_NE(r.out.find("BAD_CIDR"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("地址范围无效"), std::string::npos) << r.out;
  }

  std::ofstream(dir_ / "bad.json") << "{ not json";
  EXPECT_NE(run(base() + "import form " + (dir_ / "bad.json").string()).code, 0);
  std::ofstream(dir_ / "badform.json") << R"({"code":"X1","name":"x","frequency":"weekly","indicators":[]})";
  auto bf = run(base() + "import form " + (dir_ / "badform.json").string());
  EXPECT_NE(bf.code, 0);
  EXPECT_NE(bf.out.find("FORM_INVALID"), std::string::npos);
  std::ofstream(dir_ / "badrule.json")
      << R"({"code":"X2","name":"x","frequency":"month","indicators":[{"code":"A","name":"a"}],)"
      << R"("rules":[{"name":"r","severity":"error","expr":"A >\n (","message":"m"}]})";
  auto br = run(base() + "import form " + (dir_ / "badrule.json").string());
  EXPECT_NE(br.code, 0);
  EXPECT_NE(br.out.find("\"line\":2"), std::string::npos) << br.out;
  EXPECT_NE(run(base() + "import units " + (dir_ / "missing.csv").string()).code, 0);
  EXPECT_NE(run(base() + "no-such-command").code, 0);
}

// The TOTP key file: created 0600, never overwritten, and serve refuses a bad one at start-up.
TEST_F(Cli, TotpKeyFile) {
  auto key = (dir_ / "totp.key").string();
  auto made = run("totp keygen --out " + key);
  ASSERT_EQ(made.code, 0) << made.out;
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = run("totp keygen --out " + key);
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.out.find("FILE_EXISTS"), std::string::npos) << again.out;
  std::ofstream(dir_ / "bad.key") << "not a key\n";
  auto bad = run(base() + "serve --listen 127.0.0.1:0 --totp-key " + (dir_ / "bad.key").string());
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("BAD_SEAL_KEY"), std::string::npos) << bad.out;
  // reseal and reset open the database; their errors name the cause.
  ASSERT_EQ(run(base() + "demo --units 20").code, 0);
  auto resealed = run(base() + "totp reseal --key " + key);
  EXPECT_EQ(resealed.code, 0) << resealed.out;
  EXPECT_NE(resealed.out.find("0 one-time code secrets sealed"), std::string::npos) << resealed.out;
  auto bad_new = run(base() + "totp reseal --key " + (dir_ / "bad.key").string());
  EXPECT_NE(bad_new.code, 0);
  EXPECT_NE(bad_new.out.find("BAD_SEAL_KEY"), std::string::npos) << bad_new.out;
  EXPECT_NE(run(base() + "totp reseal --key " + (dir_ / "missing.key").string()).code, 0);
  auto nobody = run(base() + "totp reset --login nobody");
  EXPECT_NE(nobody.code, 0);
  EXPECT_NE(nobody.out.find("USER_NOT_FOUND"), std::string::npos) << nobody.out;
  auto none = run(base() + "totp reset --login demo-admin");
  EXPECT_NE(none.code, 0);
  EXPECT_NE(none.out.find("TOTP_NOT_ENABLED"), std::string::npos) << none.out;
}

// --data names the reference data and forms folder wherever statgov runs (demo ignored it once and
// read ./data, so it only worked from the checkout's root).
TEST_F(Cli, DemoReadsTheDataFolderItIsGiven) {
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);  // no ./data here
  auto demo = run(base() + "demo --units 20");
  std::filesystem::current_path(cwd);
  ASSERT_EQ(demo.code, 0) << demo.out;
  EXPECT_NE(demo.out.find("20 units"), std::string::npos) << demo.out;
}

TEST_F(Cli, AuditChainDetectsTampering) {
  ASSERT_EQ(run(base() + "demo --units 20").code, 0);
  auto v = run(base() + "audit verify");
  ASSERT_EQ(v.code, 0) << v.out;
  EXPECT_NE(v.out.find("audit chain ok"), std::string::npos);
  {
    auto s = store::Store::open(db_);
    ASSERT_TRUE(s.ok());
    auto st = (*s)->write([](store::Conn& c) -> Status {
      return c.exec_script("UPDATE audit_log SET actor = 'mallory' WHERE id = 2");
    });
    ASSERT_TRUE(st.ok());
  }
  auto bad = run(base() + "audit verify");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("entry 2"), std::string::npos) << bad.out;
}

TEST_F(Cli, BackupAndRestore) {
  ASSERT_EQ(run(base() + "demo --units 20").code, 0);
  std::string copy = (dir_ / "copy.db").string();
  if (test_db_->postgres()) {
    // Both are about SQLite files; on PostgreSQL they say what to use instead and touch nothing.
    auto b = run(base() + "backup --to " + copy);
    EXPECT_NE(b.code, 0);
    EXPECT_NE(b.out.find("pg_basebackup"), std::string::npos) << b.out;
    EXPECT_FALSE(std::filesystem::exists(copy));
    std::ofstream(dir_ / "other.db") << "x";
    auto r = run(base() + "restore --from " + (dir_ / "other.db").string());
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.out.find("pg_basebackup"), std::string::npos) << r.out;
    EXPECT_EQ(run(base() + "user passwd --login demo-admin", "Secret789").code, 0) << "the database is untouched";
    return;
  }
  auto b = run(base() + "backup --to " + copy);
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_NE(run(base() + "backup --to " + copy).code, 0) << "never overwrites";
  // Change the live database, then restore: the change is gone, the backup's data is back.
  ASSERT_EQ(run(base() + "user add --login later --role city --region 430200000000", "Secret123").code, 0);
  auto r = run(base() + "restore --from " + copy);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(run(base() + "user passwd --login later", "Secret456").code, 0) << "restored to before the user existed";
  EXPECT_EQ(run(base() + "user passwd --login demo-shi", "Secret456").code, 0);
  std::ofstream(dir_ / "junk.db") << "not a database";
  EXPECT_NE(run(base() + "restore --from " + (dir_ / "junk.db").string()).code, 0);
  EXPECT_EQ(run(base() + "user passwd --login demo-admin", "Secret789").code, 0) << "a failed restore changes nothing";
}

TEST_F(Cli, AcknowledgedSubmissionSurvivesKill9) {
  ASSERT_EQ(run(base() + "demo --units 20").code, 0);
  std::string port_file = (dir_ / "port").string();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string listen = "127.0.0.1:0";
    execl(STATGOV_BINARY, STATGOV_BINARY, "--db", db_.c_str(), "--data", data_.c_str(), "--log-level", "warn",
          "serve", "--listen", listen.c_str(), "--web", "", "--port-file", port_file.c_str(), nullptr);
    _exit(127);
  }
  unsigned short port = 0;
  for (int i = 0; i < 100 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(port_file);
    int p = 0;
    if (in >> p) port = static_cast<unsigned short>(p);
  }
  ASSERT_NE(port, 0);
  Client c(port);
  ASSERT_EQ(c.login("demo-qiye", kDemoPassword).status, 200);
  auto me = c.get("/api/v1/me").json_body();
  std::string unit = std::to_string(me["user"]["unit_id"].get<std::int64_t>());
  // A quarterly draft, then kill -9 right after the acknowledgement.
  auto r = c.send("PUT", "/api/v1/submissions/" + unit + "/202-1/2026Q4/draft",
                  R"({"values":{"E01":50,"E02":20,"E03":49,"E04":900.5}})");
  ASSERT_EQ(r.status, 200) << r.body;
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  auto s = store::Store::open(db_);
  ASSERT_TRUE(s.ok());
  domain::Scope all;
  auto row = (*s)->read([&](store::Conn& conn) {
    return store::find_submission(conn, all, std::stoll(unit), "202-1", "2026Q4");
  });
  ASSERT_TRUE(row.ok());
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ((*row)->values["E04"], 900.5);
}

}  // namespace
}  // namespace statgov::testing
