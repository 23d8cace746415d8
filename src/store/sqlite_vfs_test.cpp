// The WAL-buffering VFS (sqlite_vfs.cpp): a commit reaches the file in a few writes, and nothing a
// commit wrote is missing for the connection itself, for other connections (whatever the
// synchronous setting) or after a write that failed.
#include "store/sqlite_vfs.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <random>
#include <string>

namespace statgov::store {
namespace {

// The default VFS's write system calls, counted (and failed with ENOSPC when asked) in this
// process.
int writes = 0;
bool fail_writes = false;
sqlite3_syscall_ptr real_pwrite = nullptr;
sqlite3_syscall_ptr real_pwrite64 = nullptr;
sqlite3_syscall_ptr real_write = nullptr;

// Counts a write; true when it is to fail (with errno set as a full disk sets it).
bool refused() {
  ++writes;
  if (!fail_writes) return false;
  errno = ENOSPC;
  return true;
}
using Pwrite = ssize_t (*)(int, const void*, size_t, off_t);
using Write = ssize_t (*)(int, const void*, size_t);
template <sqlite3_syscall_ptr* real>
ssize_t counted_pwrite(int fd, const void* buf, size_t n, off_t off) {
  return refused() ? -1 : reinterpret_cast<Pwrite>(*real)(fd, buf, n, off);
}
ssize_t counted_write(int fd, const void* buf, size_t n) {
  return refused() ? -1 : reinterpret_cast<Write>(real_write)(fd, buf, n);
}

class WalBufferingVfs : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(wal_buffering_vfs(), nullptr);
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("statgov-vfs-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "v.db").string();
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    real_pwrite = base->xGetSystemCall(base, "pwrite");
    real_pwrite64 = base->xGetSystemCall(base, "pwrite64");
    real_write = base->xGetSystemCall(base, "write");
    if (real_pwrite) {
      base->xSetSystemCall(base, "pwrite",
                           reinterpret_cast<sqlite3_syscall_ptr>(counted_pwrite<&real_pwrite>));
    }
    if (real_pwrite64) {
      base->xSetSystemCall(base, "pwrite64",
                           reinterpret_cast<sqlite3_syscall_ptr>(counted_pwrite<&real_pwrite64>));
    }
    if (real_write) {
      base->xSetSystemCall(base, "write", reinterpret_cast<sqlite3_syscall_ptr>(counted_write));
    }
    writes = 0;
    fail_writes = false;
  }
  void TearDown() override {
    if (db_) sqlite3_close_v2(db_);
    if (other_) sqlite3_close_v2(other_);
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    base->xSetSystemCall(base, nullptr, nullptr);  // every system call back to its default
    fail_writes = false;
    std::filesystem::remove_all(dir_);
  }
  // The writing connection, through the VFS.
  bool open_writer(const std::string& pragmas) {
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        wal_buffering_vfs()) != SQLITE_OK) {
      return false;
    }
    return exec_rc(db_, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; " + pragmas +
                            "CREATE TABLE t (i INTEGER PRIMARY KEY, b BLOB NOT NULL);") ==
           SQLITE_OK;
  }
  // Another connection, through SQLite's default VFS.
  sqlite3* other() {
    if (!other_) {
      EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &other_, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    }
    return other_;
  }
  static void exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  static int exec_rc(sqlite3* db, const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  static std::string text(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    std::string out;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    } else {
      out = "error " + std::to_string(rc) + ": " + sqlite3_errmsg(db);
    }
    sqlite3_finalize(st);
    return out;
  }
  // Rows from..from+n-1 of 1000 bytes each, row i filled with the letter 'A' + i % 26.
  static std::string insert_rows(int from, int n) {
    return "WITH RECURSIVE s(v) AS (SELECT " + std::to_string(from) +
           " UNION ALL SELECT v + 1 FROM s WHERE v < " + std::to_string(from + n - 1) +
           ") INSERT INTO t (i, b) SELECT v, " + letters("v") + " FROM s;";
  }
  // 1000 bytes of the letter 'A' + (expr) % 26.
  static std::string letters(const std::string& expr) {
    return "CAST(replace(hex(zeroblob(1000)), '00', char(65 + (" + expr + ") % 26)) AS BLOB)";
  }
  // What the other connection finds: rows, bytes, and a checksum of their contents.
  static std::string summary(sqlite3* db) {
    return text(db,
                "SELECT count(*) || ' ' || sum(length(b)) || ' ' || sum(unicode(substr(b, 1, 1)) * "
                "i) FROM t");
  }
  static std::string expected_summary(int from, int n) {
    long long count = 0, bytes = 0, check = 0;
    for (int i = from; i < from + n; ++i) {
      ++count;
      bytes += 1000;
      check += static_cast<long long>(65 + i % 26) * i;
    }
    return std::to_string(count) + " " + std::to_string(bytes) + " " + std::to_string(check);
  }

  std::filesystem::path dir_;
  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3* other_ = nullptr;
};

TEST_F(WalBufferingVfs, ACommitReachesTheFileInAFewWritesAndOthersReadItWhole) {
  ASSERT_TRUE(open_writer("PRAGMA synchronous=FULL;"));
  writes = 0;
  exec(db_, "BEGIN;" + insert_rows(1, 300) + "COMMIT;");
  // 300 rows of 1000 bytes: about 80 pages, each written by SQLite as a frame header and a page
  // (about 160 writes); gathered, they are three or four writes of at most 124 KiB.
  EXPECT_GT(writes, 0);
  EXPECT_LE(writes, 8);
  EXPECT_EQ(summary(other()), expected_summary(1, 300));
  EXPECT_EQ(text(other(), "PRAGMA integrity_check"), "ok");
}

TEST_F(WalBufferingVfs, ACommitWithoutSyncIsInTheFileBeforeAnotherConnectionSeesIt) {
  // No sync at commit (the VFS gets no xSync): only the flush at SQLite's shared-memory barrier,
  // before the commit is published, puts the frames in the file for the other connection.
  ASSERT_TRUE(open_writer("PRAGMA synchronous=OFF;"));
  exec(db_, "BEGIN;" + insert_rows(1, 20) + "COMMIT;");
  EXPECT_EQ(summary(other()), expected_summary(1, 20));
  exec(db_, "BEGIN;" + insert_rows(21, 5) + "COMMIT;");
  EXPECT_EQ(summary(other()), expected_summary(1, 25));
}

TEST_F(WalBufferingVfs, PagesSpilledToTheWalMidTransactionReadBackWhole) {
  // A cache of 10 pages: the transaction writes pages to the WAL before its commit and reads
  // them back from there.
  ASSERT_TRUE(open_writer("PRAGMA synchronous=FULL; PRAGMA cache_size=10;"));
  exec(db_, "BEGIN;" + insert_rows(1, 400));
  EXPECT_EQ(summary(db_), expected_summary(1, 400));
  exec(db_, "UPDATE t SET b = " + letters("i + 1") + " WHERE i % 2 = 0;");
  EXPECT_NE(summary(db_), expected_summary(1, 400));
  exec(db_, "UPDATE t SET b = " + letters("i") + " WHERE i % 2 = 0;");
  exec(db_, "COMMIT;");
  EXPECT_EQ(summary(db_), expected_summary(1, 400));
  EXPECT_EQ(summary(other()), expected_summary(1, 400));
  EXPECT_EQ(text(other(), "PRAGMA integrity_check"), "ok");
}

TEST_F(WalBufferingVfs, AFailedWriteFailsTheCommitAndLosesNothingCommittedBefore) {
  ASSERT_TRUE(open_writer("PRAGMA synchronous=FULL;"));
  exec(db_, "BEGIN;" + insert_rows(1, 50) + "COMMIT;");
  // The disk is full: the writes the VFS gathered fail when it hands them over (at the latest
  // when SQLite syncs the commit), and the commit fails as it would have without the VFS.
  fail_writes = true;
  int rc = exec_rc(db_, "BEGIN;" + insert_rows(51, 200) + "COMMIT;");
  fail_writes = false;
  EXPECT_EQ(rc & 0xff, SQLITE_FULL) << sqlite3_errmsg(db_);
  if (!sqlite3_get_autocommit(db_)) exec(db_, "ROLLBACK;");
  EXPECT_EQ(summary(other()), expected_summary(1, 50));
  // Space is back: the next commit goes through, and both connections see all of it.
  exec(db_, "BEGIN;" + insert_rows(51, 200) + "COMMIT;");
  EXPECT_EQ(summary(db_), expected_summary(1, 250));
  EXPECT_EQ(summary(other()), expected_summary(1, 250));
  EXPECT_EQ(text(other(), "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace statgov::store
