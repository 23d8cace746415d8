// The PostgreSQL side of Conn and Stmt (libpq). Internal to store/: the rest of the program sees
// conn.hpp only. Like the SQLite side, a PgConn and its statements are used by one thread at a time.
#pragma once

#include "store/conn.hpp"

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace statgov::store {

// A statement's text with SQLite's parameters (?, ?N, :name) turned into PostgreSQL's $n, numbered
// as SQLite numbers them: ?N is N, a bare ? or a new :name takes the largest number so far + 1,
// a :name seen before keeps its number. String literals, quoted names, comments and :: casts are
// copied unchanged.
struct TranslatedSql {
  std::string sql;
  std::vector<std::pair<std::string, int>> names;  // ":name" -> n
  int params = 0;                                  // largest n
};
TranslatedSql translate_placeholders(std::string_view sql);

// The Error for a failed PostgreSQL call: `sqlstate` as libpq reports it (empty when the server
// sent none, e.g. the connection broke), `connection_ok` whether the connection still works.
// Uses the codes of sqlite_error, so clients and operators see one set whatever the backend.
Error pg_error_from(std::string_view sqlstate, std::string_view message, bool connection_ok, std::string_view what);

struct PgStmt {
  PgConn* conn = nullptr;
  TranslatedSql t;
  bool cached = false;
  bool in_use = false;
  // Server-side prepared statements of this text, one per list of parameter types bound.
  std::vector<std::pair<std::vector<Oid>, std::string>> prepared;
  // Parameters of the next execution (index n-1).
  std::vector<std::string> values;
  std::vector<Oid> types;
  std::vector<char> set;  // 0: NULL
  std::vector<char> binary;
  // The result of the last execution, walked by step().
  PGresult* res = nullptr;
  int row = -1;
  int rows = 0;
  bool done = false;

  explicit PgStmt(PgConn* c, TranslatedSql tr);
  ~PgStmt();
  void clear_result();
  void clear_bindings();
};

// A statement sent in pipeline mode whose answer has not been read yet (see postgres.cpp,
// "Statements sent without waiting").
struct PgPending {
  std::string what;        // the statement, for the error message
  PgStmt* stmt = nullptr;  // set for a PQsendPrepare: its name is forgotten if the prepare fails
  std::string name;
};

struct PgConn {
  PGconn* pg = nullptr;
  std::string target;
  bool read_only = false;
  int changes = 0;
  int next_name = 0;
  std::unordered_map<std::string, std::unique_ptr<PgStmt>> cache;
  // Pipeline mode is on exactly while `pending` holds statements whose answers are unread.
  bool pipeline = false;
  std::vector<PgPending> pending;
  // The first error of a statement sent without waiting, once its answer was read, until the
  // transaction or savepoint is rolled back: what a later statement of the failed transaction
  // reports (the server would only say "current transaction is aborted").
  std::optional<Error> failed;
  ~PgConn();
};

Result<std::unique_ptr<PgConn>> pg_open(const std::string& target, bool read_only);
std::int64_t pg_last_insert_id(PgConn& c);
int pg_changes(PgConn& c);
bool pg_in_transaction(const PgConn& c);
bool pg_transaction_failed(const PgConn& c);
bool pg_connection_lost(const PgConn& c);
Error pg_connection_error(const PgConn& c, std::string_view what);
Status pg_ensure_connected(PgConn& c);

}  // namespace statgov::store
