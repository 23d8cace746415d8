// The PostgreSQL side of Conn and Stmt over libpq (see postgres.hpp).
//
// A cached statement is translated once; it is prepared on the server (PQprepare) at its first
// execution, once per list of parameter types bound (an integer is INT8, a double FLOAT8, a blob
// BYTEA, text and NULL are left to the server to infer), and executed with PQexecPrepared. An
// uncached one (still in use, or the cache is full) runs with PQexecParams. Results are fetched
// whole and walked by step(), so a statement can stay open while others run on the connection.
//
// Statements sent without waiting (issue #6). On the writer connection, inside a transaction,
// Stmt::exec() and "SAVEPOINT" do not wait for the server's answer: the connection enters libpq's
// pipeline mode and they are queued (PQsendPrepare / PQsendQueryPrepared, buffered in libpq). The
// next statement whose answer is needed (a step(), last_insert_id(), changes(), "RELEASE",
// "COMMIT") joins the queue, a Sync follows, and every answer is read in order: one round trip
// for what used to be one per statement. The first error among them is that statement's error;
// the server skips everything after it up to the Sync (PGRES_PIPELINE_ABORTED), and the
// transaction is then failed, as it would have been had each statement waited. The Store's
// writer ends every job with "RELEASE w", so a job's statements are all answered, and their
// errors known, before the job is kept or rolled back to its savepoint, and before the next job
// starts: a failed statement still fails its own job only. Readers (read-only sessions) and
// statements outside a transaction always wait for their answer.
#include "store/postgres.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace statgov::store {

namespace {

constexpr Oid kInt8 = 20;
constexpr Oid kFloat8 = 701;
constexpr Oid kBytea = 17;
constexpr Oid kBool = 16;

bool ident_start(char ch) { return std::isalpha(static_cast<unsigned char>(ch)) || ch == '_'; }
bool ident_char(char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; }

// libpq prints notices (CREATE TABLE IF NOT EXISTS ... skipping) to stderr by default.
void log_notice(void*, const char* message) { spdlog::debug("postgres: {}", message); }

Status setup_session(PgConn& c) {
  PQsetNoticeProcessor(c.pg, log_notice, nullptr);
  std::string sql = "SET client_min_messages = warning";
  // Mirrors the SQLite readers, which open the file read-only.
  if (c.read_only) sql += "; SET default_transaction_read_only = on";
  PGresult* r = PQexec(c.pg, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  Error e = ok ? Error{} : pg_error_from(PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "",
                                         PQresultErrorMessage(r), PQstatus(c.pg) == CONNECTION_OK, "session setup");
  PQclear(r);
  if (!ok) return e;
  return Ok{};
}

Error result_error(PGresult* r, const PgConn& c, std::string_view what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = r ? PQresultErrorMessage(r) : "";
  if (msg.empty()) msg = PQerrorMessage(c.pg);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return pg_error_from(state ? state : "", msg, PQstatus(c.pg) == CONNECTION_OK, what);
}

void set_changes(PgConn& c, PGresult* r) {
  const char* n = PQcmdTuples(r);
  if (n && *n) c.changes = std::atoi(n);
}

// The parameters of the next execution of s, as libpq takes them.
struct Params {
  std::vector<const char*> vals;
  std::vector<int> lens, fmts;
};

Result<Params> params_of(const PgStmt& s) {
  const auto n = static_cast<std::size_t>(s.t.params);
  Params p{std::vector<const char*>(n), std::vector<int>(n), std::vector<int>(n)};
  for (std::size_t k = 0; k < n; ++k) {
    // Text travels NUL-terminated: a NUL inside would cut it short without a word.
    if (s.set[k] && !s.binary[k] && s.values[k].find('\0') != std::string::npos) {
      return make_error(ErrorKind::invalid, "BAD_VALUE", "文本中含有空字符（NUL）", "A text value contains a NUL character");
    }
    p.vals[k] = s.set[k] ? s.values[k].c_str() : nullptr;
    p.lens[k] = static_cast<int>(s.values[k].size());
    p.fmts[k] = s.binary[k];
  }
  return p;
}

// The server-side name of s for the parameter types bound now, or nullptr if not prepared yet.
const std::string* prepared_name(const PgStmt& s) {
  for (const auto& [types, nm] : s.prepared) {
    if (types == s.types) return &nm;
  }
  return nullptr;
}

// Statements may be sent without waiting: the writer's session, inside a transaction that has
// not failed (or already in pipeline mode, which only a transaction enters).
bool can_defer(const PgConn& c) {
  if (c.read_only) return false;
  return c.pipeline || PQtransactionStatus(c.pg) == PQTRANS_INTRANS;
}

Status enter_pipeline(PgConn& c) {
  if (c.pipeline) return Ok{};
  if (PQenterPipelineMode(c.pg) != 1) return result_error(nullptr, c, "pipeline mode");
  c.pipeline = true;
  return Ok{};
}

// Queues s in the pipeline (with its PQsendPrepare first, the first time these types are bound).
Status send_stmt(PgConn& c, PgStmt& s, const Params& p) {
  SG_TRY(enter_pipeline(c));
  const int n = s.t.params;
  if (!s.cached) {
    if (PQsendQueryParams(c.pg, s.t.sql.c_str(), n, s.types.data(), p.vals.data(), p.lens.data(), p.fmts.data(), 0) != 1) {
      return result_error(nullptr, c, s.t.sql);
    }
    c.pending.push_back({s.t.sql, nullptr, {}});
    return Ok{};
  }
  const std::string* name = prepared_name(s);
  if (!name) {
    std::string nm = "sg" + std::to_string(c.next_name++);
    if (PQsendPrepare(c.pg, nm.c_str(), s.t.sql.c_str(), n, s.types.data()) != 1) return result_error(nullptr, c, s.t.sql);
    c.pending.push_back({s.t.sql, &s, nm});
    s.prepared.emplace_back(s.types, std::move(nm));
    name = &s.prepared.back().second;
  }
  if (PQsendQueryPrepared(c.pg, name->c_str(), n, p.vals.data(), p.lens.data(), p.fmts.data(), 0) != 1) {
    return result_error(nullptr, c, s.t.sql);
  }
  c.pending.push_back({s.t.sql, nullptr, {}});
  return Ok{};
}

// Queues one statement without parameters (SAVEPOINT, RELEASE, COMMIT, SELECT lastval()).
Status send_script(PgConn& c, const std::string& sql) {
  SG_TRY(enter_pipeline(c));
  if (PQsendQueryParams(c.pg, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
    return result_error(nullptr, c, sql);
  }
  c.pending.push_back({sql, nullptr, {}});
  return Ok{};
}

// Sends a Sync after the queued statements, reads every answer in order and leaves pipeline
// mode. Returns the first error among them (those after it were skipped by the server). If `last`
// is given, it receives the result of the last statement when that one succeeded (the caller
// clears it). Nothing queued: Ok at once.
Status drain(PgConn& c, PGresult** last = nullptr) {
  if (!c.pipeline) return Ok{};
  std::optional<Error> first;
  bool broken = PQpipelineSync(c.pg) != 1;
  for (std::size_t i = 0; i < c.pending.size() && !broken; ++i) {
    PgPending& e = c.pending[i];
    PGresult* r = PQgetResult(c.pg);
    if (!r) {
      broken = true;
      break;
    }
    const auto st = PQresultStatus(r);
    const bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (e.stmt && !ok) {
      // Not prepared after all (failed, or skipped after an earlier error): prepare it again
      // next time.
      auto& v = e.stmt->prepared;
      std::erase_if(v, [&](const auto& tp) { return tp.second == e.name; });
    }
    if (!ok && !first && st != PGRES_PIPELINE_ABORTED) first = result_error(r, c, e.what);
    if (ok && !e.stmt) set_changes(c, r);
    if (ok && last && i + 1 == c.pending.size()) {
      *last = r;
    } else {
      PQclear(r);
    }
    // Each statement's results end with a NULL.
    for (int guard = 0; guard < 8; ++guard) {
      PGresult* more = PQgetResult(c.pg);
      if (!more) break;
      PQclear(more);
    }
    if (PQstatus(c.pg) != CONNECTION_OK) broken = true;
  }
  if (!broken) {
    PGresult* sync = PQgetResult(c.pg);
    broken = !sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC;
    PQclear(sync);
  }
  if (!broken) broken = PQexitPipelineMode(c.pg) != 1;
  if (broken && (!first || PQstatus(c.pg) != CONNECTION_OK)) {
    // NOTE: a connection that answered out of step can't be trusted with the next statement
    // either: closing it makes the Store see the transaction lost and open a new one.
    if (PQstatus(c.pg) == CONNECTION_OK) {
      spdlog::error("postgres pipeline out of step; opening the connection again");
      PQreset(c.pg);
      for (auto& [sql, st] : c.cache) st->prepared.clear();
      if (PQstatus(c.pg) == CONNECTION_OK) (void)setup_session(c);
    }
    first = pg_error_from("", PQerrorMessage(c.pg), false, "pipeline");
  }
  c.pending.clear();
  c.pipeline = PQpipelineStatus(c.pg) != PQ_PIPELINE_OFF && PQstatus(c.pg) == CONNECTION_OK;
  if (first) {
    if (last && *last) {
      PQclear(*last);
      *last = nullptr;
    }
    c.failed = first;
    return *first;
  }
  return Ok{};
}

// The error a statement of a transaction that failed in the pipeline reports without asking the
// server, or nullptr.
const Error* failed_before(const PgConn& c) {
  if (c.failed && !c.pipeline && PQtransactionStatus(c.pg) == PQTRANS_INERROR) return &*c.failed;
  return nullptr;
}

}  // namespace

TranslatedSql translate_placeholders(std::string_view in) {
  TranslatedSql out;
  out.sql.reserve(in.size() + 16);
  std::size_t i = 0;
  auto number = [&](int n) {
    out.sql += '$';
    out.sql += std::to_string(n);
    if (n > out.params) out.params = n;
  };
  while (i < in.size()) {
    const char ch = in[i];
    if (ch == '\'' || ch == '"') {  // literal or quoted name; a doubled quote stays inside
      std::size_t j = i + 1;
      for (; j < in.size(); ++j) {
        if (in[j] == ch) {
          if (j + 1 < in.size() && in[j + 1] == ch) { ++j; continue; }
          break;
        }
      }
      j = std::min(j + 1, in.size());
      out.sql.append(in.substr(i, j - i));
      i = j;
    } else if (ch == '-' && i + 1 < in.size() && in[i + 1] == '-') {
      std::size_t j = in.find('\n', i);
      j = j == std::string_view::npos ? in.size() : j;
      out.sql.append(in.substr(i, j - i));
      i = j;
    } else if (ch == '/' && i + 1 < in.size() && in[i + 1] == '*') {
      std::size_t j = in.find("*/", i + 2);
      j = j == std::string_view::npos ? in.size() : j + 2;
      out.sql.append(in.substr(i, j - i));
      i = j;
    } else if (ch == ':' && i + 1 < in.size() && in[i + 1] == ':') {
      out.sql += "::";
      i += 2;
    } else if (ch == ':' && i + 1 < in.size() && ident_start(in[i + 1])) {
      std::size_t j = i + 1;
      while (j < in.size() && ident_char(in[j])) ++j;
      std::string name(in.substr(i, j - i));
      int n = 0;
      for (const auto& [k, v] : out.names) {
        if (k == name) n = v;
      }
      if (n == 0) {
        n = out.params + 1;
        out.names.emplace_back(std::move(name), n);
      }
      number(n);
      i = j;
    } else if (ch == '?') {
      std::size_t j = i + 1;
      int n = 0;
      while (j < in.size() && std::isdigit(static_cast<unsigned char>(in[j]))) n = n * 10 + (in[j++] - '0');
      number(j > i + 1 ? n : out.params + 1);
      i = j;
    } else {
      out.sql += ch;
      ++i;
    }
  }
  return out;
}

Error pg_error_from(std::string_view state, std::string_view msg, bool connection_ok, std::string_view what) {
  auto cls = state.substr(0, std::min<std::size_t>(2, state.size()));
  if (!connection_ok || state.empty() || cls == "08" || state == "57P01" || state == "57P02" || state == "57P03") {
    // The server went away (restart, failover, network): nothing of this request is known to be
    // saved. The next use of the connection opens it again.
    spdlog::error("postgres connection lost in {}: {}", what, msg);
    return make_error(ErrorKind::unavailable, "STORAGE_IO", "与数据库的连接中断，本次数据未能确认保存，请稍后重试",
                      "The connection to the database was lost; this change was not confirmed as saved; "
                      "try again later");
  }
  if (cls == "23") {
    return make_error(ErrorKind::conflict, "CONFLICT", "数据冲突：" + std::string(msg), "Conflict: " + std::string(msg));
  }
  if (state == "53100") {
    spdlog::error("storage full in {}: {}", what, msg);
    return make_error(ErrorKind::unavailable, "STORAGE_FULL",
                      "服务器存储空间已满，本次数据未保存；已保存的数据不受影响，请稍后重试",
                      "The server's storage is full; this change was not saved (nothing saved "
                      "before is affected); try again later");
  }
  if (state == "25006") {
    // A read-only transaction: default_transaction_read_only, or a standby (not yet promoted).
    spdlog::error("storage read-only in {}: {}", what, msg);
    return make_error(ErrorKind::unavailable, "STORAGE_READ_ONLY",
                      "数据库当前只读，本次数据未保存；已保存的数据不受影响，请稍后重试",
                      "The database is read-only at the moment; this change was not saved "
                      "(nothing saved before is affected); try again later");
  }
  if (cls == "40" || cls == "53" || state == "55P03" || state == "57014") {
    return make_error(ErrorKind::unavailable, "STORAGE_BUSY", "数据库繁忙，请稍后重试",
                      "The database is busy; try again later");
  }
  if (cls == "58" || state == "XX001" || state == "XX002") {
    spdlog::error("storage I/O error in {}: {}", what, msg);
    return make_error(ErrorKind::unavailable, "STORAGE_IO", "服务器存储读写失败，本次数据未保存，请稍后重试",
                      "The server's storage failed to read or write; this change was not saved; "
                      "try again later");
  }
  if (cls == "22") {
    // A value the column can't hold (bad UTF-8, out of range): the request's fault, not ours.
    return make_error(ErrorKind::invalid, "BAD_VALUE", "数据值无效：" + std::string(msg),
                      "A value is not valid: " + std::string(msg));
  }
  return make_error(ErrorKind::internal, "STORAGE", "数据库错误：" + std::string(what),
                    "Storage error in " + std::string(what) + ": " + std::string(msg));
}

std::string redact_target(std::string_view t) {
  std::string s(t);
  if (auto scheme = s.find("://"); scheme != std::string::npos) {
    auto at = s.find('@', scheme + 3);
    auto slash = s.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      auto colon = s.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (std::size_t p = s.find("password="); p != std::string::npos; p = s.find("password=", p + 1)) {
    std::size_t end = s.find_first_of(" &", p);
    end = end == std::string::npos ? s.size() : end;
    s.replace(p + 9, end - p - 9, "***");
  }
  return s;
}

// ---- PgStmt, PgConn -----------------------------------------------------------------------------

PgStmt::PgStmt(PgConn* c, TranslatedSql tr) : conn(c), t(std::move(tr)) {
  const auto n = static_cast<std::size_t>(t.params);
  values.resize(n);
  types.assign(n, 0);
  set.assign(n, 0);
  binary.assign(n, 0);
}

PgStmt::~PgStmt() {
  clear_result();
  // The server's prepared statements go with the session; a statement dropped from a live
  // connection (only at the connection's end) needs no DEALLOCATE.
}

void PgStmt::clear_result() {
  if (res) PQclear(res);
  res = nullptr;
  row = -1;
  rows = 0;
  done = false;
}

void PgStmt::clear_bindings() {
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i].clear();
    types[i] = 0;
    set[i] = 0;
    binary[i] = 0;
  }
}

PgConn::~PgConn() {
  cache.clear();
  if (pg) PQfinish(pg);
}

Result<std::unique_ptr<PgConn>> pg_open(const std::string& target, bool read_only) {
  // Keywords before "dbname" are defaults the conninfo in it may override.
  const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname", nullptr};
  const char* vals[] = {"10", "statgov", "UTF8", target.c_str(), nullptr};
  auto c = std::make_unique<PgConn>();
  c->target = target;
  c->read_only = read_only;
  c->pg = PQconnectdbParams(keys, vals, 1);
  if (!c->pg) {
    return make_error(ErrorKind::unavailable, "STORAGE_IO", "无法连接数据库", "Cannot connect to the database (out of memory)");
  }
  if (PQstatus(c->pg) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c->pg);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    spdlog::error("cannot connect to {}: {}", redact_target(target), msg);
    return make_error(ErrorKind::unavailable, "STORAGE_IO", "无法连接数据库 " + redact_target(target) + "：" + msg,
                      "Cannot connect to the database " + redact_target(target) + ": " + msg);
  }
  SG_TRY(setup_session(*c));
  return c;
}

std::int64_t pg_last_insert_id(PgConn& c) {
  if (failed_before(c)) return 0;
  PGresult* r = nullptr;
  if (c.pipeline) {
    // The INSERT is likely still queued: its answer and lastval() come back in one round trip.
    // An error is kept in c.failed for the function's next statement.
    const int changes = c.changes;
    if (!send_script(c, "SELECT lastval()").ok() || !drain(c, &r).ok()) return 0;
    c.changes = changes;  // the INSERT's count, not the SELECT's
  } else {
    r = PQexec(c.pg, "SELECT lastval()");
  }
  std::int64_t id = 0;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) id = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
  PQclear(r);
  return id;
}

int pg_changes(PgConn& c) {
  // The count of the last statement, which may still be queued; an error is kept in c.failed.
  (void)drain(c);
  return c.changes;
}

bool pg_in_transaction(const PgConn& c) {
  const auto s = PQtransactionStatus(c.pg);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

bool pg_transaction_failed(const PgConn& c) { return PQtransactionStatus(c.pg) == PQTRANS_INERROR; }

bool pg_connection_lost(const PgConn& c) { return PQstatus(c.pg) != CONNECTION_OK; }

Error pg_connection_error(const PgConn& c, std::string_view what) {
  std::string msg = PQerrorMessage(c.pg);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return pg_error_from("", msg, false, what);
}

Status pg_ensure_connected(PgConn& c) {
  // NOTE: only called between transactions, when nothing is queued; a pipeline left by a
  // connection that broke mid-way is dropped with it.
  if (c.pipeline && PQstatus(c.pg) != CONNECTION_OK) {
    c.pending.clear();
    c.pipeline = false;
  }
  c.failed.reset();
  // A server that closed the connection (restart, pg_terminate_backend) left an error message
  // and then end-of-file on the socket: the first read takes the message, the second the EOF.
  for (int i = 0; i < 2 && PQstatus(c.pg) == CONNECTION_OK; ++i) {
    if (!PQconsumeInput(c.pg)) break;
  }
  if (PQstatus(c.pg) == CONNECTION_OK) return Ok{};
  PQreset(c.pg);
  if (PQstatus(c.pg) != CONNECTION_OK) return pg_connection_error(c, "reconnect");
  // The server-side prepared statements went with the old session.
  for (auto& [sql, s] : c.cache) s->prepared.clear();
  SG_TRY(setup_session(c));
  spdlog::warn("reconnected to PostgreSQL at {}", redact_target(c.target));
  return Ok{};
}

// ---- Conn ---------------------------------------------------------------------------------------

Result<Stmt> Conn::pg_prepare(std::string_view sql) {
  PgConn& c = *pg_;
  if (PQstatus(c.pg) != CONNECTION_OK) return pg_connection_error(c, sql);
  auto it = c.cache.find(std::string(sql));
  if (it != c.cache.end() && !it->second->in_use) {
    it->second->in_use = true;
    return Stmt(it->second.get(), false);
  }
  if (it == c.cache.end() && c.cache.size() < 512) {
    auto s = std::make_unique<PgStmt>(&c, translate_placeholders(sql));
    s->cached = true;
    s->in_use = true;
    PgStmt* p = s.get();
    c.cache.emplace(std::string(sql), std::move(s));
    return Stmt(p, false);
  }
  return Stmt(std::make_unique<PgStmt>(&c, translate_placeholders(sql)).release(), true);
}

Status Conn::pg_exec_script(const std::string& sql) {
  PgConn& c = *pg_;
  const bool single = sql.find(';') == std::string::npos;
  if (single && sql.starts_with("SAVEPOINT ") && can_defer(c)) {
    // Its answer comes with the job's first statement that waits (see the top of the file).
    return send_script(c, sql);
  }
  if (sql == "BEGIN" && !c.read_only && !c.pipeline && PQtransactionStatus(c.pg) == PQTRANS_IDLE) {
    // The writer's batch: its answer comes with the first statement that waits (Store::begin_batch).
    return send_script(c, sql);
  }
  PGresult* r = nullptr;
  if (c.pipeline && single && !sql.starts_with("ROLLBACK")) {
    // RELEASE, COMMIT: the end of a job or of the batch, and the answers of all queued
    // statements with it. The first error among them is the caller's.
    SG_TRY(send_script(c, sql));
    SG_TRY(drain(c, &r));
  } else {
    if (c.pipeline) {
      // A rollback does not wait for the statements before it (their errors no longer matter),
      // but it must run after them, and not be skipped because one of them failed.
      (void)drain(c);
    }
    c.failed.reset();
    r = PQexec(c.pg, sql.c_str());
  }
  const auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Error e = result_error(r, c, sql);
    PQclear(r);
    return e;
  }
  set_changes(c, r);
  // NOTE: COMMIT of a transaction in which a statement failed succeeds as far as libpq is
  // concerned and answers "ROLLBACK": nothing was saved, which the caller must hear.
  const bool rolled_back = sql == "COMMIT" && std::strcmp(PQcmdStatus(r), "ROLLBACK") == 0;
  PQclear(r);
  if (rolled_back) {
    return make_error(ErrorKind::internal, "STORAGE", "事务已回滚，本次数据未保存",
                      "The transaction was rolled back (a statement in it failed); nothing was saved");
  }
  return Ok{};
}

// ---- Stmt ---------------------------------------------------------------------------------------

void Stmt::pg_release() {
  pg_->clear_result();
  pg_->clear_bindings();
  if (pg_owned_) {
    std::unique_ptr<PgStmt> gone(pg_);
  } else {
    pg_->in_use = false;
  }
  pg_ = nullptr;
}

void Stmt::pg_bind(int i, std::int64_t v) {
  if (i < 1 || i > pg_->t.params) return;
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  const auto k = static_cast<std::size_t>(i - 1);
  pg_->values[k].assign(buf, end);
  pg_->types[k] = kInt8;
  pg_->set[k] = 1;
  pg_->binary[k] = 0;
}

void Stmt::pg_bind(int i, double v) {
  if (i < 1 || i > pg_->t.params) return;
  const auto k = static_cast<std::size_t>(i - 1);
  if (std::isnan(v)) {
    pg_->values[k] = "NaN";
  } else if (std::isinf(v)) {
    pg_->values[k] = v > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that reads back exactly
    (void)ec;
    pg_->values[k].assign(buf, end);
  }
  pg_->types[k] = kFloat8;
  pg_->set[k] = 1;
  pg_->binary[k] = 0;
}

void Stmt::pg_bind(int i, std::string_view v, bool blob) {
  if (i < 1 || i > pg_->t.params) return;
  const auto k = static_cast<std::size_t>(i - 1);
  pg_->values[k].assign(v);
  pg_->types[k] = blob ? kBytea : 0;
  pg_->set[k] = 1;
  pg_->binary[k] = blob ? 1 : 0;
}

void Stmt::pg_bind_null(int i) {
  if (i < 1 || i > pg_->t.params) return;
  const auto k = static_cast<std::size_t>(i - 1);
  pg_->values[k].clear();
  pg_->types[k] = 0;
  pg_->set[k] = 0;
  pg_->binary[k] = 0;
}

int Stmt::pg_param_index(const char* name) const {
  for (const auto& [k, v] : pg_->t.names) {
    if (k == name) return v;
  }
  return 0;
}

void Stmt::pg_reset() { pg_->clear_result(); }

Status Stmt::pg_exec() {
  PgStmt& s = *pg_;
  if (s.res && !s.done) {  // already run by step(): walk to the end, as the SQLite loop does
    s.row = s.rows;
    s.done = true;
    return Ok{};
  }
  PgConn& c = *s.conn;
  if (!can_defer(c)) {
    for (;;) {
      auto r = pg_step();
      if (!r.ok()) return std::move(r).error();
      if (!*r) return Ok{};
    }
  }
  if (const Error* e = failed_before(c)) return *e;
  SG_ASSIGN_OR_RETURN(auto p, params_of(s));
  s.clear_result();
  return send_stmt(c, s, p);
}

Result<bool> Stmt::pg_step() {
  PgStmt& s = *pg_;
  if (s.done) s.clear_result();  // as SQLite: stepping a finished statement runs it again
  if (s.res) {
    ++s.row;
  } else {
    PgConn& c = *s.conn;
    const int n = s.t.params;
    if (const Error* e = failed_before(c)) return *e;
    SG_ASSIGN_OR_RETURN(auto p, params_of(s));
    const auto& vals = p.vals;
    const auto& lens = p.lens;
    const auto& fmts = p.fmts;
    PGresult* r = nullptr;
    if (c.pipeline) {
      // Statements are queued before this one: it joins them, and one round trip answers all.
      SG_TRY(send_stmt(c, s, p));
      SG_TRY(drain(c, &r));
    } else if (s.cached) {
      const std::string* name = prepared_name(s);
      if (!name) {
        std::string nm = "sg" + std::to_string(c.next_name++);
        PGresult* p = PQprepare(c.pg, nm.c_str(), s.t.sql.c_str(), n, s.types.data());
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
          Error e = result_error(p, c, s.t.sql);
          PQclear(p);
          return e;
        }
        PQclear(p);
        s.prepared.emplace_back(s.types, std::move(nm));
        name = &s.prepared.back().second;
      }
      r = PQexecPrepared(c.pg, name->c_str(), n, vals.data(), lens.data(), fmts.data(), 0);
    } else {
      r = PQexecParams(c.pg, s.t.sql.c_str(), n, s.types.data(), vals.data(), lens.data(), fmts.data(), 0);
    }
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      Error e = result_error(r, c, s.t.sql);
      PQclear(r);
      return e;
    }
    set_changes(c, r);
    s.res = r;
    s.rows = PQntuples(r);
    s.row = 0;
  }
  if (s.row < s.rows) return true;
  s.done = true;
  return false;
}

std::int64_t Stmt::pg_int64(int col) const {
  const PgStmt& s = *pg_;
  if (pg_is_null(col)) return 0;
  const char* v = PQgetvalue(s.res, s.row, col);
  const char* end = v + PQgetlength(s.res, s.row, col);
  std::int64_t x = 0;
  auto [p, ec] = std::from_chars(v, end, x);
  if (ec == std::errc() && p == end) return x;
  if (PQftype(s.res, col) == kBool) return *v == 't' ? 1 : 0;
  // NUMERIC with a fraction, or a float: truncated, as SQLite does.
  return static_cast<std::int64_t>(std::strtod(v, nullptr));
}

double Stmt::pg_real(int col) const {
  const PgStmt& s = *pg_;
  if (pg_is_null(col)) return 0;
  return std::strtod(PQgetvalue(s.res, s.row, col), nullptr);
}

bool Stmt::pg_is_null(int col) const {
  const PgStmt& s = *pg_;
  if (!s.res || s.row < 0 || s.row >= s.rows || col < 0 || col >= PQnfields(s.res)) return true;
  return PQgetisnull(s.res, s.row, col) != 0;
}

std::string Stmt::pg_text(int col) const {
  const PgStmt& s = *pg_;
  if (pg_is_null(col)) return {};
  const char* v = PQgetvalue(s.res, s.row, col);
  if (PQftype(s.res, col) == kBytea) {
    std::size_t n = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &n);
    if (!raw) return {};
    std::string out(reinterpret_cast<const char*>(raw), n);
    PQfreemem(raw);
    return out;
  }
  return std::string(v, static_cast<std::size_t>(PQgetlength(s.res, s.row, col)));
}

}  // namespace statgov::store
