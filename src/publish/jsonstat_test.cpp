#include "publish/jsonstat.hpp"

#include "publish/testdata/sample.hpp"

#include <gtest/gtest.h>

namespace statgov::publish {
namespace {

using testing::sample;

std::size_t product(const json& size) {
  std::size_t n = 1;
  for (const json& s : size) n *= s.get<std::size_t>();
  return n;
}

TEST(JsonStat, WholeDatasetIsDenseAndPlacedRight) {
  const Dataset d = sample();
  const json j = write_jsonstat(d, {0, 1, 2, 3, 4, 5, 6, 7}, "zh");
  EXPECT_EQ(j["version"], "2.0");
  EXPECT_EQ(j["class"], "dataset");
  EXPECT_EQ(j["id"], json::parse(R"(["REGION","INDICATOR","TIME_PERIOD"])"));
  EXPECT_EQ(j["size"], json::parse("[3,2,3]"));
  ASSERT_EQ(j["value"].size(), product(j["size"]));
  // index = region * 6 + indicator * 3 + period
  const json expected = json::parse(
      "[1100, 1234.5, 1300.25, null, null, 5.3, null, 400.05, null,"
      " null, null, null, null, null, 512.345, null, null, null]");
  EXPECT_EQ(j["value"], expected);
  EXPECT_EQ(j["status"], json::parse(R"({"8":"C","17":"M"})"));
  EXPECT_EQ(j["role"]["time"], json::array({"TIME_PERIOD"}));
  EXPECT_EQ(j["role"]["geo"], json::array({"REGION"}));
  EXPECT_EQ(j["role"]["metric"], json::array({"INDICATOR"}));
  const json& region = j["dimension"]["REGION"];
  EXPECT_EQ(region["label"], "地区");
  EXPECT_EQ(region["category"]["index"], json::parse(R"(["430200","430202","430203"])"));
  EXPECT_EQ(region["category"]["label"]["430203"], "芦淞区");
  EXPECT_EQ(region["category"]["child"]["430200"], json::parse(R"(["430202","430203"])"));
  const json& unit = j["dimension"]["INDICATOR"]["category"]["unit"];
  EXPECT_EQ(unit["I01"]["label"], "万元");
  EXPECT_EQ(unit["I01_YOY"]["label"], "%");
  EXPECT_EQ(unit["I01"]["decimals"], 1);
  EXPECT_EQ(j["extension"]["unit"]["label"], "万元");
  EXPECT_EQ(j["label"], d.title_zh);
  EXPECT_EQ(j["source"], "株洲市统计局");
  EXPECT_EQ(j["updated"], "2026-12-15T01:30:00Z");
  ASSERT_TRUE(j["note"].is_array());
  EXPECT_EQ(j["note"][0], "单位：万元");
}

TEST(JsonStat, SubsetKeepsOnlyItsCategories) {
  const Dataset d = sample();
  const json j = write_jsonstat(d, {2, 3, 4}, "en");
  EXPECT_EQ(j["size"], json::parse("[2,1,2]"));
  ASSERT_EQ(j["value"].size(), product(j["size"]));
  EXPECT_EQ(j["value"], json::parse("[400.05, null, null, 512.345]"));
  EXPECT_EQ(j["status"], json::parse(R"({"1":"C"})"));
  const json& region = j["dimension"]["REGION"];
  EXPECT_EQ(region["label"], "Region");
  EXPECT_EQ(region["category"]["index"], json::parse(R"(["430202","430203"])"));
  EXPECT_EQ(region["category"]["label"]["430202"], "Hetang District");
  EXPECT_FALSE(region["category"].contains("child"));  // the parent is not in the table
  EXPECT_EQ(j["dimension"]["TIME_PERIOD"]["category"]["index"],
            json::parse(R"(["2026-10","2026-11"])"));
  EXPECT_EQ(j["label"], d.title_en);
  EXPECT_EQ(j["dimension"]["INDICATOR"]["category"]["unit"]["I01"]["label"], "10,000 yuan");
}

TEST(JsonStat, EmptySelectionKeepsEveryCategoryAndNoValues) {
  const Dataset d = sample();
  const json j = write_jsonstat(d, {}, "zh");
  EXPECT_EQ(j["size"], json::parse("[3,2,3]"));
  ASSERT_EQ(j["value"].size(), 18u);
  for (const json& v : j["value"]) EXPECT_TRUE(v.is_null());
  EXPECT_FALSE(j.contains("status"));
}

TEST(JsonStat, UpdatedIsAlwaysRfc3339) {
  Dataset d = sample();
  d.updated = "2026-12-15T01:30Z";
  EXPECT_EQ(write_jsonstat(d, {0}, "zh")["updated"], "2026-12-15T01:30:00Z");
  d.updated = "yesterday";
  EXPECT_FALSE(write_jsonstat(d, {0}, "zh").contains("updated"));
}

TEST(JsonStat, HugeSparseTablesUseTheObjectForm) {
  Dataset d;
  d.id = "BIG";
  d.agency = "A";
  for (const char* id : {"A", "B", "C"}) {
    Dimension dim{id, id, id, "", {}};
    for (int c = 0; c < 200; ++c) dim.codes.push_back(Code{std::to_string(c), "", "", "", "", ""});
    d.dimensions.push_back(std::move(dim));
  }
  d.dimensions.push_back(Dimension{"TIME_PERIOD", "", "", "time", {{"2026", "", "", "", "", ""}}});
  std::vector<std::size_t> sel;
  for (std::uint32_t i = 0; i < 200; ++i) {
    d.observations.push_back(Observation{{i, i, i, 0}, 1.0 * i, 0});
    sel.push_back(i);
  }
  const json j = write_jsonstat(d, sel, "zh");
  EXPECT_EQ(j["size"], json::parse("[200,200,200,1]"));
  ASSERT_TRUE(j["value"].is_object());
  EXPECT_EQ(j["value"].size(), 200u);
  // index of (5, 5, 5, 0) = 5 * 40000 + 5 * 200 + 5
  EXPECT_EQ(j["value"]["201005"], 5.0);
}

TEST(JsonStat, IgnoresBadIndexes) {
  Dataset d = sample();
  d.observations.push_back(Observation{{9, 9, 9}, 1.0, 0});  // hand-built and broken
  const json j = write_jsonstat(d, {0, 8, 99}, "zh");
  EXPECT_EQ(j["size"], json::parse("[1,1,1]"));
  EXPECT_EQ(j["value"], json::parse("[1234.5]"));
}

}  // namespace
}  // namespace statgov::publish
