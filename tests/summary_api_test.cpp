// Summary tables from the cube against an independent recomputation from the stored submissions.
#include "harness.hpp"

#include "base/xlsx.hpp"
#include "store/repos.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace statgov::testing {
namespace {

class SummaryApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(300); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static TestServer* server_;
  Client login(const std::string& who) {
    Client c(server_->port());
    EXPECT_EQ(c.login(who, kDemoPassword).status, 200);
    return c;
  }
  // Independent figures straight from the store: sum of I01 per county for sent submissions, and
  // comparable sums over units sent in both periods.
  struct Ref {
    std::map<std::string, double> sum, cmp_cur, cmp_prev;
    double total = 0;
  };
  Ref reference(const std::string& period, const std::string& prev_period, const std::string& code) {
    Ref r;
    domain::Scope all;
    auto units = server_->store().read([&](store::Conn& c) { return store::all_units(c, all); }).value();
    std::map<std::int64_t, std::string> county;
    for (const auto& u : units) county[u.id] = u.region.substr(0, 6);
    auto sent = [](const std::string& s) { return s == "submitted" || s == "reviewed" || s == "approved" || s == "accepted"; };
    auto cur = server_->store().read([&](store::Conn& c) { return store::submissions_for_period(c, all, "B204-1", period); }).value();
    auto prev = server_->store().read([&](store::Conn& c) { return store::submissions_for_period(c, all, "B204-1", prev_period); }).value();
    std::map<std::int64_t, double> prev_v;
    for (const auto& p : prev) {
      if (sent(p.state) && p.values.contains(code)) prev_v[p.unit_id] = p.values[code];
    }
    for (const auto& s : cur) {
      if (!sent(s.state) || !s.values.contains(code)) continue;
      double v = s.values[code];
      r.sum[county[s.unit_id]] += v;
      r.total += v;
      if (prev_v.count(s.unit_id)) {
        r.cmp_cur[county[s.unit_id]] += v;
        r.cmp_prev[county[s.unit_id]] += prev_v[s.unit_id];
      }
    }
    return r;
  }
};
TestServer* SummaryApi::server_ = nullptr;

TEST_F(SummaryApi, CountyRollupEqualsAnIndependentRecomputation) {
  auto city = login("demo-shi");
  auto r = city.get("/api/v1/summary?form=B204-1&period=2026M10&by=county&compare=ly");
  ASSERT_EQ(r.status, 200) << r.body;
  auto s = r.json_body();
  EXPECT_EQ(s["compare_period"], "2025M10");
  auto ref = reference("2026M10", "2025M10", "I01");
  ASSERT_FALSE(ref.sum.empty());
  EXPECT_EQ(s["rows"].size(), ref.sum.size());
  for (const auto& row : s["rows"]) {
    std::string k = row["key"];
    SCOPED_TRACE(k);
    EXPECT_NEAR(row["values"]["I01"].get<double>(), ref.sum[k], 0.05 + 1e-9 * ref.sum[k]);
    const auto& c = row["comparable"]["I01"];
    EXPECT_NEAR(c["current"].get<double>(), ref.cmp_cur[k], 0.05 + 1e-9 * ref.cmp_cur[k]);
    EXPECT_NEAR(c["previous"].get<double>(), ref.cmp_prev[k], 0.05 + 1e-9 * ref.cmp_prev[k]);
    if (ref.cmp_prev[k] > 0) {
      EXPECT_NEAR(c["growth"].get<double>(), ref.cmp_cur[k] / ref.cmp_prev[k] - 1, 1e-6);
    }
    EXPECT_GE(row["rank"]["I01"].get<int>(), 1);
  }
  EXPECT_NEAR(s["total"]["values"]["I01"].get<double>(), ref.total, 0.05 + 1e-9 * ref.total);
  EXPECT_NE(s["rows"][0]["name"], s["rows"][0]["key"]) << "rows carry the region's name";
}

TEST_F(SummaryApi, LiveAfterASubmission) {
  auto city = login("demo-shi");
  auto before = city.get("/api/v1/summary?form=B204-1&period=2026M11&by=city").json_body();
  EXPECT_EQ(before["total"]["units"], 0);
  auto ent = login("demo-qiye");
  std::string base = "/api/v1/submissions/" + std::to_string(server_->demo_unit()) + "/B204-1/2026M11";
  auto sub = ent.get(base).json_body();
  const json& prev = sub["prev"]["values"];
  const json& ly = sub["ly"]["values"];
  double out = std::round(ly["I01"].get<double>() * 1.1 * 10) / 10;
  json v = {{"I01", out}, {"I03", std::round(out * 9) / 10}, {"I04", 0.0}, {"I05", ly["I05"]}};
  for (const char* code : {"I01", "I03", "I04", "I05"}) {
    std::string y = std::string(code) + "_YTD";
    v[y] = std::round((prev[y].get<double>() + v[code].get<double>()) * 10) / 10;
  }
  ASSERT_EQ(ent.post_json(base + "/submit", {{"values", v}}).status, 200);
  auto after = city.get("/api/v1/summary?form=B204-1&period=2026M11&by=city").json_body();
  EXPECT_EQ(after["total"]["units"], 1);
  EXPECT_NEAR(after["total"]["values"]["I01"].get<double>(), out, 0.05);
  EXPECT_NEAR(after["total"]["comparable"]["I01"]["growth"].get<double>(), out / ly["I01"].get<double>() - 1, 1e-3);
  // Accepted only: nothing yet.
  auto acc = city.get("/api/v1/summary?form=B204-1&period=2026M11&by=city&states=accepted").json_body();
  EXPECT_EQ(acc["total"]["units"], 0);
}

// A cube nobody asked for while more changes went by than the change feed keeps (20,000; with
// several processes, the others' load) is loaded afresh, not reported stale on every query.
TEST_F(SummaryApi, CubeReloadsAfterMoreChangesThanTheFeedKeeps) {
  SG_SKIP_ON_POSTGRES("20,001 single-row writes take minutes over the PostgreSQL protocol; the reload is the same on both");
  auto city = login("demo-shi");
  const std::string target = "/api/v1/summary?form=B204-1&period=2026M10&by=county";
  auto before = city.get(target);
  ASSERT_EQ(before.status, 200) << before.body;
  // 20,001 new quarterly reports of long ago (distinct rows: the feed reads each row once, in its
  // latest state), none of them in this cube.
  domain::Scope all;
  auto rows = server_->store().read([&](store::Conn& c) { return store::submissions_for_period(c, all, "202-1", "2026Q3"); });
  ASSERT_TRUE(rows.ok());
  ASSERT_GE(rows->size(), 200u);
  ASSERT_TRUE(server_->store().write([&](store::Conn& c) -> Status {
    int made = 0;
    for (int year = 1900; made < 20001; ++year) {
      for (std::size_t i = 0; i < rows->size() && made < 20001; ++i, ++made) {
        store::SubmissionRow r = (*rows)[i];
        r.id = 0;
        r.period = std::to_string(year) + "Q1";
        SG_TRY(store::save_submission(c, r));
      }
    }
    return Ok{};
  }).ok());
  auto after = city.get(target);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.json_body()["total"], before.json_body()["total"]);
}

TEST_F(SummaryApi, ScopedViewAgreesWithTheCityCells) {
  auto city = login("demo-shi");
  auto county = login("demo-quxian");
  std::string code = county.get("/api/v1/me").json_body()["user"]["region"].get<std::string>().substr(0, 6);
  auto whole = city.get("/api/v1/summary?form=B204-1&period=2026M10&by=county").json_body();
  auto mine = county.get("/api/v1/summary?form=B204-1&period=2026M10&by=township").json_body();
  double township_sum = 0;
  for (const auto& row : mine["rows"]) {
    EXPECT_EQ(row["key"].get<std::string>().substr(0, 6), code);
    township_sum += row["values"]["I01"].get<double>();
  }
  for (const auto& row : whole["rows"]) {
    if (row["key"] == code) {
      EXPECT_NEAR(row["values"]["I01"].get<double>(), township_sum, 0.5);
      EXPECT_NEAR(row["values"]["I01"].get<double>(), mine["total"]["values"]["I01"].get<double>(), 0.5);
      EXPECT_EQ(row["units"], mine["total"]["units"]);
    }
  }
  auto sections = county.get("/api/v1/summary?form=B204-1&period=2026M10&by=section").json_body();
  EXPECT_EQ(sections["total"]["units"], mine["total"]["units"]);
}

TEST_F(SummaryApi, DrillDownExportOutliersAndBadInput) {
  auto city = login("demo-shi");
  auto s = city.get("/api/v1/summary?form=B204-1&period=2026M10&by=section").json_body();
  ASSERT_FALSE(s["rows"].empty());
  const auto& row = s["rows"][0];
  auto units = city.get("/api/v1/summary/units?form=B204-1&period=2026M10&by=section&key=" + row["key"].get<std::string>())
                   .json_body()["items"];
  EXPECT_EQ(units.size(), row["units"].get<std::size_t>());
  double sum = 0;
  for (const auto& u : units) sum += u["values"]["I01"].is_number() ? u["values"]["I01"].get<double>() : 0;
  EXPECT_NEAR(sum, row["values"]["I01"].get<double>(), 0.5);

  auto x = city.get("/api/v1/summary.xlsx?form=B204-1&period=2026M10&by=county");
  ASSERT_EQ(x.status, 200);
  auto book = read_xlsx(x.body);
  ASSERT_TRUE(book.ok());
  EXPECT_GE(book->sheets[0].max_row, 5);

  auto o = city.get("/api/v1/summary/outliers?form=B204-1&period=2026M10&indicator=I01");
  ASSERT_EQ(o.status, 200) << o.body;
  EXPECT_FALSE(o.json_body()["items"].empty());

  EXPECT_EQ(city.get("/api/v1/summary?form=B204-1&period=2026M10&by=colour").status, 400);
  EXPECT_EQ(city.get("/api/v1/summary?form=B204-1&period=2026Q3").status, 400);
  EXPECT_EQ(city.get("/api/v1/summary?form=B204-1&period=2026M10&states=all").status, 400);
  EXPECT_EQ(city.get("/api/v1/summary?form=NOPE&period=2026M10").status, 404);
  EXPECT_EQ(city.get("/api/v1/summary/outliers?form=B204-1&period=2026M10&indicator=ZZ").status, 400);
  auto ent = login("demo-qiye");
  EXPECT_EQ(ent.get("/api/v1/summary?form=B204-1&period=2026M10").status, 403);
}

// Means: a plain mean over the units that reported, and a mean weighted by another indicator,
// per county and for the city, with comparable growth, against figures computed here by hand.
TEST_F(SummaryApi, PlainAndWeightedMeans) {
  const json def = {
      {"code", "MEAN-1"}, {"version", 1}, {"name", "均值测试"}, {"name_en", "Means test"},
      {"frequency", "month"}, {"deadline", {{"day", 5}, {"hour", 18}}},
      {"indicators",
       {{{"code", "X"}, {"name", "从业人员"}, {"unit", "人"}, {"type", "number"}, {"decimals", 2}},
        {{"code", "A"}, {"name", "平均用电"}, {"type", "number"}, {"decimals", 2}, {"aggregate", "mean"}},
        {{"code", "P"}, {"name", "平均工资"}, {"type", "number"}, {"decimals", 2},
         {"aggregate", "weighted_mean"}, {"weight", "X"}}}}};
  domain::Scope all;
  auto units = server_->store().read([&](store::Conn& c) { return store::all_units(c, all); }).value();
  // Two units in one county, two in another.
  std::map<std::string, std::vector<std::int64_t>> by_county;
  for (const auto& u : units) by_county[u.region.substr(0, 6)].push_back(u.id);
  ASSERT_GE(by_county.size(), 2u);
  auto it = by_county.begin();
  const std::string c1 = it->first, c2 = std::next(it)->first;
  const std::int64_t a = it->second.at(0), b = it->second.at(1);
  const std::int64_t c = std::next(it)->second.at(0), d = std::next(it)->second.at(1);
  // values: X (weight), A, P; unit d has no A this month and no P.
  struct V {
    std::int64_t unit;
    std::string period;
    json values;
  };
  const std::vector<V> rows = {
      {a, "2026M10", {{"X", 10}, {"A", 4}, {"P", 100}}},  {b, "2026M10", {{"X", 30}, {"A", 8}, {"P", 200}}},
      {c, "2026M10", {{"X", 5}, {"A", 1}, {"P", 300}}},   {d, "2026M10", {{"X", 15}}},
      {a, "2025M10", {{"X", 10}, {"A", 2}, {"P", 50}}},   {b, "2025M10", {{"X", 10}, {"A", 6}, {"P", 150}}},
      {c, "2025M10", {{"X", 5}, {"A", 1}, {"P", 200}}},
  };
  ASSERT_TRUE(server_->store().write([&](store::Conn& conn) -> Status {
    SG_TRY(store::insert_form(conn, {"MEAN-1", 1, def, "2026-11-01T00:00:00Z", "test"}));
    for (const auto& r : rows) {
      store::SubmissionRow s;
      s.unit_id = r.unit;
      s.form_code = "MEAN-1";
      s.form_version = 1;
      s.period = r.period;
      s.state = "accepted";
      s.version = 1;
      s.values = r.values;
      for (const auto& u : units)
        if (u.id == r.unit) s.region = u.region;
      SG_TRY(store::save_submission(conn, s));
    }
    return Ok{};
  }).ok());
  auto city = login("demo-shi");
  auto res = city.get("/api/v1/summary?form=MEAN-1&period=2026M10&by=county&compare=ly&states=accepted");
  ASSERT_EQ(res.status, 200) << res.body;
  auto s = res.json_body();
  std::map<std::string, json> row;
  for (const auto& r : s["rows"]) row[r["key"]] = r;
  ASSERT_TRUE(row.count(c1) && row.count(c2)) << s.dump();
  // County 1: A mean (4 + 8) / 2 = 6; P weighted (10*100 + 30*200) / 40 = 175.
  EXPECT_NEAR(row[c1]["values"]["A"].get<double>(), 6.0, 1e-9);
  EXPECT_NEAR(row[c1]["values"]["P"].get<double>(), 175.0, 1e-9);
  EXPECT_NEAR(row[c1]["values"]["X"].get<double>(), 40.0, 1e-9);
  // Comparable P: this year 175, last year (10*50 + 10*150) / 20 = 100 -> growth 0.75.
  EXPECT_NEAR(row[c1]["comparable"]["P"]["previous"].get<double>(), 100.0, 1e-9);
  EXPECT_NEAR(row[c1]["comparable"]["P"]["growth"].get<double>(), 0.75, 1e-9);
  // Comparable A: mean 6 against (2 + 6) / 2 = 4 -> 0.5.
  EXPECT_NEAR(row[c1]["comparable"]["A"]["growth"].get<double>(), 0.5, 1e-9);
  // County 2: unit d reported neither A nor P, so only c counts: A = 1, P = 300 (not 300*5/20).
  EXPECT_NEAR(row[c2]["values"]["A"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(row[c2]["values"]["P"].get<double>(), 300.0, 1e-9);
  EXPECT_NEAR(row[c2]["comparable"]["P"]["growth"].get<double>(), 0.5, 1e-9);
  // Means have no share; sums do.
  EXPECT_TRUE(row[c1]["share"]["A"].is_null());
  EXPECT_NEAR(row[c1]["share"]["X"].get<double>(), 40.0 / 60.0, 1e-9);
  // City: A (4 + 8 + 1) / 3; P (1000 + 6000 + 1500) / 45.
  EXPECT_NEAR(s["total"]["values"]["A"].get<double>(), 4.33, 1e-9);  // rounded to 2 decimals
  EXPECT_NEAR(s["total"]["values"]["P"].get<double>(), 188.89, 1e-9);
  for (const auto& ind : s["indicators"]) {
    if (ind["code"] == "P") {
      EXPECT_EQ(ind["aggregate"], "weighted_mean");
    }
  }
  // A scoped (county) view computes the same means from the rows.
  // And the Excel export still answers with means in place.
  auto x = city.get("/api/v1/summary.xlsx?form=MEAN-1&period=2026M10&by=county&compare=ly&states=accepted");
  EXPECT_EQ(x.status, 200);
}

}  // namespace
}  // namespace statgov::testing
