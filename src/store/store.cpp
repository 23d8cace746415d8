#include "store/store.hpp"

#include <optional>

#include "store/migrations.hpp"

#include <cassert>

namespace statgov::store {

namespace {

Result<int> current_version(SqliteConn& c) {
  SG_TRY(c.exec_script("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  SG_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? st.int32(0) : 0;
}

Status migrate(SqliteConn& c) {
  SG_ASSIGN_OR_RETURN(int have, current_version(c));
  const auto& all = sqlite_migrations();
  int newest = all.empty() ? 0 : all.back().version;
  if (have > newest) {
    return make_error(ErrorKind::internal, "SCHEMA_TOO_NEW",
                      "数据库版本比程序新，请使用新版程序", "The database schema is newer than this program");
  }
  for (const auto& m : all) {
    if (m.version <= have) continue;
    SG_TRY(c.exec_script("BEGIN IMMEDIATE"));
    auto r = c.exec_script(m.sql);
    if (r.ok()) r = c.exec_script("INSERT INTO schema_version (version) VALUES (" + std::to_string(m.version) + ")");
    if (!r.ok()) {
      (void)c.exec_script("ROLLBACK");
      return r;
    }
    SG_TRY(c.exec_script("COMMIT"));
  }
  return Ok{};
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, int readers) {
  SG_ASSIGN_OR_RETURN(auto w, SqliteConn::open(path, false));
  SG_TRY(w.exec_script("PRAGMA journal_mode=WAL;"));
  SG_TRY(migrate(w));
  std::unique_ptr<Store> s(new Store(path, std::make_unique<SqliteConn>(std::move(w))));
  s->writer_thread_ = std::thread([st = s.get()] { st->writer_loop(); });
  for (int i = 0; i < readers; ++i) {
    SG_ASSIGN_OR_RETURN(auto r, SqliteConn::open(path, true));
    s->readers_.push_back(std::make_unique<SqliteConn>(std::move(r)));
    s->idle_.push_back(s->readers_.back().get());
  }
  return s;
}

Store::Store(std::string path, std::unique_ptr<SqliteConn> writer)
    : path_(std::move(path)), writer_(std::move(writer)) {}

Store::~Store() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
}

Status Store::exec_on_writer_alone(std::string sql) {
  Status result = Ok{};
  Status ran = run_on_writer(
      [&](SqliteConn& c) {
        result = c.exec_script(sql);
        return result.ok();
      },
      true);
  return result.ok() ? ran : result;
}

Status Store::run_on_writer(std::function<bool(SqliteConn&)> fn, bool alone) {
  // NOTE: calling write() from inside a write function would wait for its own batch forever.
  assert(std::this_thread::get_id() != writer_thread_.get_id() && "nested Store::write");
  WriteJob job{std::move(fn), Ok{}, false, alone, {}};
  std::unique_lock lock(queue_mu_);
  if (stopping_) {
    return make_error(ErrorKind::internal, "STORAGE_CLOSED", "数据库已关闭", "The database is closed");
  }
  queue_.push_back(&job);
  queue_cv_.notify_one();
  job.done_cv.wait(lock, [&] { return job.done; });
  return std::move(job.outcome);
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
        const bool fine = job->fn(*writer_);
        lock.lock();
        if (!fine && job->outcome.ok()) {
          job->outcome = make_error(ErrorKind::internal, "STORAGE", "数据库维护语句失败", "A maintenance statement failed");
        }
        job->done = true;
        job->done_cv.notify_one();
        continue;
      }
      // A job that must run alone ends the batch before it.
      while (!queue_.empty() && batch.size() < kMaxBatch && !queue_.front()->alone) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    Status begin = writer_->exec_script("BEGIN IMMEDIATE");
    // Jobs [0, ran) took part in this transaction; the rest (if SQLite dropped the transaction
    // under us) go back to the front of the queue for the next one, since they never ran.
    std::size_t ran = begin.ok() ? 0 : batch.size();
    std::optional<Error> lost;
    if (begin.ok()) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        ran = i + 1;
        if (Status sp = writer_->exec_script("SAVEPOINT w"); !sp.ok()) {
          batch[i]->outcome = std::move(sp);  // never ran: must not be acknowledged
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
        if (!fine && sqlite3_get_autocommit(writer_->raw())) {
          // On a full disk or an I/O error SQLite may roll back the whole transaction by itself:
          // every job before this one is undone too, and none of them may be acknowledged.
          lost = sqlite_error(writer_->raw(), "write");
          break;
        }
        if (!fine) (void)writer_->exec_script("ROLLBACK TO w");
        (void)writer_->exec_script("RELEASE w");
      }
    }
    Status commit = lost ? Status(*lost) : begin.ok() ? writer_->exec_script("COMMIT") : begin;
    if (!commit.ok() && !sqlite3_get_autocommit(writer_->raw())) (void)writer_->exec_script("ROLLBACK");
    commits_ += commit.ok() ? 1 : 0;
    writes_ += ran;
    {
      std::lock_guard lock(queue_mu_);
      for (std::size_t i = 0; i < ran; ++i) {
        // A failed commit undoes every job in the batch, including those that succeeded.
        if (!commit.ok() && batch[i]->outcome.ok()) batch[i]->outcome = commit;
        batch[i]->done = true;
        batch[i]->done_cv.notify_one();
      }
      for (std::size_t i = batch.size(); i > ran; --i) queue_.push_front(batch[i - 1]);
    }
  }
}

Status Store::backup_to(const std::string& path) {
  sqlite3* dest = nullptr;
  if (sqlite3_open_v2(path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Error e = sqlite_error(dest, "open backup target " + path);
    sqlite3_close(dest);
    return e;
  }
  Status result = read([&](SqliteConn& src) -> Status {
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
  return read([](SqliteConn& c) -> int {
    auto st = c.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!st.ok()) return -1;
    auto row = st->step();
    return row.ok() && *row ? st->int32(0) : -1;
  });
}

Store::Lease::Lease(Store& s) : store(s), conn(nullptr) {
  std::unique_lock lock(s.pool_mu_);
  s.pool_cv_.wait(lock, [&] { return !s.idle_.empty(); });
  conn = s.idle_.back();
  s.idle_.pop_back();
}

Store::Lease::~Lease() {
  {
    std::lock_guard lock(store.pool_mu_);
    store.idle_.push_back(conn);
  }
  store.pool_cv_.notify_one();
}

}  // namespace statgov::store
