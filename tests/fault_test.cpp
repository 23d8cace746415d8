// Storage faults (issue 6, fault test 3, in small): a full disk and a read-only database. Writes get
// 503 with a clear code and message, nothing acknowledged before is lost, reads go on, and the
// server recovers by itself when the condition ends. The conditions are made in SQLite itself on
// the writer connection: max_page_count makes the database "full" exactly as a full disk does
// (SQLITE_FULL), query_only makes it refuse writes as a read-only file does (SQLITE_READONLY). The
// same on a real full file system, at full size, is bench/storage_fault_bench --fault disk-full (tmpfs).
#include "harness.hpp"

#include "store/repos.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace statgov::testing {
namespace {

class StorageFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(20); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static TestServer* server_;

  std::string draft() const {
    return "/api/v1/submissions/" + std::to_string(server_->demo_unit()) + "/B204-1/2026M11/draft";
  }
  // Run a PRAGMA on the writer connection (the only one that writes).
  void pragma(const std::string& sql) {
    ASSERT_TRUE(server_->store().write([&](store::Conn& c) { return c.exec_script(sql); }).ok()) << sql;
  }
  double saved_i01(Client& c) {
    auto r = c.get("/api/v1/submissions/" + std::to_string(server_->demo_unit()) + "/B204-1/2026M11");
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = r.json_body();
    EXPECT_TRUE(j.contains("values")) << r.body.substr(0, 300);
    return j["values"].value("I01", -1.0);
  }
};
TestServer* StorageFaults::server_ = nullptr;

TEST_F(StorageFaults, FullDiskAnswers503AndRecovers) {
  // PostgreSQL's disk-full (53100) mapping is checked in store/postgres_test.cpp.
  SG_SKIP_ON_POSTGRES("fills the SQLite file with max_page_count; PostgreSQL has no such knob");
  Client c(server_->port());
  ASSERT_EQ(c.login("demo-qiye", kDemoPassword).status, 200);
  auto ok = c.send("PUT", draft(), json{{"values", {{"I01", 111.0}}}}.dump());
  ASSERT_EQ(ok.status, 200) << ok.body;

  // Fill the "disk": no page may be added beyond what the file holds now. A large explanation
  // makes the next write need new pages.
  std::int64_t pages = 0;
  ASSERT_TRUE(server_->store().read([&](store::Conn& conn) -> Status {
    SG_ASSIGN_OR_RETURN(auto st, conn.prepare("PRAGMA page_count"));
    SG_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) pages = st.int64(0);
    return Ok{};
  }).ok());
  ASSERT_GT(pages, 0);
  pragma("PRAGMA max_page_count = " + std::to_string(pages));
  const std::string big(200000, 'x');
  int refused = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = c.send("PUT", draft(), json{{"values", {{"I01", 222.0}}}, {"explanations", {{"note", big + std::to_string(i)}}}}.dump());
    EXPECT_EQ(r.status, 503) << r.body;
    if (r.status == 503) {
      ++refused;
      EXPECT_EQ(r.error_code(), "STORAGE_FULL") << r.body;
      auto e = r.json_body()["error"];
      EXPECT_NE(e["message"].get<std::string>().find("存储空间已满"), std::string::npos);
      EXPECT_NE(e["message_en"].get<std::string>().find("storage is full"), std::string::npos);
      EXPECT_EQ(r.body.find("INSERT"), std::string::npos) << "no SQL in responses";
      EXPECT_EQ(r.headers["retry-after"], "30");
    }
  }
  EXPECT_EQ(refused, 3);
  // Reads go on, and what was acknowledged is there.
  EXPECT_DOUBLE_EQ(saved_i01(c), 111.0);
  EXPECT_EQ(http_request(server_->port(), "GET", "/healthz").status, 200);

  // Space returns: the same request now succeeds, without a restart.
  pragma("PRAGMA max_page_count = 1073741823");
  auto again = c.send("PUT", draft(), json{{"values", {{"I01", 333.0}}}, {"explanations", {{"note", big}}}}.dump());
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_DOUBLE_EQ(saved_i01(c), 333.0);
  ASSERT_TRUE(server_->store().read([](store::Conn& conn) -> Status {
    SG_ASSIGN_OR_RETURN(auto st, conn.prepare("PRAGMA integrity_check"));
    SG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row || st.text(0) != "ok") {
      return make_error(ErrorKind::internal, "CORRUPT", "损坏", "integrity_check failed");
    }
    return Ok{};
  }).ok());
}

TEST_F(StorageFaults, ReadOnlyDatabaseAnswers503AndRecovers) {
  Client c(server_->port());
  ASSERT_EQ(c.login("demo-qiye", kDemoPassword).status, 200);
  ASSERT_EQ(c.send("PUT", draft(), json{{"values", {{"I01", 444.0}}}}.dump()).status, 200);
  // SQLite: query_only makes it refuse writes as a read-only file does; PostgreSQL: read-only
  // transactions refuse them as a standby does (25006).
  const bool pg = server_->store().dialect() == store::Dialect::postgres;
  ASSERT_TRUE(server_->store().exec_on_writer_alone(pg ? "SET default_transaction_read_only = on" : "PRAGMA query_only = 1").ok());
  auto r = c.send("PUT", draft(), json{{"values", {{"I01", 555.0}}}}.dump());
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.error_code(), "STORAGE_READ_ONLY") << r.body;
  EXPECT_DOUBLE_EQ(saved_i01(c), 444.0);
  // Writable again: the next request succeeds without a restart.
  ASSERT_TRUE(server_->store().exec_on_writer_alone(pg ? "SET default_transaction_read_only = off" : "PRAGMA query_only = 0").ok());
  ASSERT_EQ(c.send("PUT", draft(), json{{"values", {{"I01", 666.0}}}}.dump()).status, 200);
  EXPECT_DOUBLE_EQ(saved_i01(c), 666.0);
}

// Fault test 4, in small: a backup taken while writers keep committing holds every write that was
// acknowledged before the backup began, and the copy passes SQLite's integrity check.
TEST_F(StorageFaults, BackupUnderLoadHoldsEveryAcknowledgedWrite) {
  SG_SKIP_ON_POSTGRES("SQLite's online backup API; PostgreSQL is backed up with pg_basebackup");
  domain::Scope all;
  auto units = server_->store().read([&](store::Conn& c) { return store::all_units(c, all); }).value();
  ASSERT_GE(units.size(), 4u);
  std::atomic<bool> began{false}, stop{false};
  std::mutex mu;
  std::vector<std::pair<std::int64_t, std::string>> before;  // acknowledged before the backup began
  int after = 0;
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load() && i < 5000; ++i) {
        store::SubmissionRow s;
        s.unit_id = units[static_cast<std::size_t>(t)].id;
        s.form_code = "B204-1";
        s.form_version = 1;
        s.period = std::to_string(2100 + i) + "M01";  // a period no other test uses
        s.region = units[static_cast<std::size_t>(t)].region;
        s.state = "draft";
        s.version = 1;
        s.values = {{"I01", i}};
        const bool ok = server_->store().write([&](store::Conn& c) { return store::save_submission(c, s); }).ok();
        const bool was_before = !began.load();
        std::lock_guard lock(mu);
        if (!ok) continue;
        if (was_before) before.emplace_back(s.unit_id, s.period);
        else ++after;
      }
    });
  }
  // Let the writers get going, then back up while they write.
  while (true) {
    {
      std::lock_guard lock(mu);
      if (before.size() >= 200) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::string copy = (server_->dir() / "under-load.db").string();
  began.store(true);
  Status backed = server_->store().backup_to(copy);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // writes go on after it, too
  stop.store(true);
  for (auto& w : writers) w.join();
  ASSERT_TRUE(backed.ok()) << backed.error().message_en;
  EXPECT_GT(after, 0) << "the writers kept writing during and after the backup";

  auto restored = store::Store::open(copy, 1);
  ASSERT_TRUE(restored.ok()) << restored.error().message_en;
  ASSERT_TRUE((*restored)->read([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto check, c.prepare("PRAGMA integrity_check"));
    SG_ASSIGN_OR_RETURN(bool row, check.step());
    if (!row || check.text(0) != "ok") {
      return make_error(ErrorKind::internal, "CORRUPT", "损坏", "integrity_check failed on the backup");
    }
    SG_ASSIGN_OR_RETURN(auto find, c.prepare("SELECT count(*) FROM submissions WHERE unit_id = ?1 AND form_code = 'B204-1' AND period = ?2"));
    std::size_t missing = 0;
    for (const auto& [unit, period] : before) {
      find.reset();
      find.bind(1, unit);
      find.bind(2, period);
      SG_ASSIGN_OR_RETURN(bool r, find.step());
      if (!r || find.int64(0) != 1) ++missing;
    }
    if (missing != 0) {
      return make_error(ErrorKind::internal, "LOST", "备份缺少已确认的数据",
                        std::to_string(missing) + " acknowledged writes missing from the backup");
    }
    return Ok{};
  }).ok());
}

}  // namespace
}  // namespace statgov::testing
