#include "store/test_database.hpp"

#include "store/conn.hpp"

#include <cstdlib>
#include <random>
#include <stdexcept>

namespace statgov::store {

namespace {

const char* admin_target() {
  const char* v = std::getenv("STATGOV_TEST_PG");
  return v && *v ? v : nullptr;
}

Status run_admin(const std::string& admin, const std::string& sql) {
  SG_ASSIGN_OR_RETURN(auto c, Conn::open(admin, false));
  return c.exec_script(sql);
}

}  // namespace

std::string with_dbname(const std::string& target, const std::string& dbname) {
  auto scheme = target.find("://");
  if (scheme == std::string::npos) return target + " dbname=" + dbname;  // the last keyword wins
  auto path = target.find('/', scheme + 3);
  auto query = target.find('?', scheme + 3);
  if (path == std::string::npos || (query != std::string::npos && query < path)) {
    // No database in the URL: insert one before the query.
    return query == std::string::npos ? target + "/" + dbname
                                      : target.substr(0, query) + "/" + dbname + target.substr(query);
  }
  return target.substr(0, path + 1) + dbname + (query == std::string::npos ? "" : target.substr(query));
}

bool TestDatabase::postgres_run() { return admin_target() != nullptr; }

TestDatabase::TestDatabase(const std::filesystem::path& sqlite_file) {
  const char* admin = admin_target();
  if (!admin) {
    target_ = sqlite_file.string();
    return;
  }
  admin_ = admin;
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  name_ = "sgt_" + std::to_string(gen() % 1000000000000ULL);
  // LC_COLLATE C: text sorts by bytes, as in SQLite (docs/postgres.md).
  auto st = run_admin(admin_, "CREATE DATABASE " + name_ + " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
  if (!st.ok()) throw std::runtime_error("STATGOV_TEST_PG: cannot create database " + name_ + ": " + st.error().message_en);
  target_ = with_dbname(admin_, name_);
}

TestDatabase::~TestDatabase() {
  if (name_.empty()) return;
  // FORCE: a test that failed half-way may have left a connection open.
  (void)run_admin(admin_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

}  // namespace statgov::store
