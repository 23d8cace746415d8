// Storage on SQLite (DESIGN.md section 6). Store owns the connections; repository functions
// (repos.hpp) run on a connection it lends.
//
// Thread safety: Store is shared by all request threads. `read` lends one of a fixed pool of
// read-only connections (WAL lets them read while a write is in progress); `write` holds
// write_mu_ for the whole transaction, so there is exactly one writer at a time, as SQLite
// requires. A connection is never used by two threads at once.
#pragma once

#include "base/result.hpp"
#include "store/sqlite.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace statgov::store {

class Store {
 public:
  // Opens (creating if needed) and migrates the database at `path`.
  static Result<std::unique_ptr<Store>> open(const std::string& path, int readers = 4);

  template <typename F>
  auto read(F&& f) -> std::invoke_result_t<F, SqliteConn&> {
    Lease lease(*this);
    return f(*lease.conn);
  }

  // Runs f in BEGIN IMMEDIATE ... COMMIT; rolls back if f returns an error. f returns Result<T>.
  template <typename F>
  auto write(F&& f) -> std::invoke_result_t<F, SqliteConn&> {
    std::lock_guard lock(write_mu_);
    if (auto b = writer_->exec_script("BEGIN IMMEDIATE"); !b.ok()) return std::move(b).error();
    auto r = f(*writer_);
    if (!r.ok()) {
      (void)writer_->exec_script("ROLLBACK");
      return r;
    }
    if (auto c = writer_->exec_script("COMMIT"); !c.ok()) {
      (void)writer_->exec_script("ROLLBACK");
      return std::move(c).error();
    }
    return r;
  }

  int schema_version();
  const std::string& path() const { return path_; }

 private:
  struct Lease {
    explicit Lease(Store& s);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Store& store;
    SqliteConn* conn;
  };

  Store(std::string path, std::unique_ptr<SqliteConn> writer) : path_(std::move(path)), writer_(std::move(writer)) {}

  std::string path_;
  std::mutex write_mu_;
  std::unique_ptr<SqliteConn> writer_;  // guarded by write_mu_
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<SqliteConn>> readers_;  // all readers; guarded by pool_mu_
  std::vector<SqliteConn*> idle_;                     // guarded by pool_mu_
};

}  // namespace statgov::store
