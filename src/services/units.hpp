// Unit directory (名录库): import from CSV/XLSX with a row-by-row report, search within scope,
// edits with a change history.
//
// Thread safety: stateless over Store, Catalog and Clock; callable from any thread.
#pragma once

#include "base/clock.hpp"
#include "services/catalog.hpp"
#include "services/reporting.hpp"
#include "store/repos.hpp"

namespace statgov::services {

struct ImportOptions {
  bool partial = false;  // import the good rows even if some are bad (default: all or nothing)
};

class UnitService {
 public:
  UnitService(store::Store& store, Catalog& catalog, const Clock& clock)
      : store_(store), catalog_(catalog), clock_(clock) {}

  // bytes: CSV (UTF-8 or GBK/GB18030) or XLSX (detected from the content). Errors: IMPORT_FAILED
  // with one detail per bad row {row, column, code, message, message_en}.
  Result<json> import(const Actor& a, std::string_view bytes, ImportOptions opt = {});
  Result<json> list(const Actor& a, const store::UnitFilter& f);
  Result<json> get(const Actor& a, std::int64_t id);
  // Changes name, region, industry, size, status or attributes; records each change.
  Result<json> update(const Actor& a, std::int64_t id, const json& patch);

  json unit_json(const store::UnitRow& u) const;

 private:
  store::Store& store_;
  Catalog& catalog_;
  const Clock& clock_;
};

}  // namespace statgov::services
