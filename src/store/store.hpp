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
// itself (it would wait for its own transaction). `write_async` queues the same kind of job
// without waiting: its completion runs after the commit, so the caller's thread is free meanwhile
// (the server answers a submit from there, issue #6). When the next batch is already queued, the
// store's completion thread runs the batch's completions while the writer goes on with that
// batch; otherwise the writer runs them itself (no thread to wake). A batch's completions run one
// after another.
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
  // How many read connections the pool lends out.
  int readers() {
    std::lock_guard lock(pool_mu_);
    return static_cast<int>(readers_.size());
  }

  template <typename F>
  auto read(F&& f) -> std::invoke_result_t<F, Conn&> {
    Lease lease(*this);
    return f(*lease.conn);
  }

  // Like read(), but every statement f runs sees one snapshot of the database, and f holds one
  // connection throughout. On SQLite f runs inside one read transaction (BEGIN ... COMMIT): each
  // read transaction that finds the WAL changed since the connection's last one drops the
  // connection's whole page cache, so a request that made seven separate reads while the writer
  // commits every few milliseconds re-read its pages seven times (issue #6 profile). PostgreSQL:
  // the same as read() (a transaction there costs two more round trips). f must not call read()
  // or read_snapshot() itself: with every connection leased, it would wait forever. It may call
  // write(), whose changes it then does not see (the tests do); requests should not hold a
  // connection that long.
  template <typename F>
  auto read_snapshot(F&& f) -> std::invoke_result_t<F, Conn&> {
    Lease lease(*this);
    Snapshot snapshot(*lease.conn);
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

  // Like write(), but returns at once. f runs on the writer thread in the next batch; then
  // done(result) is called on the store's completion thread (or the writer thread, when no batch
  // waits) once the transaction holding f is committed (durably) or failed, with f's own error if
  // it returned one. `done` must be quick (the completions of later batches wait behind it) and
  // must not call write() or read(): it should hand the result to another thread. After the Store
  // began closing, done is called at once on the caller's thread with a STORAGE_CLOSED error.
  template <typename F, typename Done>
  void write_async(F&& f, Done&& done) {
    using R = std::invoke_result_t<F, Conn&>;
    auto result = std::make_shared<std::optional<R>>();
    enqueue_async(
        [f = std::forward<F>(f), result](Conn& c) mutable -> bool {
          result->emplace(f(c));
          return (*result)->ok();
        },
        [done = std::forward<Done>(done), result](Status committed) mutable {
          // The function's own error says more than the failed commit it caused.
          if (*result && !(*result)->ok()) return done(std::move(**result));
          if (!committed.ok()) return done(R(std::move(committed).error()));
          // NOTE: a job that never ran always has a failed outcome (see writer_loop).
          done(std::move(**result));
        });
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

  // One read transaction on a leased SQLite connection, for its lifetime (read_snapshot).
  struct Snapshot {
    explicit Snapshot(Conn& c);
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;
    Conn& conn;
    bool open = false;
  };

  Store(std::string path, std::unique_ptr<Conn> writer);

  struct WriteJob {
    std::function<bool(Conn&)> fn;
    Status outcome;
    bool done = false;
    bool alone = false;  // run by itself, outside any transaction
    // Set: an asynchronous job (write_async), owned by the queue; the writer calls it with the
    // outcome, outside queue_mu_, and deletes the job. Unset: a caller waits on done_cv.
    std::function<void(Status)> on_done;
    // Wakes only this job's caller. One shared condition variable woke every waiting request at
    // every commit (tens of futex calls per submit at 64 clients). Notified under queue_mu_, so
    // the caller can't return and destroy the job before the writer is done with it.
    std::condition_variable done_cv;
  };
  Status begin_batch();
  Status run_on_writer(std::function<bool(Conn&)> fn, bool alone = false);
  void enqueue_async(std::function<bool(Conn&)> fn, std::function<void(Status)> on_done);
  // Hands a finished job its outcome: wakes its caller, or collects an asynchronous one in
  // `async` to be completed after queue_mu_ is released. Called with queue_mu_ held.
  static void finish_locked(WriteJob* job, std::vector<WriteJob*>& async);
  static void complete_async(std::vector<WriteJob*>& async);
  // Runs a batch's finished asynchronous jobs' completions, here or, when `more_queued`, on the
  // completion thread (writer thread).
  void run_completions(std::vector<WriteJob*>& async, bool more_queued);
  // Hands them to the completion thread.
  void hand_over(std::vector<WriteJob*>& async);
  void completer_loop();
  // SAVEPOINT, ROLLBACK TO and RELEASE of every job: prepared once on SQLite (re-parsing them
  // per job with sqlite3_exec showed in the issue #6 profile), plain scripts on PostgreSQL.
  Status writer_exec(const char* sql);
  void writer_loop();
  // SQLite: WAL checkpoints run on their own thread and connection, not on the writer's.
  static int on_wal_commit(void* store, sqlite3* db, const char* schema, int frames);
  // The writer's own checkpoint when the WAL has grown to its bound, after the batch is answered.
  void checkpoint_if_due();
  void checkpointer_loop();

  std::string path_;
  Dialect dialect_ = Dialect::sqlite;
  std::unique_ptr<Conn> writer_;  // writer thread only
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;   // work arrived, or stop
  std::deque<WriteJob*> queue_;        // guarded by queue_mu_
  bool stopping_ = false;              // guarded by queue_mu_
  std::thread writer_thread_;
  std::atomic<std::uint64_t> commits_{0}, writes_{0};
  std::unique_ptr<Conn> checkpointer_;  // SQLite only; checkpointer thread only
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_wanted_ = false;    // guarded by ckpt_mu_
  bool ckpt_stopping_ = false;  // guarded by ckpt_mu_
  int ckpt_asked_at_ = 0;       // WAL frames at the last ask for a checkpoint; writer thread only
  bool writer_ckpt_due_ = false;  // the WAL reached its bound at the last commit; writer thread only
  std::thread checkpointer_thread_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::deque<std::vector<WriteJob*>> done_queue_;  // guarded by done_mu_
  bool done_stopping_ = false;                     // guarded by done_mu_
  std::thread completer_thread_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Conn>> readers_;  // all readers; guarded by pool_mu_
  std::vector<Conn*> idle_;                     // guarded by pool_mu_
};

}  // namespace statgov::store
