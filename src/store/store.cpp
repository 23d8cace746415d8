#include "store/store.hpp"

#include <optional>

#include "store/migrations.hpp"

#include <spdlog/spdlog.h>

#include <cassert>
#include <chrono>

namespace statgov::store {

namespace {

// Held for the length of a write transaction (each writer batch, and the migrations) by every
// statgov process on one PostgreSQL database. The key is "statgov" in ASCII.
constexpr const char* kPgWriteLock = "SELECT pg_advisory_xact_lock(32497584235310966)";

const std::vector<Migration>& migrations_for(Dialect d) {
  return d == Dialect::postgres ? postgres_migrations() : sqlite_migrations();
}

Status migrate(Conn& c) {
  // One transaction for all pending steps: the schema ends at the old version or the newest.
  SG_TRY(c.exec_script(c.dialect() == Dialect::postgres ? std::string("BEGIN; ") + kPgWriteLock : "BEGIN IMMEDIATE"));
  auto run = [&]() -> Status {
    SG_TRY(c.exec_script("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
    int have = 0;
    {
      SG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
      SG_ASSIGN_OR_RETURN(bool row, st.step());
      have = row ? st.int32(0) : 0;
    }
    const auto& all = migrations_for(c.dialect());
    int newest = all.empty() ? 0 : all.back().version;
    if (have > newest) {
      return make_error(ErrorKind::internal, "SCHEMA_TOO_NEW",
                        "数据库版本比程序新，请使用新版程序", "The database schema is newer than this program");
    }
    for (const auto& m : all) {
      if (m.version <= have) continue;
      SG_TRY(c.exec_script(m.sql));
      SG_TRY(c.exec_script("INSERT INTO schema_version (version) VALUES (" + std::to_string(m.version) + ")"));
    }
    return Ok{};
  };
  Status r = run();
  if (!r.ok()) {
    if (c.in_transaction()) (void)c.exec_script("ROLLBACK");
    return r;
  }
  return c.exec_script("COMMIT");
}

// The audit chain's head and the change sequence for the writer's cache (WriteCache), read once a
// batch holds the database's write lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock).
Status load_write_cache(Conn& c) {
  SG_ASSIGN_OR_RETURN(auto st,
                      c.prepare("SELECT (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), "
                                "(SELECT value FROM change_seq WHERE id = 1)"));
  SG_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row || st.is_null(1)) {
    return make_error(ErrorKind::internal, "STORAGE", "变更序号缺失", "change_seq row missing");
  }
  WriteCache cache;
  cache.audit_head = st.is_null(0) ? std::string(64, '0') : st.text(0);
  cache.seq = cache.stored_seq = st.int64(1);
  c.write_cache_slot() = std::move(cache);
  return Ok{};
}

// BEGIN, the batch's advisory lock, then the writer's cache, in one round trip: BEGIN and the lock
// are sent without waiting (postgres.cpp) and the SELECT's answer brings theirs. NOTE: the SELECT
// must be a statement of its own after the lock's: in READ COMMITTED each statement reads the
// database as of its own start, and only a snapshot taken after the lock was granted sees the last
// batch of another process.
Status pg_begin(Conn& c) {
  SG_TRY(c.exec_script("BEGIN"));
  {
    SG_ASSIGN_OR_RETURN(auto lock, c.prepare(kPgWriteLock));
    SG_TRY(lock.exec());
  }
  return load_write_cache(c);
}

// Before COMMIT: the last change sequence number the batch handed out, written back (PostgreSQL:
// sent without waiting; COMMIT brings its answer, and its failure fails the whole batch).
Status store_seq(Conn& c) {
  WriteCache* cache = c.write_cache();
  if (!cache || cache->seq == cache->stored_seq) return Ok{};
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("UPDATE change_seq SET value = ? WHERE id = 1"));
  st.bind(1, cache->seq);
  return st.exec();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, int readers) {
  SG_ASSIGN_OR_RETURN(auto w, Conn::open(path, false));
  if (w.dialect() == Dialect::sqlite) SG_TRY(w.exec_script("PRAGMA journal_mode=WAL;"));
  SG_TRY(migrate(w));
  const Dialect dialect = w.dialect();
  std::unique_ptr<Store> s(new Store(path, std::make_unique<Conn>(std::move(w))));
  s->dialect_ = dialect;
  if (dialect == Dialect::sqlite) {
    SG_ASSIGN_OR_RETURN(auto ck, Conn::open(path, false));
    s->checkpointer_ = std::make_unique<Conn>(std::move(ck));
    // Replaces SQLite's automatic checkpoint, which ran on the committing connection.
    sqlite3_wal_hook(s->writer_->raw(), &Store::on_wal_commit, s.get());
    s->checkpointer_thread_ = std::thread([st = s.get()] { st->checkpointer_loop(); });
  }
  s->completer_thread_ = std::thread([st = s.get()] { st->completer_loop(); });
  s->writer_thread_ = std::thread([st = s.get()] { st->writer_loop(); });
  for (int i = 0; i < readers; ++i) {
    SG_ASSIGN_OR_RETURN(auto r, Conn::open(path, true));
    s->readers_.push_back(std::make_unique<Conn>(std::move(r)));
    s->idle_.push_back(s->readers_.back().get());
  }
  return s;
}

Store::Store(std::string path, std::unique_ptr<Conn> writer)
    : path_(std::move(path)), writer_(std::move(writer)) {}

Store::~Store() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  {
    std::lock_guard lock(done_mu_);
    done_stopping_ = true;  // the completer drains its queue first
  }
  done_cv_.notify_all();
  if (completer_thread_.joinable()) completer_thread_.join();
  {
    std::lock_guard lock(ckpt_mu_);
    ckpt_stopping_ = true;
  }
  ckpt_cv_.notify_all();
  if (checkpointer_thread_.joinable()) checkpointer_thread_.join();
}

// Called by SQLite on the writer thread after every commit, with the frames now in the WAL. By
// default SQLite checkpoints there once the WAL holds 1,000 frames: copies them into the database
// file and flushes it, while every request in the next batch waits (issue #6 profile: a tenth of
// the writer thread's time at 512 clients, besides the flushes). Here the checkpointer thread is
// asked to do it on its own connection instead, PASSIVE like SQLite's own, which never blocks the
// writer or a reader. The WAL starts again from its beginning only at the first write after a
// checkpoint that copied all of it, which the checkpointer seldom manages while the writer keeps
// appending; so under steady load the WAL grows to 16,000 frames (about 64 MiB: seen in the ingest
// benchmark), where the writer checkpoints the few frames left itself, as SQLite would, and the WAL
// starts again. The same bound holds if the checkpointer falls behind or keeps failing. The
// writer's checkpoint waits until the batch that reached the bound has been answered
// (checkpoint_if_due): it flushes the database file, 7-14 ms at 512 clients in the ingest
// benchmark (perf trace), which that batch's clients need not wait for.
int Store::on_wal_commit(void* store, sqlite3*, const char*, int frames) {
  constexpr int kCheckpointFrames = 1000;  // SQLite's default automatic checkpoint
  constexpr int kWriterCheckpointFrames = 16 * kCheckpointFrames;
  auto* s = static_cast<Store*>(store);
  if (frames >= kWriterCheckpointFrames) {
    s->writer_ckpt_due_ = true;
    return SQLITE_OK;
  }
  // Once per 1,000 new frames, not after every commit: the WAL starts again from its beginning
  // only at the first write after a checkpoint that copied all of it, so until then every commit
  // would ask for another checkpoint (each one two fsyncs).
  if (frames < s->ckpt_asked_at_) s->ckpt_asked_at_ = 0;  // the WAL started again
  if (frames >= s->ckpt_asked_at_ + kCheckpointFrames) {
    s->ckpt_asked_at_ = frames;
    {
      std::lock_guard lock(s->ckpt_mu_);
      s->ckpt_wanted_ = true;
    }
    s->ckpt_cv_.notify_one();
  }
  return SQLITE_OK;
}

void Store::checkpoint_if_due() {
  if (!writer_ckpt_due_) return;
  writer_ckpt_due_ = false;
  // Between two transactions of the writer, so that the next one starts the WAL again if this
  // copies all of it. A failure (a full disk) is tried again at the next commit.
  (void)sqlite3_wal_checkpoint_v2(writer_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

void Store::run_completions(std::vector<WriteJob*>& async, bool more_queued) {
  // With a next batch already waiting, on the completion thread, so that the writer runs that
  // batch meanwhile; otherwise here, which saves waking the completion thread (issue #6, one
  // client: median 2,387/s always handing over, 2,585/s like this).
  if (more_queued) {
    hand_over(async);
  } else {
    complete_async(async);
  }
}

void Store::hand_over(std::vector<WriteJob*>& async) {
  if (async.empty()) return;
  {
    std::lock_guard lock(done_mu_);
    done_queue_.push_back(std::move(async));
  }
  async.clear();
  done_cv_.notify_one();
}

// The completions of asynchronous jobs (issue #6 profile: at 512 clients, running them on the
// writer thread took a sixth of its time, while the next batch waited).
void Store::completer_loop() {
  std::unique_lock lock(done_mu_);
  for (;;) {
    done_cv_.wait(lock, [&] { return done_stopping_ || !done_queue_.empty(); });
    if (done_queue_.empty()) return;  // stopping, nothing left
    std::vector<WriteJob*> jobs = std::move(done_queue_.front());
    done_queue_.pop_front();
    lock.unlock();
    complete_async(jobs);
    lock.lock();
  }
}

void Store::checkpointer_loop() {
  std::unique_lock lock(ckpt_mu_);
  auto last_warning = std::chrono::steady_clock::time_point{};
  for (;;) {
    ckpt_cv_.wait(lock, [&] { return ckpt_stopping_ || ckpt_wanted_; });
    if (ckpt_stopping_) return;
    ckpt_wanted_ = false;
    lock.unlock();
    const int rc =
        sqlite3_wal_checkpoint_v2(checkpointer_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    // BUSY: another checkpoint (a backup's, the writer's) is running. Anything else (a full disk)
    // is retried at the next request; the WAL keeps every commit meanwhile.
    const auto now = std::chrono::steady_clock::now();
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && now - last_warning > std::chrono::seconds(10)) {
      spdlog::warn("WAL checkpoint failed: {}", sqlite3_errmsg(checkpointer_->raw()));
      last_warning = now;
    }
    lock.lock();
  }
}

Status Store::exec_on_writer_alone(std::string sql) {
  Status result = Ok{};
  Status ran = run_on_writer(
      [&](Conn& c) {
        result = c.exec_script(sql);
        return result.ok();
      },
      true);
  return result.ok() ? ran : result;
}

Status Store::run_on_writer(std::function<bool(Conn&)> fn, bool alone) {
  // NOTE: calling write() from inside a write function would wait for its own batch forever.
  assert(std::this_thread::get_id() != writer_thread_.get_id() && "nested Store::write");
  WriteJob job{std::move(fn), Ok{}, false, alone, {}, {}};
  std::unique_lock lock(queue_mu_);
  if (stopping_) {
    return make_error(ErrorKind::internal, "STORAGE_CLOSED", "数据库已关闭", "The database is closed");
  }
  queue_.push_back(&job);
  queue_cv_.notify_one();
  job.done_cv.wait(lock, [&] { return job.done; });
  return std::move(job.outcome);
}

void Store::enqueue_async(std::function<bool(Conn&)> fn, std::function<void(Status)> on_done) {
  auto job = std::make_unique<WriteJob>();
  job->fn = std::move(fn);
  job->outcome = Ok{};
  job->on_done = std::move(on_done);
  {
    std::lock_guard lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back(job.release());
      queue_cv_.notify_one();
      return;
    }
  }
  job->on_done(make_error(ErrorKind::internal, "STORAGE_CLOSED", "数据库已关闭", "The database is closed"));
}

void Store::finish_locked(WriteJob* job, std::vector<WriteJob*>& async) {
  if (job->on_done) {
    async.push_back(job);
    return;
  }
  job->done = true;
  job->done_cv.notify_one();
}

void Store::complete_async(std::vector<WriteJob*>& async) {
  for (WriteJob* job : async) {
    std::unique_ptr<WriteJob> owned(job);
    try {
      owned->on_done(std::move(owned->outcome));
    } catch (const std::exception&) {
      // NOTE: a completion must not throw; if one does, the writer thread must survive it (an
      // exception escaping here would end the process), and the other completions still run.
    }
  }
  async.clear();
}

Status Store::writer_exec(const char* sql) {
  if (dialect_ == Dialect::postgres) return writer_->exec_script(sql);
  SG_ASSIGN_OR_RETURN(auto st, writer_->prepare(sql));
  return st.exec();
}

void Store::writer_loop() {
  constexpr std::size_t kMaxBatch = 512;
  for (;;) {
    std::vector<WriteJob*> batch;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      if (queue_.front()->alone) {
        WriteJob* job = queue_.front();
        queue_.pop_front();
        lock.unlock();
        Status conn = writer_->ensure_connected();
        const bool fine = conn.ok() && job->fn(*writer_);
        if (!conn.ok()) job->outcome = std::move(conn);
        lock.lock();
        if (!fine && job->outcome.ok()) {
          job->outcome = make_error(ErrorKind::internal, "STORAGE", "数据库维护语句失败", "A maintenance statement failed");
        }
        std::vector<WriteJob*> async;
        finish_locked(job, async);
        const bool more_queued = !queue_.empty();
        lock.unlock();
        run_completions(async, more_queued);
        checkpoint_if_due();
        continue;
      }
      // A job that must run alone ends the batch before it.
      while (!queue_.empty() && batch.size() < kMaxBatch && !queue_.front()->alone) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    Status begin = begin_batch();
    // Jobs [0, ran) took part in this transaction; the rest (if the transaction was lost under
    // us) go back to the front of the queue for the next one, since they never ran.
    std::size_t ran = begin.ok() ? 0 : batch.size();
    std::optional<Error> lost;
    if (begin.ok()) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        ran = i + 1;
        // What ROLLBACK TO w puts back of the writer's cache.
        std::optional<WriteCache> at_savepoint = writer_->write_cache_slot();
        if (Status sp = writer_exec("SAVEPOINT w"); !sp.ok()) {
          batch[i]->outcome = std::move(sp);  // never ran: must not be acknowledged
          if (!writer_->in_transaction()) {
            lost = writer_->transaction_lost_error("write");
            break;
          }
          continue;
        }
        bool fine = false;
        try {
          fine = batch[i]->fn(*writer_);
        } catch (const std::exception&) {
          // A write function must return errors, not throw; keep the others' work regardless.
          fine = false;
          batch[i]->outcome = make_error(ErrorKind::internal, "INTERNAL", "写入时发生内部错误", "Internal error during a write");
        }
        if (!writer_->in_transaction()) {
          // On a full disk or an I/O error SQLite may roll back the whole transaction by itself,
          // and a PostgreSQL connection that broke took its transaction with it: every job
          // before this one is undone too, and none of them may be acknowledged.
          lost = writer_->transaction_lost_error("write");
          break;
        }
        if (fine && writer_->transaction_failed()) {
          // PostgreSQL: a statement failed and the function went on as if not (SQLite would have
          // kept the transaction usable). Its work can't be kept.
          fine = false;
          batch[i]->outcome = make_error(ErrorKind::internal, "STORAGE", "写入时数据库语句失败",
                                         "A statement failed during the write; nothing of it was saved");
        }
        if (fine && dialect_ == Dialect::postgres) {
          // PostgreSQL sends a job's writes without waiting for their answers (postgres.cpp):
          // RELEASE waits for them all, and the first error among them fails this job alone.
          Status released = writer_exec("RELEASE w");
          if (released.ok()) continue;
          if (!writer_->in_transaction()) {
            lost = writer_->transaction_lost_error("write");
            break;
          }
          fine = false;
          batch[i]->outcome = std::move(released);
        }
        if (!fine) {
          (void)writer_exec("ROLLBACK TO w");
          writer_->write_cache_slot() = std::move(at_savepoint);
        }
        (void)writer_exec("RELEASE w");
      }
    }
    auto commit_batch = [&]() -> Status {
      SG_TRY(store_seq(*writer_));
      return writer_exec("COMMIT");
    };
    Status commit = lost ? Status(*lost) : begin.ok() ? commit_batch() : begin;
    // Never kept across batches: another process may write before the next one. The one place the
    // cache is dropped, whatever became of the batch (its BEGIN failing included).
    writer_->write_cache_slot().reset();
    if (!commit.ok() && writer_->in_transaction()) (void)writer_->exec_script("ROLLBACK");
    commits_ += commit.ok() ? 1 : 0;
    writes_ += ran;
    std::vector<WriteJob*> async;
    bool more_queued = false;
    {
      std::lock_guard lock(queue_mu_);
      for (std::size_t i = 0; i < ran; ++i) {
        // A failed commit undoes every job in the batch, including those that succeeded.
        if (!commit.ok() && batch[i]->outcome.ok()) batch[i]->outcome = commit;
        finish_locked(batch[i], async);
      }
      for (std::size_t i = batch.size(); i > ran; --i) queue_.push_front(batch[i - 1]);
      more_queued = !queue_.empty();
    }
    // Outside the lock: a completion may take a while (it hands a response to the server's io
    // threads) and must not hold up callers queueing the next batch.
    run_completions(async, more_queued);
    checkpoint_if_due();
  }
}

Status Store::begin_batch() {
  // NOTE: the writer's cache is empty here: writer_loop resets it at the end of every batch,
  // this one's failed BEGIN included; load_write_cache sets it only once it has read both values.
  Status begin = Ok{};
  if (dialect_ == Dialect::sqlite) {
    begin = writer_exec("BEGIN IMMEDIATE");
    if (begin.ok()) begin = load_write_cache(*writer_);
  } else {
    SG_TRY(writer_->ensure_connected());
    begin = pg_begin(*writer_);
    // Nothing ran yet: a connection found dead here (a restarted server, a promoted standby) can
    // be opened again and the batch started on the new one.
    if (!begin.ok() && writer_->connection_lost() && writer_->ensure_connected().ok()) {
      begin = pg_begin(*writer_);
    }
  }
  if (!begin.ok() && writer_->in_transaction()) (void)writer_->exec_script("ROLLBACK");
  return begin;
}

Status Store::backup_to(const std::string& path) {
  if (dialect_ == Dialect::postgres) {
    return make_error(ErrorKind::invalid, "UNSUPPORTED",
                      "PostgreSQL 数据库不支持 statgov backup；请用 pg_basebackup（或 pg_dump）备份",
                      "statgov backup works on SQLite only; back up PostgreSQL with pg_basebackup (or pg_dump)");
  }
  sqlite3* dest = nullptr;
  if (sqlite3_open_v2(path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Error e = sqlite_error(dest, "open backup target " + path);
    sqlite3_close(dest);
    return e;
  }
  Status result = read([&](Conn& src) -> Status {
    // The read connection sees one consistent snapshot (WAL) for the whole copy.
    sqlite3_backup* b = sqlite3_backup_init(dest, "main", src.raw(), "main");
    if (!b) return sqlite_error(dest, "backup init");
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) return sqlite_error(dest, "backup step");
    return Ok{};
  });
  if (result.ok()) {
    char* err = nullptr;
    if (sqlite3_exec(dest, "PRAGMA journal_mode=WAL; PRAGMA integrity_check;", nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "integrity check";
      sqlite3_free(err);
      result = make_error(ErrorKind::internal, "BACKUP_FAILED", "备份校验失败：" + m, "Backup check failed: " + m);
    }
  }
  sqlite3_close(dest);
  return result;
}

int Store::schema_version() {
  return read([](Conn& c) -> int {
    auto st = c.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!st.ok()) return -1;
    auto row = st->step();
    return row.ok() && *row ? st->int32(0) : -1;
  });
}

Store::Snapshot::Snapshot(Conn& c) : conn(c) {
  if (c.dialect() != Dialect::sqlite) return;
  auto st = c.prepare("BEGIN");
  // NOTE: if BEGIN fails, each statement simply runs in its own transaction, as in read().
  open = st.ok() && st->exec().ok();
}

Store::Snapshot::~Snapshot() {
  if (!open) return;
  // A read-only transaction has nothing to lose: COMMIT only ends it. If it could not (a statement
  // of f still stepping), ROLLBACK does, so the connection goes back to the pool without a
  // transaction that would pin an old snapshot.
  auto st = conn.prepare("COMMIT");
  if (!(st.ok() && st->exec().ok()) && conn.in_transaction()) (void)conn.exec_script("ROLLBACK");
}

Store::Lease::Lease(Store& s) : store(s), conn(nullptr) {
  {
    std::unique_lock lock(s.pool_mu_);
    s.pool_cv_.wait(lock, [&] { return !s.idle_.empty(); });
    conn = s.idle_.back();
    s.idle_.pop_back();
  }
  // PostgreSQL: a connection the server dropped is opened again here; if that fails, the
  // statements fail with a 503 error and the next lease tries again.
  if (s.dialect_ == Dialect::postgres) (void)conn->ensure_connected();
}

Store::Lease::~Lease() {
  {
    std::lock_guard lock(store.pool_mu_);
    store.idle_.push_back(conn);
  }
  store.pool_cv_.notify_one();
}

}  // namespace statgov::store
