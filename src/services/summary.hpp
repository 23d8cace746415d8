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

// Accepted reports of one form and period, unit by unit, with the same units' accepted values of
// the same period last year: what the tables of a release are built from (services/releases).
struct PublicationRow {
  std::int64_t unit_id = 0;
  cube::UnitDims dims;
  std::vector<double> current;   // per code, NaN = missing
  std::vector<double> previous;  // empty: no accepted report for the comparison period
};
struct PublicationRows {
  FormPtr form;
  std::string period, compare_period;
  std::vector<std::string> codes;  // numeric indicators, in the order of the values
  std::vector<PublicationRow> rows;
};

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
  // No role check: for services that check their own (releases).
  Result<PublicationRows> accepted_rows(const std::string& form, const std::string& period);

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
