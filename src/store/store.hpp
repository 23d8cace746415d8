// Storage on SQLite or PostgreSQL (DESIGN.md section 6, docs/postgres.md). Store owns the
// connections; repository functions (repos.hpp) run on a connection it lends.
//
// Thread safety: Store is shared by all request threads. `read` lends one of a fixed pool of
// read-only connections (WAL lets them read while a write is in progress). `write` hands its
// function to the single writer thread and blocks until the transaction holding it is durable:
// the writer runs every function queued meanwhile, each inside its own SAVEPOINT, and commits
// them together (group commit: one fsync for many requests). A function that returns an error is
// rolled back to its savepoint without touching the others. queue_ is guarded by queue_mu_; the
// writer connection is used by the writer thread only. A write function must not call write()
// itself (it would wait for its own transaction).
//
// PostgreSQL: the same, plus a transaction-scoped advisory lock taken at the start of each batch,
// so that several processes on one database still write one batch at a time. A connection the
// server dropped is opened again before the next batch or lease; a batch whose connection broke
// is reported failed (nothing in it is acknowledged).
#pragma once

#include "base/result.hpp"
#include "store/conn.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <optional>
#include <thread>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace statgov::store {

class Store {
 public:
  // Opens (creating if needed) and migrates the database at `target`: a SQLite file path, or a
  // PostgreSQL URL (postgresql://, postgres://) or libpq keyword string (host=... dbname=...).
  static Result<std::unique_ptr<Store>> open(const std::string& target, int readers = 4);

  template <typename F>
  auto read(F&& f) -> std::invoke_result_t<F, Conn&> {
    Lease lease(*this);
    return f(*lease.conn);
  }

  // Runs one SQL script on the writer connection by itself, outside any transaction: for what
  // can't run inside one (PRAGMA query_only, wal_checkpoint(TRUNCATE)) and for maintenance.
  Status exec_on_writer_alone(std::string sql);

  // Runs f in a transaction on the writer thread; f's changes are rolled back if it returns an
  // error. Returns once the transaction is committed (durably) or failed. f returns Result<T>.
  template <typename F>
  auto write(F&& f) -> std::invoke_result_t<F, Conn&> {
    using R = std::invoke_result_t<F, Conn&>;
    std::optional<R> result;
    Status committed = run_on_writer([&](Conn& c) -> bool {
      result.emplace(f(c));
      return result->ok();
    });
    // The function's own error says more than the failed commit it caused.
    if (result && !result->ok()) return std::move(*result);
    if (!committed.ok()) return std::move(committed).error();
    return std::move(*result);
  }

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Online, consistent copy of the database to `path` (SQLite backup API) while serving.
  // PostgreSQL: an UNSUPPORTED error (use pg_basebackup or pg_dump).
  Status backup_to(const std::string& path);
  // Transactions and write functions committed so far (group commit effectiveness).
  std::uint64_t commits() const { return commits_.load(); }
  std::uint64_t writes() const { return writes_.load(); }

  int schema_version();
  const std::string& path() const { return path_; }
  Dialect dialect() const { return dialect_; }

 private:
  struct Lease {
    explicit Lease(Store& s);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Store& store;
    Conn* conn;
  };

  Store(std::string path, std::unique_ptr<Conn> writer);

  struct WriteJob {
    std::function<bool(Conn&)> fn;
    Status outcome;
    bool done = false;
    bool alone = false;  // run by itself, outside any transaction
    // Wakes only this job's caller. One shared condition variable woke every waiting request at
    // every commit (tens of futex calls per submit at 64 clients). Notified under queue_mu_, so
    // the caller can't return and destroy the job before the writer is done with it.
    std::condition_variable done_cv;
  };
  Status begin_batch();
  Status run_on_writer(std::function<bool(Conn&)> fn, bool alone = false);
  void writer_loop();

  std::string path_;
  Dialect dialect_ = Dialect::sqlite;
  std::unique_ptr<Conn> writer_;  // writer thread only
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;   // work arrived, or stop
  std::deque<WriteJob*> queue_;        // guarded by queue_mu_
  bool stopping_ = false;              // guarded by queue_mu_
  std::thread writer_thread_;
  std::atomic<std::uint64_t> commits_{0}, writes_{0};
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Conn>> readers_;  // all readers; guarded by pool_mu_
  std::vector<Conn*> idle_;                     // guarded by pool_mu_
};

}  // namespace statgov::store
