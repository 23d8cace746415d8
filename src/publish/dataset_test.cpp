#include "publish/dataset.hpp"

#include "publish/testdata/sample.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

namespace statgov::publish {
namespace {

using testing::sample;
using testing::sample_json;

TEST(Dataset, ParsesTheSample) {
  const Dataset d = sample();
  EXPECT_EQ(d.id, "B204_1_COUNTY_MONTHLY");
  EXPECT_EQ(d.agency, "CN_430200");
  EXPECT_EQ(d.decimals, 1);
  ASSERT_EQ(d.dimensions.size(), 3u);
  EXPECT_EQ(d.dimensions[2].id, "TIME_PERIOD");
  EXPECT_EQ(d.dimensions[0].codes[1].parent, "430200");
  EXPECT_EQ(d.dimensions[1].codes[1].unit_zh, "%");
  ASSERT_EQ(d.observations.size(), 8u);
  EXPECT_EQ(d.observations[3].status, 'C');
  EXPECT_FALSE(d.observations[3].value.has_value());
  EXPECT_EQ(d.observations[6].status, 'M');
  EXPECT_DOUBLE_EQ(*d.observations[4].value, 512.345);
  EXPECT_EQ(d.observations[4].key, (std::vector<std::uint32_t>{2, 0, 2}));
}

TEST(Dataset, RoundTripsThroughJson) {
  const Dataset d = sample();
  const json once = dataset_to_json(d);
  auto again = dataset_from_json(once);
  ASSERT_TRUE(again.ok()) << again.error().message_en;
  EXPECT_EQ(dataset_to_json(*again), once);
  // And the JSON form keeps what the source said.
  const json src = sample_json();
  EXPECT_EQ(once["title_zh"], src["title_zh"]);
  EXPECT_EQ(once["observations"][3]["status"], "C");
  EXPECT_TRUE(once["observations"][3]["value"].is_null());
  EXPECT_FALSE(once["observations"][0].contains("status"));
  EXPECT_EQ(once["observations"][1]["value"].get<double>(), 1300.25);
  EXPECT_EQ(once["dimensions"][1]["codes"][1]["unit_en"], "%");
  EXPECT_FALSE(once["dimensions"][1]["codes"][0].contains("unit_en"));
}

// Applies a change to the sample JSON and expects BAD_DATASET.
void expect_rejected(const std::function<void(json&)>& change, const std::string& what) {
  json j = sample_json();
  change(j);
  auto r = dataset_from_json(j);
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code, "BAD_DATASET") << what;
  EXPECT_EQ(r.error().kind, ErrorKind::invalid) << what;
  EXPECT_FALSE(r.error().message.empty());
  EXPECT_FALSE(r.error().message_en.empty());
}

TEST(Dataset, RejectsBadOnes) {
  expect_rejected([](json& j) { j["observations"][0]["key"] = {0, 0}; }, "short key");
  expect_rejected([](json& j) { j["observations"][0]["key"] = {0, 0, 1, 0}; }, "long key");
  expect_rejected([](json& j) { j["observations"][0]["key"] = {3, 0, 1}; }, "index out of range");
  expect_rejected([](json& j) { j["observations"][0]["key"] = {-1, 0, 1}; }, "negative index");
  expect_rejected([](json& j) { j["observations"][0]["key"] = {"0", 0, 1}; }, "string index");
  expect_rejected([](json& j) { j["observations"][1]["key"] = {0, 0, 1}; }, "duplicate key");
  expect_rejected(
      [](json& j) {
        std::swap(j["dimensions"][1], j["dimensions"][2]);
        for (auto& o : j["observations"]) std::swap(o["key"][1], o["key"][2]);
      },
      "TIME_PERIOD not last");
  expect_rejected([](json& j) { j["dimensions"][2]["id"] = "TIME"; }, "no TIME_PERIOD");
  expect_rejected([](json& j) { j["id"] = "b204"; }, "lower-case id");
  expect_rejected([](json& j) { j["id"] = std::string(51, 'A'); }, "id too long");
  expect_rejected([](json& j) { j["id"] = "B204-1"; }, "id with '-'");
  expect_rejected([](json& j) { j["id"] = ""; }, "empty id");
  expect_rejected([](json& j) { j.erase("id"); }, "missing id");
  expect_rejected([](json& j) { j["id"] = 42; }, "numeric id");
  expect_rejected([](json& j) { j["agency"] = ""; }, "no agency");
  expect_rejected([](json& j) { j["dimensions"][0]["id"] = "region"; }, "bad dimension id");
  expect_rejected([](json& j) { j["dimensions"][0]["id"] = "OBS_VALUE"; }, "reserved dimension");
  expect_rejected([](json& j) { j["dimensions"][1]["id"] = "REGION"; }, "duplicate dimension");
  expect_rejected([](json& j) { j["dimensions"][0]["codes"][1]["id"] = "430200"; },
                  "duplicate code");
  expect_rejected([](json& j) { j["dimensions"][0]["codes"][1]["id"] = "43.02"; }, "code with .");
  expect_rejected([](json& j) { j["dimensions"][0]["codes"][1]["parent"] = "999"; },
                  "unknown parent");
  expect_rejected([](json& j) { j["dimensions"][2]["codes"][0]["id"] = "2026-13"; }, "bad period");
  expect_rejected([](json& j) { j["dimensions"][0]["role"] = "place"; }, "bad role");
  expect_rejected([](json& j) { j["dimensions"][0]["codes"] = json::array(); }, "no codes");
  expect_rejected([](json& j) { j["dimensions"] = json::array(); }, "no dimensions");
  expect_rejected([](json& j) { j["observations"][3]["value"] = 1.0; }, "value with C");
  expect_rejected([](json& j) { j["observations"][0]["value"] = nullptr; }, "null, no status");
  expect_rejected([](json& j) { j["observations"][0].erase("value"); }, "no value, no status");
  expect_rejected([](json& j) { j["observations"][3]["status"] = "X"; }, "unknown status");
  expect_rejected([](json& j) { j["observations"][0]["value"] = "1.5"; }, "string value");
  expect_rejected([](json& j) { j["observations"] = json::object(); }, "observations object");
  expect_rejected([](json& j) { j["decimals"] = 1.5; }, "fractional decimals");
  expect_rejected([](json& j) { j = json::array(); }, "not an object");
}

TEST(Dataset, AcceptsAnEmptyObservationList) {
  json j = sample_json();
  j["observations"] = json::array();
  auto r = dataset_from_json(j);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->observations.empty());
}

std::string span_text(std::string_view p) {
  auto s = parse_period(p);
  if (!s) return "none";
  auto date = [](std::int64_t day) {
    using namespace std::chrono;
    const year_month_day ymd{sys_days{days{day}}};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return std::string(buf);
  };
  return date(s->first_day) + ".." + date(s->last_day);
}

TEST(Period, ParsesSdmxPeriods) {
  EXPECT_EQ(span_text("2026"), "2026-01-01..2026-12-31");
  EXPECT_EQ(span_text("2026-A1"), "2026-01-01..2026-12-31");
  EXPECT_EQ(span_text("2026-S2"), "2026-07-01..2026-12-31");
  EXPECT_EQ(span_text("2026-T2"), "2026-05-01..2026-08-31");
  EXPECT_EQ(span_text("2026-Q3"), "2026-07-01..2026-09-30");
  EXPECT_EQ(span_text("2026Q3"), "2026-07-01..2026-09-30");
  EXPECT_EQ(span_text("2026-02"), "2026-02-01..2026-02-28");
  EXPECT_EQ(span_text("2028-02"), "2028-02-01..2028-02-29");
  EXPECT_EQ(span_text("2026-M11"), "2026-11-01..2026-11-30");
  EXPECT_EQ(span_text("2026-11-26"), "2026-11-26..2026-11-26");
  EXPECT_EQ(span_text("2026-D032"), "2026-02-01..2026-02-01");
  // ISO weeks: 2026-01-01 is a Thursday, so week 1 starts on Monday 2025-12-29.
  EXPECT_EQ(span_text("2026-W01"), "2025-12-29..2026-01-04");
  EXPECT_EQ(span_text("2026-W53"), "2026-12-28..2027-01-03");  // 2026 has 53 weeks
  EXPECT_EQ(span_text("2027-W53"), "none");
  for (const char* bad : {"", "abc", "202", "2026-13", "2026-00", "2026-Q5", "2026-Q0", "2026-S3",
                          "2026-W00", "2026-W54", "2026-02-30", "2026-D366", "2026-", "2026-1",
                          "2026-Q", "2026-X1", "26-01", "2026-01-1", "2026-Q0003", "2026-M0011",
                          "2023-Q99999999999999999999", "2026-W99999999999", "2026-D9999999999"}) {
    EXPECT_EQ(span_text(bad), "none") << bad;
  }
}

TEST(Dataset, PicksNamesAndUnitsByLanguage) {
  const Dataset d = sample();
  EXPECT_EQ(code_name(d.dimensions[0].codes[1], "en"), "Hetang District");
  EXPECT_EQ(code_name(d.dimensions[0].codes[1], "zh"), "荷塘区");
  EXPECT_EQ(code_name(d.dimensions[0].codes[1], "fr"), "荷塘区");
  EXPECT_EQ(code_unit(d, d.dimensions[1].codes[0], "en"), "10,000 yuan");
  EXPECT_EQ(code_unit(d, d.dimensions[1].codes[1], "zh"), "%");
  EXPECT_EQ(dimension_with_role(d, "metric"), 1);
  EXPECT_EQ(dimension_with_role(d, "none"), -1);
}

TEST(Dataset, SelectsByThePortalFilter) {
  const Dataset d = sample();
  using V = std::vector<std::size_t>;
  auto pick = [&](const std::map<std::string, std::string>& p) {
    auto r = select_by_filter(d, p);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message_en);
    return r.ok() ? *r : V{99};
  };
  EXPECT_EQ(pick({}), (V{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(pick({{"format", "csv"}, {"lang", "en"}}), (V{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(pick({{"REGION", "430202,430203"}}), (V{2, 3, 4, 6}));
  EXPECT_EQ(pick({{"REGION", "430202,430203"}, {"TIME_PERIOD", "2026-11"}}), (V{3, 4, 6}));
  EXPECT_EQ(pick({{"INDICATOR", "I01_YOY"}, {"TIME_PERIOD", "2026-10,2026-11"}}), (V{5, 6}));
  EXPECT_EQ(pick({{"REGION", ""}}), (V{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(pick({{"REGION", "999999"}}).empty());
  for (const char* bad : {"430202,", ",430202", "430202,,430203", "4302 02", "430202;x"}) {
    auto r = select_by_filter(d, {{"REGION", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "BAD_QUERY");
  }
}

TEST(Dataset, ComparesVersionsByCodes) {
  const Dataset a = sample();
  EXPECT_EQ(compare_versions(a, a).changed, 0u);
  EXPECT_EQ(compare_versions(a, a).added, 0u);

  // The later version lists the regions in another order, corrects one value, suppresses
  // another and adds a period: two changes in two periods, the new period's cells are additions.
  Dataset b = a;
  std::reverse(b.dimensions[0].codes.begin(), b.dimensions[0].codes.end());
  const std::uint32_t nr = static_cast<std::uint32_t>(b.dimensions[0].codes.size());
  for (auto& o : b.observations) o.key[0] = nr - 1 - o.key[0];
  auto normal = std::find_if(b.observations.begin(), b.observations.end(),
                             [](const Observation& o) { return o.status == 0; });
  ASSERT_NE(normal, b.observations.end());
  *normal->value += 1.0;
  auto other = std::find_if(std::next(normal), b.observations.end(), [&](const Observation& o) {
    return o.status == 0 && o.key[2] != normal->key[2];
  });
  ASSERT_NE(other, b.observations.end());
  other->value.reset();
  other->status = 'C';
  std::vector<std::string> want{b.dimensions[2].codes[normal->key[2]].id,
                                b.dimensions[2].codes[other->key[2]].id};
  std::sort(want.begin(), want.end());
  b.dimensions[2].codes.push_back({"2026-12", "2026年12月", "Dec 2026", "", "", ""});
  const auto dec = static_cast<std::uint32_t>(b.dimensions[2].codes.size() - 1);
  b.observations.push_back({{0, 0, dec}, 99.0, 0});
  b.observations.push_back({{1, 0, dec}, 98.0, 0});

  const Revision r = compare_versions(a, b);
  EXPECT_EQ(r.changed, 2u);
  EXPECT_EQ(r.added, 2u);
  EXPECT_EQ(r.periods, want);

  // A redesign (other dimensions) revises nothing.
  Dataset c = b;
  c.dimensions[0].id = "AREA";
  EXPECT_EQ(compare_versions(a, c).changed, 0u);
}

}  // namespace
}  // namespace statgov::publish
