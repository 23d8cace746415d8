#pragma once

#include <string>
#include <vector>

namespace statgov::store {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& sqlite_migrations();
const std::vector<Migration>& postgres_migrations();

}  // namespace statgov::store
