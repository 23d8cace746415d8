// Reference data (regions, GB/T 4754-2017) held in memory for lookups on every request, and the
// loader from the repo's data folder (copied from shared/refdata; never retyped).
//
// Thread safety: built once at start-up (or after a reload, under mu_) and read by all threads.
#pragma once

#include "base/result.hpp"
#include "store/store.hpp"

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>

namespace statgov::services {

struct RegionInfo {
  std::string code, name, parent;
  int level = 0;
};
struct IndustryInfo {
  std::string code, name, section, parent;
  int level = 0;
};

class Catalog {
 public:
  Status reload(store::Store& store);
  std::optional<RegionInfo> region(const std::string& code12) const;
  std::optional<IndustryInfo> industry(const std::string& code) const;
  // Townships (level 4) under a region prefix, for the demo and pickers.
  std::vector<RegionInfo> regions_at_level(int level) const;
  std::vector<IndustryInfo> industries_at_level(int level) const;
  std::size_t region_count() const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, RegionInfo> regions_;      // guarded by mu_
  std::map<std::string, IndustryInfo> industries_;  // guarded by mu_
};

// Loads data_dir/refdata/{hunan,zhuzhou}_divisions.csv and gbt4754_2017_industry.csv into the
// store (idempotent upserts). Region vintages and the 株洲县 -> 渌口区 mapping are recorded.
Status load_reference_data(store::Store& store, const std::string& data_dir);

}  // namespace statgov::services
