// The parts of the PostgreSQL backend that need no server: parameter translation, the error
// mapping, conninfo handling.
#include "store/postgres.hpp"
#include "store/test_database.hpp"

#include <gtest/gtest.h>

namespace statgov::store {
namespace {

TEST(PostgresSql, ParametersAreNumberedAsSqliteNumbersThem) {
  auto t = translate_placeholders("SELECT a FROM t WHERE b = :b AND c = ? AND d = :b AND e = ?5 AND f = ?");
  EXPECT_EQ(t.sql, "SELECT a FROM t WHERE b = $1 AND c = $2 AND d = $1 AND e = $5 AND f = $6");
  EXPECT_EQ(t.params, 6);
  ASSERT_EQ(t.names.size(), 1u);
  EXPECT_EQ(t.names[0].first, ":b");
  EXPECT_EQ(t.names[0].second, 1);
}

TEST(PostgresSql, LiteralsCommentsAndCastsAreLeftAlone) {
  auto t = translate_placeholders(
      "SELECT ':x ?', 'it''s :y', \"col:z\", v::text, x -- :c ?\n, y /* :d ? */ FROM t WHERE a = :a_1");
  EXPECT_EQ(t.sql, "SELECT ':x ?', 'it''s :y', \"col:z\", v::text, x -- :c ?\n, y /* :d ? */ FROM t WHERE a = $1");
  EXPECT_EQ(t.params, 1);
  ASSERT_EQ(t.names.size(), 1u);
  EXPECT_EQ(t.names[0].first, ":a_1");
  // An unterminated literal is copied to the end (the server reports the syntax error).
  EXPECT_EQ(translate_placeholders("SELECT 'abc :x").sql, "SELECT 'abc :x");
}

TEST(PostgresErrors, MapToTheSameCodesAsSqlite) {
  EXPECT_EQ(pg_error_from("23505", "duplicate key", true, "x").kind, ErrorKind::conflict);
  EXPECT_EQ(pg_error_from("23505", "duplicate key", true, "x").code, "CONFLICT");
  EXPECT_EQ(pg_error_from("23503", "foreign key", true, "x").code, "CONFLICT");
  auto full = pg_error_from("53100", "could not extend file", true, "INSERT INTO t");
  EXPECT_EQ(full.kind, ErrorKind::unavailable);
  EXPECT_EQ(full.code, "STORAGE_FULL");
  EXPECT_EQ(full.message_en.find("INSERT"), std::string::npos) << "no SQL for the client";
  EXPECT_EQ(pg_error_from("25006", "read-only transaction", true, "x").code, "STORAGE_READ_ONLY");
  EXPECT_EQ(pg_error_from("25006", "read-only transaction", true, "x").kind, ErrorKind::unavailable);
  for (const char* lost : {"57P01", "57P02", "57P03", "08006", ""}) {
    auto e = pg_error_from(lost, "terminating connection", true, "x");
    EXPECT_EQ(e.kind, ErrorKind::unavailable) << lost;
    EXPECT_EQ(e.code, "STORAGE_IO") << lost;
  }
  EXPECT_EQ(pg_error_from("42P01", "no such table", false, "x").kind, ErrorKind::unavailable)
      << "whatever the server said, a connection that broke is unavailable";
  EXPECT_EQ(pg_error_from("40001", "serialization", true, "x").code, "STORAGE_BUSY");
  EXPECT_EQ(pg_error_from("40P01", "deadlock", true, "x").code, "STORAGE_BUSY");
  EXPECT_EQ(pg_error_from("22021", "invalid byte sequence", true, "x").kind, ErrorKind::invalid);
  auto bug = pg_error_from("42601", "syntax error", true, "SELEC 1");
  EXPECT_EQ(bug.kind, ErrorKind::internal);
  EXPECT_EQ(bug.code, "STORAGE");
}

TEST(PostgresTarget, RecognisedAndRewritten) {
  EXPECT_TRUE(is_postgres_target("postgresql://u@h:5432/db"));
  EXPECT_TRUE(is_postgres_target("postgres://h/db"));
  EXPECT_TRUE(is_postgres_target("host=/tmp dbname=x"));
  EXPECT_FALSE(is_postgres_target("var/statgov.db"));
  EXPECT_FALSE(is_postgres_target("/tmp/a=b.db"));
  EXPECT_EQ(with_dbname("postgresql://postgres@127.0.0.1:54329/postgres", "sgt_1"),
            "postgresql://postgres@127.0.0.1:54329/sgt_1");
  EXPECT_EQ(with_dbname("postgresql://h:1/postgres?sslmode=disable", "sgt_1"), "postgresql://h:1/sgt_1?sslmode=disable");
  EXPECT_EQ(with_dbname("postgresql://h:1", "sgt_1"), "postgresql://h:1/sgt_1");
  EXPECT_EQ(with_dbname("postgresql://h:1?x=y", "sgt_1"), "postgresql://h:1/sgt_1?x=y");
  EXPECT_EQ(with_dbname("host=h dbname=postgres", "sgt_1"), "host=h dbname=postgres dbname=sgt_1");
  EXPECT_EQ(redact_target("postgresql://u:secret@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_target("host=h password=secret dbname=x"), "host=h password=*** dbname=x");
  EXPECT_EQ(redact_target("postgresql://h/db?password=secret&x=1"), "postgresql://h/db?password=***&x=1");
}

TEST(PostgresTarget, UnreachableServerIsAClearUnavailableError) {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  auto c = Conn::open("postgresql://nobody:pw@127.0.0.1:1/none?connect_timeout=2", false);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::unavailable);
  EXPECT_NE(c.error().message_en.find("127.0.0.1"), std::string::npos) << c.error().message_en;
  EXPECT_EQ(c.error().message_en.find("pw@"), std::string::npos) << "no password in messages";
}

}  // namespace
}  // namespace statgov::store
