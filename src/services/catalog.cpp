#include "services/catalog.hpp"

#include "base/csv.hpp"
#include "base/text.hpp"
#include "domain/codes.hpp"
#include "store/repos.hpp"

#include <fstream>
#include <mutex>
#include <sstream>

namespace statgov::services {

Status Catalog::reload(store::Store& store) {
  auto regions = store.read([](store::Conn& c) { return store::list_regions(c); });
  if (!regions.ok()) return std::move(regions).error();
  auto inds = store.read([](store::Conn& c) { return store::list_industries(c); });
  if (!inds.ok()) return std::move(inds).error();
  std::map<std::string, RegionInfo> r;
  for (auto& x : *regions) r[x.code] = RegionInfo{x.code, x.name, x.parent, x.level};
  std::map<std::string, IndustryInfo> i;
  for (auto& x : *inds) i[x.code] = IndustryInfo{x.code, x.name, x.section, x.parent, x.level};
  std::unique_lock lock(mu_);
  regions_ = std::move(r);
  industries_ = std::move(i);
  return Ok{};
}

std::optional<RegionInfo> Catalog::region(const std::string& code12) const {
  std::shared_lock lock(mu_);
  auto it = regions_.find(code12);
  if (it == regions_.end()) return std::nullopt;
  return it->second;
}

std::optional<IndustryInfo> Catalog::industry(const std::string& code) const {
  std::shared_lock lock(mu_);
  auto it = industries_.find(code);
  if (it == industries_.end()) return std::nullopt;
  return it->second;
}

std::vector<RegionInfo> Catalog::regions_at_level(int level) const {
  std::shared_lock lock(mu_);
  std::vector<RegionInfo> out;
  for (const auto& [k, v] : regions_) {
    if (v.level == level) out.push_back(v);
  }
  return out;
}

std::vector<IndustryInfo> Catalog::industries_at_level(int level) const {
  std::shared_lock lock(mu_);
  std::vector<IndustryInfo> out;
  for (const auto& [k, v] : industries_) {
    if (v.level == level) out.push_back(v);
  }
  return out;
}

std::size_t Catalog::region_count() const {
  std::shared_lock lock(mu_);
  return regions_.size();
}

namespace {

Result<std::vector<CsvRow>> read_csv_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorKind::invalid, "REFDATA_MISSING", "找不到参考数据文件：" + path,
                      "Reference data file not found: " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  SG_ASSIGN_OR_RETURN(std::string text, decode_text(ss.str()));
  return parse_csv(text);
}

int level_from_label(const std::string& label) {
  if (label.rfind("省级", 0) == 0) return 1;
  if (label.rfind("地级", 0) == 0) return 2;
  if (label.rfind("县级", 0) == 0) return 3;
  return 4;
}

Status load_divisions(store::Conn& c, const std::string& path) {
  SG_ASSIGN_OR_RETURN(auto rows, read_csv_file(path));
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& f = rows[i].fields;
    if (f.size() < 5) continue;
    SG_ASSIGN_OR_RETURN(auto code, domain::RegionCode::parse(f[1]));
    store::RegionRow r;
    r.code = code.str();
    r.name = f[2];
    r.level = static_cast<int>(code.level());
    if (r.level != level_from_label(f[3]) && r.level < 4) {
      return make_error(ErrorKind::invalid, "REFDATA_INVALID", "区划级别与代码不符：" + f[1],
                        "Region level does not match its code: " + f[1]);
    }
    r.parent = r.level > 1 ? code.parent().str() : "";
    r.vintage = "2023";
    SG_TRY(store::upsert_region(c, r));
  }
  return Ok{};
}

}  // namespace

Status load_reference_data(store::Store& store, const std::string& data_dir) {
  return store.write([&](store::Conn& c) -> Status {
    SG_TRY(load_divisions(c, data_dir + "/refdata/hunan_divisions.csv"));
    SG_TRY(load_divisions(c, data_dir + "/refdata/zhuzhou_divisions.csv"));
    // 430221 株洲县 became 430212 渌口区 in the 2018 code list (refdata/SOURCE.md): keep the old
    // code, marked with its vintage and successor, so that old records still resolve.
    store::RegionRow old{"430221000000", "株洲县", 3, "430200000000", "2017", "430212000000"};
    SG_TRY(store::upsert_region(c, old));

    SG_ASSIGN_OR_RETURN(auto rows, read_csv_file(data_dir + "/refdata/gbt4754_2017_industry.csv"));
    for (std::size_t i = 1; i < rows.size(); ++i) {
      const auto& f = rows[i].fields;
      if (f.size() < 8) continue;
      store::IndustryRow r;
      r.code = f[0];
      r.level = f[1] == "门类" ? 1 : f[1] == "大类" ? 2 : f[1] == "中类" ? 3 : 4;
      r.name = f[2];
      r.section = f[3];
      r.parent = f[6];
      r.description = f[7];
      SG_TRY(store::upsert_industry(c, r));
    }
    return Ok{};
  });
}

}  // namespace statgov::services
