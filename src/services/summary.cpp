#include "services/summary.hpp"

#include "base/xlsx.hpp"
#include "cube/outliers.hpp"
#include "security/policy.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace statgov::services {

struct SummaryService::Loaded {
  FormPtr form;
  domain::Period period = domain::Period::year(2000), compare = domain::Period::year(2000);
  std::vector<std::string> codes;  // numeric indicators, in the cube's column order
  // Weighted means: per weighted indicator (index into codes) and its weight, two derived cube
  // columns after the indicators: x*w and w, both only where x and w are reported.
  struct Weighted {
    std::size_t x, w;
  };
  std::vector<Weighted> weighted;
  std::size_t width() const { return codes.size() + 2 * weighted.size(); }
  std::unique_ptr<cube::Cube> cur, prev;
  std::unique_ptr<cube::CubePair> pair;
  std::int64_t seq = 0;
  std::map<std::int64_t, store::UnitRow> units;  // directory rows of the units in either cube
  std::shared_mutex mu;
};

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

cube::State to_cube_state(const std::string& s) {
  if (s == "draft") return cube::State::draft;
  if (s == "submitted") return cube::State::submitted;
  if (s == "returned") return cube::State::returned;
  if (s == "reviewed") return cube::State::reviewed;
  if (s == "approved") return cube::State::approved;
  if (s == "accepted") return cube::State::accepted;
  return cube::State::not_started;
}

bool in_group(cube::State s, cube::StateGroup g) {
  if (g == cube::StateGroup::accepted) return s == cube::State::accepted;
  return s == cube::State::submitted || s == cube::State::reviewed || s == cube::State::approved ||
         s == cube::State::accepted;
}

Result<cube::UnitDims> dims_of(const store::UnitRow& u) {
  cube::UnitDims d;
  if (u.region.size() != 12 || u.industry.size() < 2) {
    return make_error(ErrorKind::internal, "BAD_UNIT", "单位分类不完整", "unit classification incomplete");
  }
  d.township = static_cast<std::uint32_t>(std::stoul(u.region.substr(0, 9)));
  d.division = static_cast<std::uint8_t>(std::stoi(u.industry.substr(0, 2)));
  d.size = static_cast<std::uint8_t>(u.size);
  return d;
}

Result<cube::Rollup> parse_by(const std::string& by) {
  if (by == "city") return cube::Rollup::city;
  if (by == "county") return cube::Rollup::county;
  if (by == "township") return cube::Rollup::township;
  if (by == "section") return cube::Rollup::section;
  if (by == "division") return cube::Rollup::division;
  if (by == "size") return cube::Rollup::size;
  return make_error(ErrorKind::invalid, "BAD_PARAMETER", "by 应为 city、county、township、section、division 或 size",
                    "by must be city, county, township, section, division or size");
}

std::string key_string(cube::Rollup by, const cube::CellKey& k, const std::string& city) {
  switch (by) {
    case cube::Rollup::city: return city;
    case cube::Rollup::county: return std::to_string(k.county);
    case cube::Rollup::township: return std::to_string(k.township);
    case cube::Rollup::section: return std::string(1, k.section);
    case cube::Rollup::division: return fmt::format("{:02}", k.division);
    case cube::Rollup::size: return std::to_string(k.size);
    case cube::Rollup::county_by_section: return fmt::format("{}-{}", k.county, k.section);
  }
  return "";
}

// Per-row accumulator of one summary line.
struct Acc {
  int units = 0;
  std::vector<double> sum, cmp_cur, cmp_prev;
  std::vector<std::uint32_t> count, cmp_units;
  explicit Acc(std::size_t k) : sum(k, 0), cmp_cur(k, 0), cmp_prev(k, 0), count(k, 0), cmp_units(k, 0) {}
};

// A submission's values as a cube row: the numeric indicators, then the weighted-mean columns.
void fill_values(const SummaryService::Loaded& l, const json& values, std::vector<double>& out) {
  out.assign(l.width(), kNaN);
  for (std::size_t i = 0; i < l.codes.size(); ++i) {
    auto it = values.find(l.codes[i]);
    if (it != values.end() && it->is_number()) out[i] = it->get<double>();
  }
  for (std::size_t j = 0; j < l.weighted.size(); ++j) {
    const double x = out[l.weighted[j].x], w = out[l.weighted[j].w];
    if (std::isnan(x) || std::isnan(w)) continue;
    out[l.codes.size() + 2 * j] = x * w;
    out[l.codes.size() + 2 * j + 1] = w;
  }
}

}  // namespace

Result<std::shared_ptr<SummaryService::Loaded>> SummaryService::cube_for(const SummaryQuery& q) {
  if (q.compare != "ly" && q.compare != "prev") {
    return make_error(ErrorKind::invalid, "BAD_PARAMETER", "compare 应为 ly 或 prev", "compare must be ly or prev");
  }
  SG_ASSIGN_OR_RETURN(auto period, domain::Period::parse(q.period));
  SG_ASSIGN_OR_RETURN(auto form, forms_.get(q.form, 0));
  if (period.frequency() != form->def.frequency) {
    return make_error(ErrorKind::invalid, "PERIOD_FREQUENCY", "报告期与表式的报送频率不符",
                      "The period does not match the form's frequency");
  }
  std::string cache_key = fmt::format("{}|{}|{}|{}", form->def.code, form->def.version, period.str(), q.compare);
  {
    std::lock_guard lock(mu_);
    auto it = loaded_.find(cache_key);
    if (it != loaded_.end()) {
      Status st = catch_up(*it->second);
      if (st.ok()) return it->second;
      // More changes went by since this cube's last query than the feed keeps (a busy day, or
      // the other processes' load while nobody here asked for this table): catching up is no
      // longer possible, so the cube is loaded afresh below instead of failing every query.
      if (st.error().code != "CUBE_STALE") return std::move(st).error();
      loaded_.erase(it);
    }
  }
  auto l = std::make_shared<Loaded>();
  l->form = form;
  l->period = period;
  l->compare = q.compare == "ly" ? period.same_last_year() : period.previous();
  for (const auto& ind : form->def.indicators) {
    if (ind.type != domain::IndicatorType::text) l->codes.push_back(ind.code);
  }
  auto index_of = [&](const std::string& code) {
    return static_cast<std::size_t>(std::find(l->codes.begin(), l->codes.end(), code) - l->codes.begin());
  };
  for (const auto& ind : form->def.indicators) {
    if (ind.aggregate == domain::Aggregate::weighted_mean) l->weighted.push_back({index_of(ind.code), index_of(ind.weight)});
  }
  const int k = static_cast<int>(l->width());
  // Read the sequence first: changes that land while we load are applied again (upserts are
  // idempotent), so none is missed.
  SG_TRY(feed_.poll_once());
  l->seq = feed_.latest();
  domain::Scope all;
  SG_ASSIGN_OR_RETURN(auto units, store_.read([&](store::Conn& c) { return store::all_units(c, all); }));
  for (auto& u : units) l->units.emplace(u.id, std::move(u));
  l->cur = std::make_unique<cube::Cube>(k);
  l->prev = std::make_unique<cube::Cube>(k);
  std::vector<double> vals(static_cast<std::size_t>(k));
  for (auto [cube_ptr, p] : {std::pair{l->cur.get(), l->period}, {l->prev.get(), l->compare}}) {
    SG_ASSIGN_OR_RETURN(auto rows, store_.read([&](store::Conn& c) {
      return store::submissions_for_period(c, all, form->def.code, p.str());
    }));
    cube_ptr->reserve(rows.size());
    for (const auto& r : rows) {
      auto u = l->units.find(r.unit_id);
      if (u == l->units.end()) continue;
      SG_ASSIGN_OR_RETURN(auto dims, dims_of(u->second));
      fill_values(*l, r.values, vals);
      SG_TRY(cube_ptr->upsert({r.unit_id, dims, vals, to_cube_state(r.state)}));
    }
  }
  l->cur->cluster();
  l->prev->align_to(*l->cur);
  l->cur->recompute(2);
  l->prev->recompute(2);
  l->pair = std::make_unique<cube::CubePair>(*l->cur, *l->prev);
  SG_TRY(catch_up(*l));
  std::lock_guard lock(mu_);
  loaded_[cache_key] = l;
  return l;
}

Status SummaryService::catch_up(Loaded& l) {
  SG_TRY(feed_.poll_once());
  std::unique_lock lock(l.mu);
  bool complete = true;
  auto changes = feed_.after(l.seq, complete);
  if (!complete) {
    return make_error(ErrorKind::internal, "CUBE_STALE", "汇总数据需要重新加载，请重试", "The cube must be reloaded; try again");
  }
  std::vector<double> vals;
  domain::Scope all;
  for (const auto& ch : changes) {
    l.seq = ch.seq;
    if (ch.form != l.form->def.code) continue;
    bool is_cur = ch.period == l.period.str(), is_prev = ch.period == l.compare.str();
    if (!is_cur && !is_prev) continue;
    SG_ASSIGN_OR_RETURN(auto row, store_.read([&](store::Conn& c) {
      return store::find_submission(c, all, ch.unit_id, ch.form, ch.period);
    }));
    SG_ASSIGN_OR_RETURN(auto unit, store_.read([&](store::Conn& c) { return store::find_unit(c, all, ch.unit_id); }));
    if (!row || !unit) continue;
    l.units[unit->id] = *unit;
    SG_ASSIGN_OR_RETURN(auto dims, dims_of(*unit));
    fill_values(l, row->values, vals);
    cube::UnitRow ur{row->unit_id, dims, vals, to_cube_state(row->state)};
    SG_TRY(is_cur ? l.pair->upsert_current(ur) : l.pair->upsert_previous(ur));
  }
  return Ok{};
}

namespace {

struct Table {
  std::vector<std::string> keys;
  std::vector<Acc> rows;
  Acc total;
  explicit Table(std::size_t k) : total(k) {}
};

std::string row_key(cube::Rollup by, const cube::UnitDims& d, const std::string& city) {
  return key_string(by, cube::key_of(by, d), city);
}

// From the rows: used for scopes smaller than the whole city, and as the reference the cells are
// tested against.
Table aggregate_rows(const SummaryService::Loaded& l, cube::Rollup by, cube::StateGroup g, const domain::Scope& scope,
                     const std::string& city, const std::string& only_key = "") {
  const std::size_t k = l.width();
  Table t(k);
  std::map<std::string, std::size_t> index;
  auto acc_for = [&](const std::string& key) -> Acc& {
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, t.rows.size()).first;
      t.keys.push_back(key);
      t.rows.emplace_back(k);
    }
    return t.rows[it->second];
  };
  for (std::uint32_t r = 0; r < l.cur->units(); ++r) {
    auto id = l.cur->row_id(r);
    auto u = l.units.find(id);
    if (u == l.units.end() || !scope.covers_region(u->second.region)) continue;
    if (!in_group(l.cur->row_state(r), g)) continue;
    auto dims = l.cur->row_dims(r);
    std::string key = row_key(by, dims, city);
    if (!only_key.empty() && key != only_key) continue;
    auto pr = l.prev->find(id);
    bool prev_ok = pr && in_group(l.prev->row_state(*pr), g);
    for (Acc* a : {&acc_for(key), &t.total}) {
      ++a->units;
      for (std::size_t i = 0; i < k; ++i) {
        double v = l.cur->value(r, static_cast<int>(i));
        if (std::isnan(v)) continue;
        a->sum[i] += v;
        ++a->count[i];
        if (prev_ok) {
          double pv = l.prev->value(*pr, static_cast<int>(i));
          if (!std::isnan(pv)) {
            a->cmp_cur[i] += v;
            a->cmp_prev[i] += pv;
            ++a->cmp_units[i];
          }
        }
      }
    }
  }
  return t;
}

// From the maintained cells (whole-city scope): no scan of the rows.
Table aggregate_cells(const SummaryService::Loaded& l, cube::Rollup by, cube::StateGroup g, const std::string& city) {
  const std::size_t k = l.width();
  Table t(k);
  auto sums = l.cur->rollup(by, g);
  auto growth = l.pair->growth(by, g);
  std::map<std::string, const cube::GrowthRow*> gi;
  for (const auto& gr : growth) gi[key_string(by, gr.key, city)] = &gr;
  auto totals = l.cur->rollup(cube::Rollup::city, g);
  auto total_growth = l.pair->growth(cube::Rollup::city, g);
  auto fill = [&](Acc& a, const cube::RollupRow& rr, const cube::GrowthRow* gr) {
    a.units = 0;
    for (std::size_t s = 0; s < rr.units.size(); ++s) {
      if (in_group(static_cast<cube::State>(s), g)) a.units += static_cast<int>(rr.units[s]);
    }
    for (std::size_t i = 0; i < k; ++i) {
      a.sum[i] = rr.sum[i];
      a.count[i] = rr.count[i];
      if (gr) {
        a.cmp_cur[i] = gr->current[i];
        a.cmp_prev[i] = gr->previous[i];
        a.cmp_units[i] = gr->units[i];
      }
    }
  };
  for (const auto& rr : sums) {
    std::string key = key_string(by, rr.key, city);
    Acc a(k);
    auto it = gi.find(key);
    fill(a, rr, it == gi.end() ? nullptr : it->second);
    if (a.units == 0) continue;
    t.keys.push_back(key);
    t.rows.push_back(std::move(a));
  }
  if (!totals.empty()) fill(t.total, totals.front(), total_growth.empty() ? nullptr : &total_growth.front());
  return t;
}

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

double round_to(double v, int decimals) {
  double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

}  // namespace

Result<json> SummaryService::summary(const Actor& a, const SummaryQuery& q) {
  SG_TRY(security::authorize(a.user, security::Action::view_submissions));
  SG_ASSIGN_OR_RETURN(auto by, parse_by(q.by));
  if (q.states != "submitted" && q.states != "accepted") {
    return make_error(ErrorKind::invalid, "BAD_PARAMETER", "states 应为 submitted 或 accepted", "states must be submitted or accepted");
  }
  auto group = q.states == "accepted" ? cube::StateGroup::accepted : cube::StateGroup::submitted_or_later;
  SG_ASSIGN_OR_RETURN(auto l, cube_for(q));
  std::shared_lock lock(l->mu);
  auto scope = domain::Scope::of(a.user);
  std::string city_code = a.user.region.substr(0, 4);
  // The cells cover every unit the cube holds; they answer when the caller sees the whole city.
  bool whole = scope.region_prefix.size() <= 4;
  Table t = whole ? aggregate_cells(*l, by, group, city_code) : aggregate_rows(*l, by, group, scope, city_code);
  const auto& def = l->form->def;
  json inds = json::array();
  for (const auto& c : l->codes) {
    const auto* ind = def.find(c);
    inds.push_back({{"code", c}, {"name", ind->name}, {"name_en", ind->name_en}, {"unit", ind->unit}, {"decimals", ind->decimals},
                    {"aggregate", ind->aggregate == domain::Aggregate::sum    ? "sum"
                                  : ind->aggregate == domain::Aggregate::mean ? "mean"
                                                                              : "weighted_mean"}});
  }
  // Where each indicator's weighted-mean columns are (npos when it is not a weighted mean).
  std::vector<std::size_t> wcol(l->codes.size(), std::string::npos);
  for (std::size_t j = 0; j < l->weighted.size(); ++j) wcol[l->weighted[j].x] = l->codes.size() + 2 * j;
  auto row_json = [&](const std::string& key, const Acc& acc) {
    json values = json::object(), counts = json::object(), cmp = json::object(), share = json::object();
    for (std::size_t i = 0; i < l->codes.size(); ++i) {
      const std::string& c = l->codes[i];
      const auto* ind = def.find(c);
      int dec = ind->decimals;
      double value = acc.sum[i], cur = acc.cmp_cur[i], prev = acc.cmp_prev[i];
      std::uint32_t cmp_units = acc.cmp_units[i];
      if (ind->aggregate == domain::Aggregate::mean) {
        value = acc.count[i] ? acc.sum[i] / acc.count[i] : kNaN;
        cur = cmp_units ? cur / cmp_units : kNaN;
        prev = cmp_units ? prev / cmp_units : kNaN;
      } else if (ind->aggregate == domain::Aggregate::weighted_mean) {
        const std::size_t xw = wcol[i], w = xw + 1;
        value = acc.sum[w] != 0 ? acc.sum[xw] / acc.sum[w] : kNaN;
        cur = acc.cmp_cur[w] != 0 ? acc.cmp_cur[xw] / acc.cmp_cur[w] : kNaN;
        prev = acc.cmp_prev[w] != 0 ? acc.cmp_prev[xw] / acc.cmp_prev[w] : kNaN;
        cmp_units = acc.cmp_units[xw];
      }
      values[c] = number_or_null(round_to(value, dec));
      counts[c] = acc.count[i];
      double g = cmp_units && prev != 0 && std::isfinite(prev) ? cur / prev - 1 : kNaN;
      cmp[c] = {{"current", number_or_null(round_to(cur, dec))}, {"previous", number_or_null(round_to(prev, dec))},
                {"growth", number_or_null(g)}, {"units", cmp_units}};
      // A share of a mean means nothing: only sums have shares.
      share[c] = number_or_null(ind->aggregate == domain::Aggregate::sum && t.total.sum[i] != 0
                                    ? acc.sum[i] / t.total.sum[i]
                                    : kNaN);
    }
    std::string name = key;
    if (by == cube::Rollup::county || by == cube::Rollup::city) {
      auto r = catalog_.region(key + std::string(12 - key.size(), '0'));
      if (r) name = r->name;
    } else if (by == cube::Rollup::township) {
      auto r = catalog_.region(key + "000");
      if (r) name = r->name;
    } else if (by == cube::Rollup::section || by == cube::Rollup::division) {
      auto i = catalog_.industry(key);
      if (i) name = i->name;
    } else if (by == cube::Rollup::size) {
      name = std::string(domain::size_class_name(static_cast<domain::SizeClass>(std::stoi(key))));
    }
    return json{{"key", key}, {"name", name}, {"units", acc.units}, {"values", values}, {"counts", counts},
                {"comparable", cmp}, {"share", share}};
  };
  json rows = json::array();
  for (std::size_t r = 0; r < t.rows.size(); ++r) rows.push_back(row_json(t.keys[r], t.rows[r]));
  // Ranks per indicator, 1 = largest.
  for (std::size_t i = 0; i < l->codes.size(); ++i) {
    const std::string& c = l->codes[i];
    std::vector<std::size_t> order(rows.size());
    for (std::size_t r = 0; r < order.size(); ++r) order[r] = r;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
      auto v = [&](std::size_t r) {
        const json& j = rows[r]["values"][c];
        return j.is_number() ? j.get<double>() : -std::numeric_limits<double>::infinity();
      };
      return v(x) > v(y);
    });
    for (std::size_t pos = 0; pos < order.size(); ++pos) rows[order[pos]]["rank"][c] = pos + 1;
  }
  std::sort(rows.begin(), rows.end(), [](const json& x, const json& y) { return x["key"] < y["key"]; });
  json total = row_json(scope.region_prefix.empty() ? city_code : scope.region_prefix, t.total);
  return json{{"form", def.code}, {"period", l->period.str()}, {"compare_period", l->compare.str()}, {"by", q.by},
              {"states", q.states}, {"indicators", inds}, {"rows", rows}, {"total", total}};
}

Result<std::string> SummaryService::summary_xlsx(const Actor& a, const SummaryQuery& q) {
  SG_ASSIGN_OR_RETURN(auto s, summary(a, q));
  XlsxWriter w;
  int sh = w.add_sheet("汇总表");
  w.write_string(sh, 0, 0, s["form"].get<std::string>() + " 汇总表 " + s["period"].get<std::string>(), CellStyle::bold);
  w.write_string(sh, 1, 0, "对比期 Comparison: " + s["compare_period"].get<std::string>() + "    口径: " +
                               (q.states == "accepted" ? "已验收 accepted" : "已上报 submitted") +
                               "    增速按可比单位计算 growth on comparable units");
  int col = 0;
  w.write_string(sh, 3, col++, "代码", CellStyle::header);
  w.write_string(sh, 3, col++, "名称", CellStyle::header);
  w.write_string(sh, 3, col++, "单位数", CellStyle::header);
  for (const auto& ind : s["indicators"]) {
    std::string n = ind["name"].get<std::string>() + "(" + ind["unit"].get<std::string>() + ")";
    w.write_string(sh, 2, col, n, CellStyle::bold);
    w.write_string(sh, 3, col++, "本期", CellStyle::header);
    w.write_string(sh, 3, col++, "可比上期", CellStyle::header);
    w.write_string(sh, 3, col++, "增长%", CellStyle::header);
  }
  w.set_column_width(sh, 1, 24);
  int row = 4;
  auto write_row = [&](const json& r) {
    int c = 0;
    w.write_string(sh, row, c++, r["key"].get<std::string>());
    w.write_string(sh, row, c++, r["name"].get<std::string>());
    w.write_number(sh, row, c++, r["units"].get<double>());
    for (const auto& ind : s["indicators"]) {
      const std::string code = ind["code"];
      for (const json* v : {&r["values"][code], &r["comparable"][code]["previous"]}) {
        if (v->is_number()) w.write_number(sh, row, c, v->get<double>());
        ++c;
      }
      const auto& g = r["comparable"][code]["growth"];
      if (g.is_number()) w.write_number(sh, row, c, round_to(g.get<double>() * 100, 1));
      ++c;
    }
    ++row;
  };
  for (const auto& r : s["rows"]) write_row(r);
  json total = s["total"];
  total["name"] = "合计 Total";
  write_row(total);
  return w.finish();
}

Result<json> SummaryService::units(const Actor& a, const SummaryQuery& q) {
  SG_TRY(security::authorize(a.user, security::Action::view_submissions));
  SG_ASSIGN_OR_RETURN(auto by, parse_by(q.by));
  if (q.key.empty()) return make_error(ErrorKind::invalid, "MISSING_FIELD", "请指定行 key", "Give the row key");
  auto group = q.states == "accepted" ? cube::StateGroup::accepted : cube::StateGroup::submitted_or_later;
  SG_ASSIGN_OR_RETURN(auto l, cube_for(q));
  std::shared_lock lock(l->mu);
  auto scope = domain::Scope::of(a.user);
  std::string city = a.user.region.substr(0, 4);
  json items = json::array();
  for (std::uint32_t r = 0; r < l->cur->units(); ++r) {
    auto u = l->units.find(l->cur->row_id(r));
    if (u == l->units.end() || !scope.covers_region(u->second.region) || !in_group(l->cur->row_state(r), group)) continue;
    if (row_key(by, l->cur->row_dims(r), city) != q.key) continue;
    json values = json::object();
    for (std::size_t i = 0; i < l->codes.size(); ++i) {
      values[l->codes[i]] = number_or_null(l->cur->value(r, static_cast<int>(i)));
    }
    auto reg = catalog_.region(u->second.region);
    items.push_back({{"unit_id", u->first}, {"uscc", u->second.uscc}, {"name", u->second.name},
                     {"region", u->second.region}, {"region_name", reg ? reg->name : ""},
                     {"industry", u->second.industry}, {"size", u->second.size}, {"values", values}});
  }
  return json{{"items", items}};
}

Result<json> SummaryService::outliers(const Actor& a, const SummaryQuery& q) {
  SG_TRY(security::authorize(a.user, security::Action::view_submissions));
  SG_ASSIGN_OR_RETURN(auto l, cube_for(q));
  std::shared_lock lock(l->mu);
  auto it = std::find(l->codes.begin(), l->codes.end(), q.indicator);
  if (it == l->codes.end()) {
    return make_error(ErrorKind::invalid, "UNKNOWN_INDICATOR", "表中没有该数值指标：" + q.indicator,
                      "The form has no numeric indicator " + q.indicator);
  }
  int k = static_cast<int>(it - l->codes.begin());
  auto scope = domain::Scope::of(a.user);
  std::vector<cube::UnitPair> pairs;
  std::vector<cube::UnitValue> levels;
  for (std::uint32_t r = 0; r < l->cur->units(); ++r) {
    auto id = l->cur->row_id(r);
    auto u = l->units.find(id);
    if (u == l->units.end() || !scope.covers_region(u->second.region)) continue;
    if (!in_group(l->cur->row_state(r), cube::StateGroup::submitted_or_later)) continue;
    double v = l->cur->value(r, k);
    if (std::isnan(v)) continue;
    levels.push_back({id, v});
    auto pr = l->prev->find(id);
    if (pr) {
      double pv = l->prev->value(*pr, k);
      if (!std::isnan(pv) && pv > 0 && v > 0) pairs.push_back({id, pv, v});
    }
  }
  auto hb = cube::hidiroglou_berthelot(pairs, {});
  auto mad = cube::mad_scores(levels, {});
  std::map<cube::UnitId, json> out;
  std::map<cube::UnitId, cube::UnitPair> pair_of;
  for (const auto& p : pairs) pair_of[p.id] = p;
  for (const auto& lv : levels) out[lv.id] = {{"unit_id", lv.id}, {"current", lv.value}};
  for (const auto& h : hb) {
    auto& j = out[h.id];
    const auto& p = pair_of[h.id];
    j["previous"] = p.previous;
    j["ratio"] = p.current / p.previous;
    j["hb_score"] = number_or_null(h.score);
    j["hb_outlier"] = h.outlier;
  }
  for (const auto& m : mad) {
    auto& j = out[m.id];
    j["mad_score"] = number_or_null(m.statistic);
    j["mad_outlier"] = m.outlier;
  }
  json items = json::array();
  for (auto& [id, j] : out) {
    auto u = l->units.find(id);
    auto reg = u != l->units.end() ? catalog_.region(u->second.region) : std::nullopt;
    j["name"] = u != l->units.end() ? u->second.name : "";
    j["region_name"] = reg ? reg->name : "";
    for (const char* f : {"hb_outlier", "mad_outlier"}) {
      if (!j.contains(f)) j[f] = false;
    }
    items.push_back(j);
  }
  std::stable_sort(items.begin(), items.end(), [](const json& x, const json& y) {
    auto score = [](const json& j) {
      double s = 0;
      if (j.contains("hb_score") && j["hb_score"].is_number()) s = std::max(s, std::fabs(j["hb_score"].get<double>()));
      if (j.contains("mad_score") && j["mad_score"].is_number()) s = std::max(s, std::fabs(j["mad_score"].get<double>()));
      return s;
    };
    bool ox = x["hb_outlier"].get<bool>() || x["mad_outlier"].get<bool>();
    bool oy = y["hb_outlier"].get<bool>() || y["mad_outlier"].get<bool>();
    if (ox != oy) return ox > oy;
    return score(x) > score(y);
  });
  return json{{"indicator", q.indicator}, {"items", items}};
}

Result<PublicationRows> SummaryService::accepted_rows(const std::string& form, const std::string& period) {
  SummaryQuery q;
  q.form = form;
  q.period = period;
  SG_ASSIGN_OR_RETURN(auto l, cube_for(q));
  std::shared_lock lock(l->mu);
  PublicationRows out;
  out.form = l->form;
  out.period = l->period.str();
  out.compare_period = l->compare.str();
  out.codes = l->codes;
  const int k = static_cast<int>(l->codes.size());
  for (std::uint32_t r = 0; r < l->cur->units(); ++r) {
    if (l->cur->row_state(r) != cube::State::accepted) continue;
    PublicationRow row;
    row.unit_id = l->cur->row_id(r);
    row.dims = l->cur->row_dims(r);
    for (int i = 0; i < k; ++i) row.current.push_back(l->cur->value(r, i));
    auto pr = l->prev->find(row.unit_id);
    if (pr && l->prev->row_state(*pr) == cube::State::accepted) {
      for (int i = 0; i < k; ++i) row.previous.push_back(l->prev->value(*pr, i));
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace statgov::services
