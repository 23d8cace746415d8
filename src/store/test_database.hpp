// The database one test runs against, from one place for every test (issue #6): a SQLite file
// by default; when the environment variable STATGOV_TEST_PG holds a PostgreSQL conninfo URL
// (postgresql://postgres@127.0.0.1:54329/postgres), a fresh database sgt_<random> created on that
// server and dropped again at the end. Used by tests only; nothing in the product links it in.
#pragma once

#include <filesystem>
#include <string>

namespace statgov::store {

class TestDatabase {
 public:
  // sqlite_file: where the SQLite database goes when no PostgreSQL server is named.
  // Throws std::runtime_error if the PostgreSQL database can't be created.
  explicit TestDatabase(const std::filesystem::path& sqlite_file);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // What Store::open and `statgov --db` take.
  const std::string& target() const { return target_; }
  bool postgres() const { return !name_.empty(); }

  // true when STATGOV_TEST_PG is set: the run is on PostgreSQL.
  static bool postgres_run();

 private:
  std::string admin_;   // STATGOV_TEST_PG
  std::string name_;    // sgt_..., empty on SQLite
  std::string target_;
};

// `target` (URL or keyword string) with its database name replaced by `dbname`.
std::string with_dbname(const std::string& target, const std::string& dbname);

}  // namespace statgov::store

// For the few tests that are about SQLite itself (its files, its backup API, its PRAGMAs).
#define SG_SKIP_ON_POSTGRES(why)                                               \
  do {                                                                         \
    if (::statgov::store::TestDatabase::postgres_run()) GTEST_SKIP() << (why); \
  } while (0)
