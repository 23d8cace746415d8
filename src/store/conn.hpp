// A database connection and its prepared statements, over SQLite (a file) or PostgreSQL (libpq).
// The backend is chosen when the connection opens (Conn::open) and every call branches on it
// once: the SQLite path stays inline and allocation-free, the PostgreSQL path is out of line
// (postgres.cpp). One Conn is used by one thread at a time; the Store hands connections out and
// guarantees that. Nothing here knows the schema: that lives in repos.cpp and the migrations.
#pragma once

#include "base/result.hpp"

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace statgov::store {

enum class Dialect { sqlite, postgres };

// true: `target` names a PostgreSQL database (postgresql:// or postgres:// URL, or a libpq
// keyword string such as "host=... dbname=..."); false: it is a SQLite file path.
bool is_postgres_target(std::string_view target);
// The target with its password (if any) replaced by ***, for logs and messages.
std::string redact_target(std::string_view target);

struct PgStmt;  // postgres.hpp
struct PgConn;  // postgres.hpp

// Two values every write reads and then moves on, which the Store's writer keeps in memory for the
// length of one batch instead (issue #6: on PostgreSQL a SELECT of the audit chain's head and an
// UPDATE ... RETURNING of the change sequence per job were two statements and two round trips
// each; on SQLite three statements per submit on the writer thread, which every batch waits for):
// read once right after the batch took the database's write lock (SQLite's BEGIN IMMEDIATE,
// PostgreSQL's advisory lock), so no statgov process can move them until the batch ends; copied at
// each job's SAVEPOINT and put back on ROLLBACK TO; the sequence is written back once, before
// COMMIT. Not kept across batches: another process may write in between. The repository functions
// that take them (save_submission, append_audit) run only inside a writer batch and fail outside.
struct WriteCache {
  std::string audit_head;      // hash of the last audit_log entry (64 '0' for none)
  std::int64_t seq = 0;        // the last change sequence number handed out
  std::int64_t stored_seq = 0;  // change_seq.value when the batch began
};

// What a connection keeps beside a cached SQLite statement: whether a Stmt has it now, and its
// parameters' names. SQLite looks a name up by walking the statement's list of names and comparing
// each (sqlite3_bind_parameter_index: about 200 instructions, 10k per submit, issue #6); callers
// set parameters mostly in the order the statement names them, so the lookup here starts after the
// last one found and usually matches at once.
struct CachedStmt {
  sqlite3_stmt* stmt = nullptr;
  bool in_use = false;
  std::vector<std::string> names;  // [i]: parameter i + 1's name ("" for a bare ?)
  std::size_t next = 0;            // where the next lookup starts

  explicit CachedStmt(sqlite3_stmt* s) : stmt(s) {
    const int n = sqlite3_bind_parameter_count(s);
    names.reserve(static_cast<std::size_t>(n));
    for (int i = 1; i <= n; ++i) {
      const char* name = sqlite3_bind_parameter_name(s, i);
      names.emplace_back(name ? name : "");
    }
  }
  // 1-based, 0 if the statement has no parameter of that name (as sqlite3_bind_parameter_index).
  int index_of(const char* name) {
    const std::size_t n = names.size();
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = next + k;
      if (i >= n) i -= n;
      if (!names[i].empty() && names[i] == name) {
        next = i + 1 == n ? 0 : i + 1;
        return static_cast<int>(i + 1);
      }
    }
    return 0;
  }
};

class Stmt {
 public:
  // cached: the connection's entry of a cached statement (reset, not finalized, at the end).
  Stmt(sqlite3* db, sqlite3_stmt* s, CachedStmt* cached = nullptr)
      : db_(db), s_(s), cached_(cached) {}
  // PostgreSQL: `owned` statements are deleted at the end, cached ones handed back.
  Stmt(PgStmt* p, bool owned) : pg_(p), pg_owned_(owned) {}
  Stmt(Stmt&& o) noexcept
      : db_(o.db_), s_(o.s_), cached_(o.cached_), pg_(o.pg_), pg_owned_(o.pg_owned_) {
    o.s_ = nullptr;
    o.cached_ = nullptr;
    o.pg_ = nullptr;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (pg_) [[unlikely]] {
      pg_release();
    } else if (cached_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
      cached_->in_use = false;
    } else {
      sqlite3_finalize(s_);
    }
  }

  // Parameters are 1-based, as in SQLite. On PostgreSQL an integer travels as INT8, a double as
  // FLOAT8, a blob as BYTEA and text untyped (the server infers it from where it is used).
  Stmt& bind(int i, std::int64_t v) {
    if (pg_) [[unlikely]] pg_bind(i, v);
    else sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v) {
    if (pg_) [[unlikely]] pg_bind(i, v);
    else sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    if (pg_) [[unlikely]] pg_bind(i, v, false);
    else sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  // Bytes that need not be text (a zip, an uploaded file): BLOB on SQLite, BYTEA on PostgreSQL.
  // text() reads them back on both.
  Stmt& bind_blob(int i, std::string_view v) {
    if (pg_) [[unlikely]] pg_bind(i, v, true);
    else sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_null(int i) {
    if (pg_) [[unlikely]] pg_bind_null(i);
    else sqlite3_bind_null(s_, i);
    return *this;
  }
  // Named parameters (":name"). Binding a name the statement lacks is a no-op, so optional
  // clauses (scope filters) can be bound unconditionally.
  template <typename T>
  Stmt& set(const char* name, const T& v) {
    int i = param_index(name);
    if (i > 0) bind(i, v);
    return *this;
  }
  Stmt& set_blob(const char* name, std::string_view v) {
    int i = param_index(name);
    if (i > 0) bind_blob(i, v);
    return *this;
  }
  template <typename T>
  Stmt& bind(int i, const std::optional<T>& v) {
    if (v) return bind(i, *v);
    return bind_null(i);
  }

  // true: a row is ready; false: done. Errors are returned. On PostgreSQL the first step runs
  // the statement and fetches its whole result; the next ones walk it.
  Result<bool> step() {
    if (pg_) [[unlikely]] return pg_step();
    return sqlite_step();
  }
  // Step until done. PostgreSQL, in a write transaction: the statement is sent without waiting
  // for its answer (pipeline mode) and Ok is returned; its error, if any, is reported by the next
  // statement that waits for an answer (a step, last_insert_id, changes, exec_script). Inside a
  // transaction that changes nothing for the caller: PostgreSQL aborts the whole transaction on
  // any failed statement, so nothing after it can succeed either.
  Status exec();
  void reset() {
    if (pg_) [[unlikely]] pg_reset();
    else sqlite3_reset(s_);
  }

  // int64() also reads what PostgreSQL returns as NUMERIC (SUM of a BIGINT) or BOOLEAN.
  std::int64_t int64(int col) const {
    if (pg_) [[unlikely]] return pg_int64(col);
    return sqlite3_column_int64(s_, col);
  }
  int int32(int col) const { return static_cast<int>(int64(col)); }
  double real(int col) const {
    if (pg_) [[unlikely]] return pg_real(col);
    return sqlite3_column_double(s_, col);
  }
  bool is_null(int col) const {
    if (pg_) [[unlikely]] return pg_is_null(col);
    return sqlite3_column_type(s_, col) == SQLITE_NULL;
  }
  std::string text(int col) const {
    if (pg_) [[unlikely]] return pg_text(col);
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  std::optional<std::int64_t> opt_int64(int col) const {
    if (is_null(col)) return std::nullopt;
    return int64(col);
  }

 private:
  int param_index(const char* name) const {
    if (pg_) [[unlikely]] return pg_param_index(name);
    if (cached_) return cached_->index_of(name);
    return sqlite3_bind_parameter_index(s_, name);
  }
  Result<bool> sqlite_step();
  // PostgreSQL (postgres.cpp)
  void pg_release();
  void pg_bind(int i, std::int64_t v);
  void pg_bind(int i, double v);
  void pg_bind(int i, std::string_view v, bool blob);
  void pg_bind_null(int i);
  int pg_param_index(const char* name) const;
  Result<bool> pg_step();
  Status pg_exec();
  void pg_reset();
  std::int64_t pg_int64(int col) const;
  double pg_real(int col) const;
  bool pg_is_null(int col) const;
  std::string pg_text(int col) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  CachedStmt* cached_ = nullptr;
  PgStmt* pg_ = nullptr;
  bool pg_owned_ = false;
};

class Conn {
 public:
  // `target`: a SQLite file path or a PostgreSQL conninfo (is_postgres_target). read_only: a
  // SQLite file opened read-only, a PostgreSQL session whose transactions are read-only.
  static Result<Conn> open(const std::string& target, bool read_only);
  Conn(Conn&& o) noexcept;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  Conn& operator=(Conn&&) = delete;
  ~Conn();

  Dialect dialect() const { return pg_ ? Dialect::postgres : Dialect::sqlite; }

  // Statements are compiled once per connection and cached by their text; a statement still in
  // use (e.g. an outer loop) is not shared: a second, uncached one is prepared instead.
  // PostgreSQL: ?, ?N and :name become $n here (outside string literals and :: casts).
  Result<Stmt> prepare(std::string_view sql);
  // One or more statements separated by ';', no parameters, no rows.
  Status exec_script(const std::string& sql);
  // The id the last INSERT gave its row (PostgreSQL: lastval(), so only after an INSERT into a
  // table with an identity column).
  std::int64_t last_insert_id() const;
  // Rows the last INSERT/UPDATE/DELETE changed.
  int changes() const;
  // SQLite only (backup, autocommit state).
  sqlite3* raw() const { return db_; }

  // The writer's cache for the batch in progress (see WriteCache), or nullptr.
  WriteCache* write_cache() { return write_cache_ ? &*write_cache_ : nullptr; }
  // Store's writer only: set at the start of a PostgreSQL batch, reset at its end.
  std::optional<WriteCache>& write_cache_slot() { return write_cache_; }

  // Transaction state as the server sees it: inside one (possibly failed), or not. On a
  // connection that was lost, false: whatever it held is gone.
  bool in_transaction() const;
  // PostgreSQL: a statement of the open transaction failed and only ROLLBACK (TO) is accepted
  // now. SQLite: never (a failed statement leaves the transaction usable).
  bool transaction_failed() const;
  // The error to report for a transaction that ended under us (connection lost, SQLite rolled
  // it back by itself).
  Error transaction_lost_error(std::string_view what) const;
  // PostgreSQL: the connection is known to be gone.
  bool connection_lost() const;
  // PostgreSQL: notices a connection the server closed, and opens it again (PQreset: the same
  // conninfo, so a multi-host URL finds the current primary). Only call it where no statement
  // and no transaction is open. SQLite: nothing to do.
  Status ensure_connected();

 private:
  explicit Conn(sqlite3* db);
  explicit Conn(std::unique_ptr<PgConn> pg);
  Result<Stmt> pg_prepare(std::string_view sql);
  Status pg_exec_script(const std::string& sql);

  // Found by a statement's text without copying it (the text of a submit's largest is 2 KiB).
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<CachedStmt>, TextHash, std::equal_to<>> cache_;
  // The statements found last, by the address of the text they were asked for with (callers pass
  // the same static string every time): found by that address and one comparison of the text,
  // instead of hashing it (issue #6: 6k instructions per submit).
  struct Recent {
    const char* data = nullptr;
    const std::string* text = nullptr;  // cache_'s key: nodes do not move; null while unused
    CachedStmt* entry = nullptr;
  };
  std::array<Recent, 16> recent_{};
  std::unique_ptr<PgConn> pg_;
  std::optional<WriteCache> write_cache_;
};

Error sqlite_error(sqlite3* db, std::string_view what);

}  // namespace statgov::store
