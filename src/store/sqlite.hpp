// Thin RAII over the SQLite C API. One Conn is used by one thread at a time; the Store
// hands connections out and guarantees that.
#pragma once

#include "base/result.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <memory>
#include <unordered_map>

namespace statgov::store {

class Stmt {
 public:
  // in_use: the connection's cache flag of a cached statement (reset, not finalized, at the end).
  Stmt(sqlite3* db, sqlite3_stmt* s, bool* in_use = nullptr) : db_(db), s_(s), in_use_(in_use) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_), in_use_(o.in_use_) {
    o.s_ = nullptr;
    o.in_use_ = nullptr;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (in_use_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
      *in_use_ = false;
    } else {
      sqlite3_finalize(s_);
    }
  }

  // Parameters are 1-based, as in SQLite.
  Stmt& bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& bind(int i, int v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& bind(int i, double v) { sqlite3_bind_double(s_, i, v); return *this; }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind_null(int i) { sqlite3_bind_null(s_, i); return *this; }
  // Named parameters (":name"). Binding a name the statement lacks is a no-op, so optional
  // clauses (scope filters) can be bound unconditionally.
  template <typename T>
  Stmt& set(const char* name, const T& v) {
    int i = sqlite3_bind_parameter_index(s_, name);
    if (i > 0) bind(i, v);
    return *this;
  }
  template <typename T>
  Stmt& bind(int i, const std::optional<T>& v) {
    if (v) return bind(i, *v);
    return bind_null(i);
  }

  // true: a row is ready; false: done. Errors are returned.
  Result<bool> step();
  Status exec();  // step until done
  void reset() { sqlite3_reset(s_); }

  std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
  int int32(int col) const { return sqlite3_column_int(s_, col); }
  double real(int col) const { return sqlite3_column_double(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  std::optional<std::int64_t> opt_int64(int col) const {
    if (is_null(col)) return std::nullopt;
    return int64(col);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
  bool* in_use_;
};

class Conn {
 public:
  static Result<Conn> open(const std::string& path, bool read_only);
  Conn(Conn&& o) noexcept : db_(o.db_), cache_(std::move(o.cache_)) { o.db_ = nullptr; }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  Conn& operator=(Conn&&) = delete;
  ~Conn();

  // Statements are compiled once per connection and cached by their text; a statement still in
  // use (e.g. an outer loop) is not shared: a second, uncached one is prepared instead.
  Result<Stmt> prepare(std::string_view sql);
  Status exec_script(const std::string& sql);
  std::int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() const { return db_; }

 private:
  explicit Conn(sqlite3* db) : db_(db) {}
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    std::unique_ptr<bool> in_use = std::make_unique<bool>(false);
  };
  sqlite3* db_;
  std::unordered_map<std::string, Cached> cache_;
};

// NOTE: the old name, kept so that branches written before the rename still build after the merge.
using SqliteConn = Conn;

Error sqlite_error(sqlite3* db, std::string_view what);

}  // namespace statgov::store
