// Storage faults (issue 6, fault test 3, in small): a full disk and a read-only database. Writes get
// 503 with a clear code and message, nothing acknowledged before is lost, reads go on, and the
// server recovers by itself when the condition ends. The conditions are made in SQLite itself on
// the writer connection: max_page_count makes the database "full" exactly as a full disk does
// (SQLITE_FULL), query_only makes it refuse writes as a read-only file does (SQLITE_READONLY). The
// same on a real full file system is in bench/fault/ (tmpfs).
#include "harness.hpp"

#include "store/repos.hpp"

#include <gtest/gtest.h>

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
    ASSERT_TRUE(server_->store().write([&](store::SqliteConn& c) { return c.exec_script(sql); }).ok()) << sql;
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
  Client c(server_->port());
  ASSERT_EQ(c.login("demo-qiye", kDemoPassword).status, 200);
  auto ok = c.send("PUT", draft(), json{{"values", {{"I01", 111.0}}}}.dump());
  ASSERT_EQ(ok.status, 200) << ok.body;

  // Fill the "disk": no page may be added beyond what the file holds now. A large explanation
  // makes the next write need new pages.
  std::int64_t pages = 0;
  ASSERT_TRUE(server_->store().read([&](store::SqliteConn& conn) -> Status {
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
  ASSERT_TRUE(server_->store().read([](store::SqliteConn& conn) -> Status {
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
  ASSERT_TRUE(server_->store().exec_on_writer_alone("PRAGMA query_only = 1").ok());
  auto r = c.send("PUT", draft(), json{{"values", {{"I01", 555.0}}}}.dump());
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.error_code(), "STORAGE_READ_ONLY") << r.body;
  EXPECT_DOUBLE_EQ(saved_i01(c), 444.0);
  // Writable again: the next request succeeds without a restart.
  ASSERT_TRUE(server_->store().exec_on_writer_alone("PRAGMA query_only = 0").ok());
  ASSERT_EQ(c.send("PUT", draft(), json{{"values", {{"I01", 666.0}}}}.dump()).status, 200);
  EXPECT_DOUBLE_EQ(saved_i01(c), 666.0);
}

}  // namespace
}  // namespace statgov::testing
