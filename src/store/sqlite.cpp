// The SQLite side of Conn and Stmt, and what both backends share (open, exec).
#include "store/conn.hpp"

#include "store/postgres.hpp"
#include "store/sqlite_memory.hpp"
#include "store/sqlite_vfs.hpp"

#include <spdlog/spdlog.h>

namespace statgov::store {

Error sqlite_error(sqlite3* db, std::string_view what) {
  std::string msg = db ? sqlite3_errmsg(db) : "no connection";
  int code = db ? sqlite3_extended_errcode(db) : 0;
  // Constraint violations are the caller's conflict; anything else is a storage failure.
  if ((code & 0xff) == SQLITE_CONSTRAINT) {
    return make_error(ErrorKind::conflict, "CONFLICT", "数据冲突：" + msg, "Conflict: " + msg);
  }
  // Conditions of the machine, not of the request: 503, nothing was written, try again later.
  // The operator sees the cause in the log; the client gets no SQL.
  switch (code & 0xff) {
    case SQLITE_BUSY:
      return make_error(ErrorKind::unavailable, "STORAGE_BUSY", "数据库繁忙，请稍后重试",
                        "The database is busy; try again later");
    case SQLITE_FULL:
      spdlog::error("storage full in {}: {}", what, msg);
      return make_error(ErrorKind::unavailable, "STORAGE_FULL",
                        "服务器存储空间已满，本次数据未保存；已保存的数据不受影响，请稍后重试",
                        "The server's storage is full; this change was not saved (nothing saved "
                        "before is affected); try again later");
    case SQLITE_READONLY:
      spdlog::error("storage read-only in {}: {}", what, msg);
      return make_error(ErrorKind::unavailable, "STORAGE_READ_ONLY",
                        "数据库当前只读，本次数据未保存；已保存的数据不受影响，请稍后重试",
                        "The database is read-only at the moment; this change was not saved "
                        "(nothing saved before is affected); try again later");
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      spdlog::error("storage I/O error in {}: {}", what, msg);
      return make_error(ErrorKind::unavailable, "STORAGE_IO",
                        "服务器存储读写失败，本次数据未保存，请稍后重试",
                        "The server's storage failed to read or write; this change was not saved; "
                        "try again later");
    default: break;
  }
  return make_error(ErrorKind::internal, "STORAGE", "数据库错误：" + std::string(what),
                    "Storage error in " + std::string(what) + ": " + msg);
}

Result<bool> Stmt::sqlite_step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, sqlite3_sql(s_) ? sqlite3_sql(s_) : "step");
}

Status Stmt::exec() {
  if (pg_) [[unlikely]] return pg_exec();
  for (;;) {
    auto r = step();
    if (!r.ok()) return std::move(r).error();
    if (!*r) return Ok{};
  }
}

bool is_postgres_target(std::string_view t) {
  return t.starts_with("postgresql://") || t.starts_with("postgres://") ||
         (t.find('=') != std::string_view::npos &&
          (t.starts_with("host=") || t.starts_with("hostaddr=") || t.starts_with("dbname=") ||
           t.starts_with("service=") || t.starts_with("user=") || t.starts_with("port=")));
}

Result<Conn> Conn::open(const std::string& path, bool read_only) {
  if (is_postgres_target(path)) {
    SG_ASSIGN_OR_RETURN(auto pg, pg_open(path, read_only));
    return Conn(std::move(pg));
  }
  configure_sqlite();  // before SQLite's first use in the process (sqlite_memory.hpp)
  sqlite3* db = nullptr;
  int flags = (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) |
              SQLITE_OPEN_NOMUTEX;
  // The connections that write gather their WAL writes into calls of up to 124 KiB instead of two
  // per page (sqlite_vfs.cpp).
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, read_only ? nullptr : wal_buffering_vfs());
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(db, "open " + path);
    sqlite3_close(db);
    return e;
  }
  Conn c(db);
  sqlite3_busy_timeout(db, 10000);
  sqlite3_extended_result_codes(db, 1);
  // NOTE: synchronous=FULL: a commit is on disk before we answer, so a kill -9 right after an
  // acknowledgement loses nothing (WAL with NORMAL could lose the last transactions on power loss).
  SG_TRY(c.exec_script("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;"));
  if (!read_only) {
    // The writer runs every job of a group commit in its own savepoint, and SQLite keeps the
    // pages a savepoint changed in a sub-journal. By default a sub-journal over 64 KiB moves to a
    // temporary file and stays one until the transaction ends, so at a few hundred jobs per batch
    // every changed page cost a pwrite (issue #6 profile: a quarter of the writer thread's time at
    // 512 clients). In memory, it holds at most a copy of the pages one job changes.
    SG_TRY(c.exec_script("PRAGMA temp_store=MEMORY;"));
  }
  return c;
}

Conn::Conn(sqlite3* db) : db_(db) {}

Conn::Conn(std::unique_ptr<PgConn> pg) : pg_(std::move(pg)) {}

Conn::Conn(Conn&& o) noexcept
    : db_(o.db_), cache_(std::move(o.cache_)), recent_(o.recent_), pg_(std::move(o.pg_)) {
  o.db_ = nullptr;
  o.recent_ = {};
}

Conn::~Conn() {
  for (auto& [sql, c] : cache_) sqlite3_finalize(c->stmt);
  if (db_) sqlite3_close_v2(db_);
}

std::int64_t Conn::last_insert_id() const {
  if (pg_) return pg_last_insert_id(*pg_);
  return sqlite3_last_insert_rowid(db_);
}

int Conn::changes() const {
  if (pg_) return pg_changes(*pg_);
  return sqlite3_changes(db_);
}

bool Conn::in_transaction() const {
  if (pg_) return pg_in_transaction(*pg_);
  return sqlite3_get_autocommit(db_) == 0;
}

bool Conn::transaction_failed() const { return pg_ && pg_transaction_failed(*pg_); }

bool Conn::connection_lost() const { return pg_ && pg_connection_lost(*pg_); }

Error Conn::transaction_lost_error(std::string_view what) const {
  if (pg_) return pg_connection_error(*pg_, what);
  return sqlite_error(db_, what);
}

Status Conn::ensure_connected() {
  if (pg_) return pg_ensure_connected(*pg_);
  return Ok{};
}

namespace {
// SQLite compiles a text that is empty or only a comment to no statement at all (and OK).
Error no_statement(std::string_view sql) {
  return make_error(ErrorKind::internal, "STORAGE", "SQL 语句为空",
                    "No SQL statement in: '" + std::string(sql) + "'");
}
}  // namespace

Result<Stmt> Conn::prepare(std::string_view sql) {
  if (pg_) return pg_prepare(sql);
  Recent& recent = recent_[(reinterpret_cast<std::uintptr_t>(sql.data()) >> 4) % recent_.size()];
  CachedStmt* entry = nullptr;
  if (recent.text && recent.data == sql.data() && *recent.text == sql) {
    entry = recent.entry;
  } else if (auto it = cache_.find(sql); it != cache_.end()) {
    entry = it->second.get();
    recent = {sql.data(), &it->first, entry};
  }
  if (entry && !entry->in_use) {
    entry->in_use = true;
    return Stmt(db_, entry->stmt, entry);
  }
  if (!entry && cache_.size() < 512) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, sql);
    if (!s) return no_statement(sql);
    auto [it, added] = cache_.emplace(std::string(sql), std::make_unique<CachedStmt>(s));
    it->second->in_use = true;
    recent = {sql.data(), &it->first, it->second.get()};
    return Stmt(db_, s, it->second.get());
  }
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db_, sql);
  if (!s) return no_statement(sql);
  return Stmt(db_, s);
}

Status Conn::exec_script(const std::string& sql) {
  if (pg_) return pg_exec_script(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string m = err ? err : "exec";
    sqlite3_free(err);
    return sqlite_error(db_, m);
  }
  return Ok{};
}

}  // namespace statgov::store
