// Summary tables (汇总) from the in-memory cube: rollups by region, industry or size with
// comparable-unit growth, the units behind a row, outliers, and the Excel 汇总表.
//
// Thread safety: loaded_ (the cache of cubes per form, period and comparison) is guarded by mu_;
// each Loaded has its own shared_mutex: catch-up from the change feed takes it exclusively,
// queries take it shared. Callable from any thread.
#pragma once

#include "cube/cube.hpp"
#include "services/change_feed.hpp"
#include "services/reporting.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>

namespace statgov::services {

struct SummaryQuery {
  std::string form, period;
  std::string by = "county";        // city | county | township | section | division | size
  std::string states = "submitted";  // submitted | accepted
  std::string compare = "ly";        // ly | prev
  std::string key;                   // a row key (units drill-down)
  std::string indicator;             // outliers
};

class SummaryService {
 public:
  SummaryService(store::Store& store, FormService& forms, Catalog& catalog, ChangeFeed& feed)
      : store_(store), forms_(forms), catalog_(catalog), feed_(feed) {}

  Result<json> summary(const Actor& a, const SummaryQuery& q);
  Result<std::string> summary_xlsx(const Actor& a, const SummaryQuery& q);
  Result<json> units(const Actor& a, const SummaryQuery& q);
  Result<json> outliers(const Actor& a, const SummaryQuery& q);

  struct Loaded;

 private:
  Result<std::shared_ptr<Loaded>> cube_for(const SummaryQuery& q);
  Status catch_up(Loaded& l);

  store::Store& store_;
  FormService& forms_;
  Catalog& catalog_;
  ChangeFeed& feed_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Loaded>> loaded_;  // guarded by mu_
};

}  // namespace statgov::services
