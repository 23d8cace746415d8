#include "store/store.hpp"

#include "store/migrations.hpp"

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
  for (int i = 0; i < readers; ++i) {
    SG_ASSIGN_OR_RETURN(auto r, SqliteConn::open(path, true));
    s->readers_.push_back(std::make_unique<SqliteConn>(std::move(r)));
    s->idle_.push_back(s->readers_.back().get());
  }
  return s;
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
