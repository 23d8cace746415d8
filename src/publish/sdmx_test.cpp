#include "publish/sdmx.hpp"

#include "publish/testdata/sample.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <tuple>

namespace statgov::publish {
namespace {

using testing::sample;
using Params = std::map<std::string, std::string>;
constexpr const char* kPrepared = "2026-12-15T01:30:00Z";

DataQuery query(const Dataset& d, std::string_view key, const Params& params = {}) {
  auto q = parse_data_query(d, key, params);
  EXPECT_TRUE(q.ok()) << key << ": " << (q.ok() ? "" : q.error().message_en);
  return q.ok() ? *q : DataQuery{};
}

std::vector<std::size_t> sel(const Dataset& d, std::string_view key, const Params& params = {}) {
  return select(d, query(d, key, params));
}

void expect_bad(const Dataset& d, std::string_view key, const Params& params = {}) {
  auto q = parse_data_query(d, key, params);
  ASSERT_FALSE(q.ok()) << "accepted: " << key;
  EXPECT_EQ(q.error().code, "BAD_QUERY");
  EXPECT_EQ(q.error().kind, ErrorKind::invalid);
  EXPECT_FALSE(q.error().message.empty());
  EXPECT_FALSE(q.error().message_en.empty());
}

using V = std::vector<std::size_t>;

// ---- key grammar and selection --------------------------------------------------------------

TEST(DataQuery, ParsesKeys) {
  const Dataset d = sample();
  auto q = query(d, "430202+430203.I01");
  ASSERT_EQ(q.key.size(), 2u);
  EXPECT_EQ(q.key[0], (std::vector<std::string>{"430202", "430203"}));
  EXPECT_EQ(q.key[1], (std::vector<std::string>{"I01"}));
  EXPECT_EQ(q.dimension_at_observation, "TIME_PERIOD");
  EXPECT_EQ(q.detail, "full");
  q = query(d, "all");
  EXPECT_TRUE(q.key[0].empty() && q.key[1].empty());
  q = query(d, "");
  EXPECT_TRUE(q.key[0].empty() && q.key[1].empty());
  q = query(d, ".I01_YOY");
  EXPECT_TRUE(q.key[0].empty());
  EXPECT_EQ(q.key[1], (std::vector<std::string>{"I01_YOY"}));
  q = query(d, "all",
            {{"dimensionAtObservation", "AllDimensions"},
             {"detail", "dataonly"},
             {"startPeriod", "2026-10"},
             {"endPeriod", "2026-Q4"},
             {"lang", "en"}});
  EXPECT_EQ(q.dimension_at_observation, "AllDimensions");
  EXPECT_EQ(q.detail, "dataonly");
  EXPECT_EQ(q.start_period, "2026-10");
  EXPECT_EQ(q.end_period, "2026-Q4");
  q = query(d, "all", {{"dimensionAtObservation", "REGION"}, {"detail", "serieskeysonly"}});
  EXPECT_EQ(q.dimension_at_observation, "REGION");
}

TEST(DataQuery, RejectsBadSyntax) {
  const Dataset d = sample();
  expect_bad(d, "430202");              // 1 part for 2 dimensions
  expect_bad(d, "430202.I01.2026-11");  // the time dimension is not in the key
  expect_bad(d, "..");
  expect_bad(d, "430202;.I01");
  expect_bad(d, "430202 .I01");
  expect_bad(d, "430202.I01%20");
  expect_bad(d, "4302/02.I01");
  expect_bad(d, "+430202.I01");
  expect_bad(d, "430202+.I01");
  expect_bad(d, "430202++430203.I01");
  expect_bad(d, "ALL");  // only lower-case "all" is the keyword; as a key it has one part
  for (const char* p : {"2026-13", "abc", "2026-Q5", "2026-", "26", "2026-W54", "2026-02-30"}) {
    expect_bad(d, "all", {{"startPeriod", p}});
    expect_bad(d, "all", {{"endPeriod", p}});
  }
  expect_bad(d, "all", {{"startPeriod", "2026-11"}, {"endPeriod", "2026-10"}});
  expect_bad(d, "all", {{"startPeriod", "2027"}, {"endPeriod", "2026-Q4"}});
  expect_bad(d, "all", {{"detail", "everything"}});
  expect_bad(d, "all", {{"dimensionAtObservation", "COUNTRY"}});
  expect_bad(d, "all", {{"dimensionAtObservation", "alldimensions"}});
  // Unknown codes are fine: they select nothing.
  EXPECT_TRUE(sel(d, "999999.I01").empty());
  // Same period on both ends is a valid range.
  EXPECT_EQ(sel(d, "all", {{"startPeriod", "2026-10"}, {"endPeriod", "2026-10"}}), (V{0, 2}));
}

TEST(Select, PicksTheExactObservations) {
  const Dataset d = sample();
  EXPECT_EQ(sel(d, "all"), (V{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(sel(d, "430202.I01"), (V{2, 3}));
  EXPECT_EQ(sel(d, "430202+430203."), (V{2, 3, 4, 6}));
  EXPECT_EQ(sel(d, ".I01_YOY"), (V{5, 6}));
  EXPECT_EQ(sel(d, "430200.I01+I01_YOY"), (V{0, 1, 5, 7}));
  EXPECT_EQ(sel(d, "430200+NOPE.I01"), (V{0, 1, 7}));
  EXPECT_EQ(sel(d, "all", {{"startPeriod", "2026-10"}}), (V{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(sel(d, "all", {{"endPeriod", "2026-10"}}), (V{0, 2, 7}));
  EXPECT_EQ(sel(d, "430200.I01", {{"startPeriod", "2026-Q4"}}), (V{0, 1}));
  EXPECT_EQ(sel(d, "430200.I01", {{"endPeriod", "2026-Q3"}}), (V{7}));
  EXPECT_EQ(sel(d, "all", {{"startPeriod", "2026-11-01"}, {"endPeriod", "2026-11-30"}}),
            (V{1, 3, 4, 5, 6}));
  EXPECT_EQ(sel(d, "all", {{"startPeriod", "2026"}}).size(), 8u);
  EXPECT_TRUE(sel(d, "all", {{"startPeriod", "2027"}}).empty());
}

TEST(Select, ComparesPeriodsByTheirDates) {
  Dataset d;
  d.id = "Q";
  d.agency = "A";
  d.dimensions = {{"INDICATOR", "指标", "Indicator", "metric", {{"I", "i", "i", "", "", ""}}},
                  {"TIME_PERIOD", "时间", "Time", "time", {}}};
  for (const char* p : {"2026", "2026-Q2", "2026-Q3", "2026-06", "2026-07", "2026-09", "2026-10",
                        "2026-Q4", "2026-W27"}) {
    d.dimensions[1].codes.push_back(Code{p, p, p, "", "", ""});
  }
  for (std::uint32_t t = 0; t < d.dimensions[1].codes.size(); ++t) {
    d.observations.push_back(Observation{{0, t}, 1.0 * t, 0});
  }
  // startPeriod=2026-Q3 keeps 2026-Q3, 2026-07, 2026-09, 2026-10, 2026-Q4 and week 27 (Jun 29 -
  // Jul 5 starts before July: out); not the year 2026, 2026-Q2 or 2026-06.
  EXPECT_EQ(sel(d, "I", {{"startPeriod", "2026-Q3"}}), (V{2, 4, 5, 6, 7}));
  EXPECT_EQ(sel(d, "I", {{"startPeriod", "2026-Q3"}, {"endPeriod", "2026-Q3"}}), (V{2, 4, 5}));
  EXPECT_EQ(sel(d, "I", {{"endPeriod", "2026-06"}}), (V{1, 3}));
  EXPECT_EQ(sel(d, "I", {{"startPeriod", "2026-06-29"}, {"endPeriod", "2026-07-05"}}), (V{8}));
  EXPECT_EQ(sel(d, "all", {{"startPeriod", "2026"}, {"endPeriod", "2026"}}).size(), 9u);
}

// ---- negotiation ----------------------------------------------------------------------------

std::string data_type(std::string_view accept) {
  auto r = negotiate_data(accept);
  if (!r.ok()) return "406:" + r.error().code;
  return r->second;
}

TEST(Negotiate, DataFormats) {
  EXPECT_EQ(data_type(""), "application/vnd.sdmx.data+json;version=1.0.0");
  EXPECT_EQ(negotiate_data("")->first, DataFormat::sdmx_json);
  EXPECT_EQ(data_type("*/*"), "application/vnd.sdmx.data+json;version=1.0.0");
  EXPECT_EQ(data_type("application/*"), "application/vnd.sdmx.data+json;version=1.0.0");
  EXPECT_EQ(data_type("application/json"), "application/json");
  EXPECT_EQ(negotiate_data("application/json")->first, DataFormat::sdmx_json);
  EXPECT_EQ(data_type("application/vnd.sdmx.data+csv;version=1.0.0"),
            "application/vnd.sdmx.data+csv;version=1.0.0");
  EXPECT_EQ(negotiate_data("application/vnd.sdmx.data+csv;version=1.0.0")->first,
            DataFormat::sdmx_csv);
  EXPECT_EQ(data_type("application/vnd.sdmx.data+csv; version=1.0.0; charset=utf-8"),
            "application/vnd.sdmx.data+csv;version=1.0.0");
  EXPECT_EQ(data_type("text/csv"), "text/csv; charset=utf-8");
  EXPECT_EQ(data_type("application/vnd.sdmx.data+json;version=1.0"),
            "application/vnd.sdmx.data+json;version=1.0.0");
  EXPECT_EQ(data_type("application/vnd.sdmx.genericdata+xml;version=2.1.0"),
            "application/vnd.sdmx.genericdata+xml;version=2.1");
  EXPECT_EQ(negotiate_data("text/*")->first, DataFormat::sdmx_csv);
  EXPECT_EQ(data_type("application/vnd.sdmx.genericdata+xml;version=2.1"),
            "application/vnd.sdmx.genericdata+xml;version=2.1");
  EXPECT_EQ(negotiate_data("application/vnd.sdmx.genericdata+xml;version=2.1")->first,
            DataFormat::sdmx_ml_generic);
  EXPECT_EQ(negotiate_data("application/vnd.sdmx.structurespecificdata+xml;version=2.1")->first,
            DataFormat::sdmx_ml_structure_specific);
  EXPECT_EQ(negotiate_data("APPLICATION/VND.SDMX.STRUCTURESPECIFICDATA+XML")->first,
            DataFormat::sdmx_ml_structure_specific);
  EXPECT_EQ(negotiate_data("application/xml")->first, DataFormat::sdmx_ml_generic);
  EXPECT_EQ(data_type("text/xml"), "text/xml; charset=utf-8");
  // A browser: XML (q=0.9) beats */* (q=0.8).
  EXPECT_EQ(data_type("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            "application/xml");
  // q-values decide, then the more specific range, then the client's order.
  EXPECT_EQ(data_type("application/json;q=0.5, text/csv"), "text/csv; charset=utf-8");
  EXPECT_EQ(data_type("application/xml;q=0.9, application/vnd.sdmx.data+csv;version=1.0.0"),
            "application/vnd.sdmx.data+csv;version=1.0.0");
  EXPECT_EQ(data_type("*/*;q=0.1, application/vnd.sdmx.structurespecificdata+xml;version=2.1"),
            "application/vnd.sdmx.structurespecificdata+xml;version=2.1");
  EXPECT_EQ(data_type("application/xml, application/json"), "application/xml");
  // q=0 excludes, even under a wildcard.
  EXPECT_EQ(data_type("application/json;q=0, */*"), "application/vnd.sdmx.data+json;version=1.0.0");
  EXPECT_EQ(data_type("application/vnd.sdmx.data+json;q=0, application/json;q=0, */*;q=0.5"),
            "application/vnd.sdmx.data+csv;version=1.0.0");
  // Nothing acceptable.
  EXPECT_EQ(data_type("text/html"), "406:NOT_ACCEPTABLE");
  EXPECT_EQ(data_type("*/*;q=0"), "406:NOT_ACCEPTABLE");
  EXPECT_EQ(data_type("application/vnd.sdmx.data+json;version=2.0.0"), "406:NOT_ACCEPTABLE");
  EXPECT_EQ(data_type("application/vnd.sdmx.data+csv;version=2.0.0"), "406:NOT_ACCEPTABLE");
  EXPECT_EQ(data_type("image/png, text/html;q=0.9"), "406:NOT_ACCEPTABLE");
  EXPECT_EQ(data_type("garbage"), "406:NOT_ACCEPTABLE");
  EXPECT_EQ(data_type("application/json;q=2"), "406:NOT_ACCEPTABLE");
  EXPECT_EQ(data_type(",,,"), "406:NOT_ACCEPTABLE");
  auto r = negotiate_data("text/html");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().message.empty());
  EXPECT_NE(r.error().message_en.find("application/vnd.sdmx.data+json"), std::string::npos);
}

TEST(Negotiate, StructureFormats) {
  auto type = [](std::string_view a) {
    auto r = negotiate_structure(a);
    return r.ok() ? r->second : "406:" + r.error().code;
  };
  EXPECT_EQ(type(""), "application/vnd.sdmx.structure+xml;version=2.1");
  EXPECT_EQ(negotiate_structure("")->first, StructureFormat::sdmx_ml);
  EXPECT_EQ(type("*/*"), "application/vnd.sdmx.structure+xml;version=2.1");
  EXPECT_EQ(type("application/vnd.sdmx.structure+xml;version=2.1"),
            "application/vnd.sdmx.structure+xml;version=2.1");
  EXPECT_EQ(type("application/xml"), "application/xml");
  EXPECT_EQ(type("text/xml"), "text/xml; charset=utf-8");
  EXPECT_EQ(negotiate_structure("application/vnd.sdmx.structure+json;version=1.0.0")->first,
            StructureFormat::sdmx_json);
  EXPECT_EQ(type("application/json"), "application/json");
  EXPECT_EQ(negotiate_structure("application/json")->first, StructureFormat::sdmx_json);
  EXPECT_EQ(type("application/xml;q=0.2, application/json;q=0.8"), "application/json");
  EXPECT_EQ(type("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            "application/xml");
  EXPECT_EQ(type("application/vnd.sdmx.data+json;version=1.0.0"), "406:NOT_ACCEPTABLE");
  EXPECT_EQ(type("application/vnd.sdmx.structure+xml;version=3.0.0"), "406:NOT_ACCEPTABLE");
  EXPECT_EQ(type("*/*;q=0"), "406:NOT_ACCEPTABLE");
  EXPECT_EQ(type("text/csv"), "406:NOT_ACCEPTABLE");
}

// ---- SDMX-JSON ------------------------------------------------------------------------------

using Cell = std::tuple<std::string, std::string, std::string>;  // region, indicator, period

// The sample's observations by codes: value (nullopt when absent) and status.
std::map<Cell, std::pair<std::optional<double>, char>> expected_cells(const Dataset& d,
                                                                      const V& s) {
  std::map<Cell, std::pair<std::optional<double>, char>> out;
  for (std::size_t i : s) {
    const Observation& o = d.observations[i];
    out[{d.dimensions[0].codes[o.key[0]].id, d.dimensions[1].codes[o.key[1]].id,
         d.dimensions[2].codes[o.key[2]].id}] = {o.value, o.status};
  }
  return out;
}

// Decodes an observation array [value, OBS_STATUS index, OBS_CONF index] into (value, status).
std::pair<std::optional<double>, char> decode_obs(const json& arr, const json& attrs) {
  std::optional<double> v;
  if (!arr.at(0).is_null()) v = arr.at(0).get<double>();
  char status = 0;
  for (std::size_t a = 1; a < arr.size(); ++a) {
    if (arr[a].is_null()) continue;
    const std::string id = attrs.at(a - 1).at("values").at(arr[a].get<std::size_t>()).at("id");
    if (attrs.at(a - 1).at("id") == "OBS_STATUS" && id == "M") status = 'M';
    if (attrs.at(a - 1).at("id") == "OBS_CONF" && id == "C") status = 'C';
  }
  return {v, status};
}

void check_meta(const json& m) {
  ASSERT_TRUE(m.contains("meta"));
  EXPECT_EQ(m["meta"]["prepared"], kPrepared);
  EXPECT_EQ(m["meta"]["sender"]["id"], "CN_430200");
  const std::string id = m["meta"]["id"];
  ASSERT_FALSE(id.empty());
  for (char c : id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '_') << id;
}

TEST(SdmxJson, SeriesMapToTheRightValues) {
  const Dataset d = sample();
  const DataQuery q = query(d, "all");
  const V s = select(d, q);
  const json m = json::parse(write_sdmx_json_data(d, s, q, kPrepared, "zh"));
  check_meta(m);
  const json& st = m["data"]["structure"];
  ASSERT_EQ(st["dimensions"]["series"].size(), 2u);
  EXPECT_EQ(st["dimensions"]["series"][0]["id"], "REGION");
  EXPECT_EQ(st["dimensions"]["series"][0]["keyPosition"], 0);
  EXPECT_EQ(st["dimensions"]["series"][0]["name"], "地区");
  EXPECT_EQ(st["dimensions"]["series"][0]["values"][1]["name"], "荷塘区");
  EXPECT_EQ(st["dimensions"]["series"][0]["values"][1]["parent"], "430200");
  EXPECT_EQ(st["dimensions"]["series"][1]["id"], "INDICATOR");
  ASSERT_EQ(st["dimensions"]["observation"].size(), 1u);
  const json& time = st["dimensions"]["observation"][0];
  EXPECT_EQ(time["id"], "TIME_PERIOD");
  EXPECT_EQ(time["keyPosition"], 2);
  EXPECT_EQ(time["roles"], json::array({"TIME_PERIOD"}));
  EXPECT_EQ(time["values"][2]["start"], "2026-11-01T00:00:00Z");
  EXPECT_EQ(time["values"][2]["end"], "2026-11-30T23:59:59Z");
  const json& attrs = st["attributes"]["observation"];
  ASSERT_EQ(attrs.size(), 2u);
  EXPECT_EQ(attrs[0]["id"], "OBS_STATUS");
  EXPECT_EQ(attrs[1]["id"], "OBS_CONF");
  EXPECT_EQ(attrs[1]["relationship"]["primaryMeasure"], "OBS_VALUE");

  const json& ds = m["data"]["dataSets"][0];
  ASSERT_TRUE(ds["links"].is_array());  // required by the 1.0 schema
  EXPECT_EQ(ds["links"][0]["rel"], "dataflow");
  EXPECT_EQ(
      ds["links"][0]["urn"],
      "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=CN_430200:B204_1_COUNTY_MONTHLY(1.0)");
  ASSERT_EQ(ds["series"].size(), 5u);
  std::map<Cell, std::pair<std::optional<double>, char>> got;
  for (const auto& [skey, series] : ds["series"].items()) {
    const auto colon = skey.find(':');
    ASSERT_NE(colon, std::string::npos);
    const std::string region =
        st["dimensions"]["series"][0]["values"][std::stoul(skey.substr(0, colon))]["id"];
    const std::string indicator =
        st["dimensions"]["series"][1]["values"][std::stoul(skey.substr(colon + 1))]["id"];
    for (const auto& [okey, arr] : series["observations"].items()) {
      const std::string period = time["values"][std::stoul(okey)]["id"];
      got[{region, indicator, period}] = decode_obs(arr, attrs);
    }
  }
  EXPECT_EQ(got, expected_cells(d, s));
  // The suppressed cell exactly: no value, OBS_STATUS unset, OBS_CONF = C.
  EXPECT_EQ(ds["series"]["1:0"]["observations"]["2"], json::parse("[null, null, 0]"));
  EXPECT_EQ(ds["series"]["2:1"]["observations"]["2"], json::parse("[null, 0]"));
  EXPECT_EQ(ds["series"]["0:0"]["observations"]["0"], json::parse("[1100]"));
  EXPECT_EQ(ds["series"]["0:0"]["observations"]["1"], json::parse("[1234.5]"));
}

TEST(SdmxJson, SubsetsUseOnlyTheirCodesAndEnglishNames) {
  const Dataset d = sample();
  const DataQuery q = query(d, "430202+430203.I01", {{"startPeriod", "2026-11"}});
  const V s = select(d, q);
  ASSERT_EQ(s, (V{3, 4}));
  const json m = json::parse(write_sdmx_json_data(d, s, q, kPrepared, "en"));
  const json& st = m["data"]["structure"];
  EXPECT_EQ(st["name"], d.title_en);
  const json& regions = st["dimensions"]["series"][0]["values"];
  ASSERT_EQ(regions.size(), 2u);
  EXPECT_EQ(regions[0]["id"], "430202");
  EXPECT_EQ(regions[0]["name"], "Hetang District");
  EXPECT_FALSE(regions[0].contains("parent"));  // 430200 is not in the message
  EXPECT_EQ(st["dimensions"]["observation"][0]["values"].size(), 1u);
  const json& series = m["data"]["dataSets"][0]["series"];
  EXPECT_EQ(series["0:0"]["observations"]["0"], json::parse("[null, null, 0]"));
  EXPECT_EQ(series["1:0"]["observations"]["0"], json::parse("[512.345]"));
  EXPECT_EQ(m["meta"]["contentLanguages"], json::array({"en"}));
}

TEST(SdmxJson, DetailAndPackaging) {
  const Dataset d = sample();
  {  // dataonly: no attributes, value-only arrays
    const DataQuery q = query(d, "430202.I01", {{"detail", "dataonly"}});
    const json m = json::parse(write_sdmx_json_data(d, select(d, q), q, kPrepared, "zh"));
    EXPECT_TRUE(m["data"]["structure"]["attributes"]["observation"].empty());
    EXPECT_EQ(m["data"]["dataSets"][0]["series"]["0:0"]["observations"]["1"],
              json::parse("[null]"));
    EXPECT_EQ(m["data"]["dataSets"][0]["series"]["0:0"]["observations"]["0"],
              json::parse("[400.05]"));
  }
  {  // serieskeysonly: series without observations
    const DataQuery q = query(d, "all", {{"detail", "serieskeysonly"}});
    const json m = json::parse(write_sdmx_json_data(d, select(d, q), q, kPrepared, "zh"));
    const json& series = m["data"]["dataSets"][0]["series"];
    EXPECT_EQ(series.size(), 5u);
    for (const auto& [k, v] : series.items()) EXPECT_FALSE(v.contains("observations")) << k;
    EXPECT_TRUE(m["data"]["structure"]["attributes"]["observation"].empty());
  }
  {  // nodata: series with attributes, no observations
    const DataQuery q = query(d, "all", {{"detail", "nodata"}});
    const json m = json::parse(write_sdmx_json_data(d, select(d, q), q, kPrepared, "zh"));
    for (const auto& [k, v] : m["data"]["dataSets"][0]["series"].items()) {
      EXPECT_FALSE(v.contains("observations")) << k;
      EXPECT_TRUE(v["attributes"].is_array());
    }
    EXPECT_EQ(m["data"]["structure"]["attributes"]["observation"].size(), 2u);
  }
  {  // AllDimensions: flat observations keyed by all three positions
    const DataQuery q = query(d, "all", {{"dimensionAtObservation", "AllDimensions"}});
    const V s = select(d, q);
    const json m = json::parse(write_sdmx_json_data(d, s, q, kPrepared, "zh"));
    const json& st = m["data"]["structure"];
    EXPECT_TRUE(st["dimensions"]["series"].empty());
    ASSERT_EQ(st["dimensions"]["observation"].size(), 3u);
    const json& ds = m["data"]["dataSets"][0];
    EXPECT_FALSE(ds.contains("series"));
    ASSERT_EQ(ds["observations"].size(), 8u);
    std::map<Cell, std::pair<std::optional<double>, char>> got;
    for (const auto& [okey, arr] : ds["observations"].items()) {
      std::vector<std::string> ids;
      std::size_t start = 0;
      for (int k = 0; k < 3; ++k) {
        const std::size_t end = okey.find(':', start);
        const std::size_t pos = std::stoul(okey.substr(start, end - start));
        ids.push_back(st["dimensions"]["observation"][k]["values"][pos]["id"]);
        start = end + 1;
      }
      got[{ids[0], ids[1], ids[2]}] = decode_obs(arr, st["attributes"]["observation"]);
    }
    EXPECT_EQ(got, expected_cells(d, s));
    EXPECT_EQ(ds["observations"]["1:0:2"], json::parse("[null, null, 0]"));
  }
  {  // cross-section: REGION at the observation level
    const DataQuery q = query(d, ".I01", {{"dimensionAtObservation", "REGION"}});
    const json m = json::parse(write_sdmx_json_data(d, select(d, q), q, kPrepared, "zh"));
    const json& st = m["data"]["structure"];
    ASSERT_EQ(st["dimensions"]["series"].size(), 2u);
    EXPECT_EQ(st["dimensions"]["series"][0]["id"], "INDICATOR");
    EXPECT_EQ(st["dimensions"]["series"][1]["id"], "TIME_PERIOD");
    EXPECT_EQ(st["dimensions"]["observation"][0]["id"], "REGION");
    EXPECT_EQ(st["dimensions"]["observation"][0]["keyPosition"], 0);
    // Series (I01, 2026-11): 430200 -> 1300.25, 430202 -> suppressed, 430203 -> 512.345
    const json& s = m["data"]["dataSets"][0]["series"]["0:2"]["observations"];
    EXPECT_EQ(s["0"], json::parse("[1300.25]"));
    EXPECT_EQ(s["1"], json::parse("[null, null, 0]"));
    EXPECT_EQ(s["2"], json::parse("[512.345]"));
  }
}

TEST(SdmxJson, EmptySelectionIsStillAMessage) {
  const Dataset d = sample();
  const DataQuery q = query(d, "999.I01");
  const json m = json::parse(write_sdmx_json_data(d, select(d, q), q, kPrepared, "zh"));
  EXPECT_TRUE(m["data"]["dataSets"][0]["series"].empty());
  EXPECT_TRUE(m["data"]["dataSets"][0]["links"].is_array());
}

// ---- SDMX-CSV -------------------------------------------------------------------------------

TEST(SdmxCsv, HeaderAndRowsExact) {
  const Dataset d = sample();
  DataQuery q = query(d, "all");
  const std::string f = "CN_430200:B204_1_COUNTY_MONTHLY(1.0)";
  EXPECT_EQ(write_sdmx_csv(d, select(d, q), q),
            "DATAFLOW,REGION,INDICATOR,TIME_PERIOD,OBS_VALUE,OBS_STATUS,OBS_CONF\r\n" + f +
                ",430200,I01,2026-10,1234.5,,\r\n" + f + ",430200,I01,2026-11,1300.25,,\r\n" + f +
                ",430202,I01,2026-10,400.05,,\r\n" + f + ",430202,I01,2026-11,,,C\r\n" + f +
                ",430203,I01,2026-11,512.345,,\r\n" + f + ",430200,I01_YOY,2026-11,5.3,,\r\n" + f +
                ",430203,I01_YOY,2026-11,,M,\r\n" + f + ",430200,I01,2026-09,1100,,\r\n");
  q = query(d, "430202.I01", {{"detail", "dataonly"}});
  EXPECT_EQ(write_sdmx_csv(d, select(d, q), q),
            "DATAFLOW,REGION,INDICATOR,TIME_PERIOD,OBS_VALUE\r\n" + f +
                ",430202,I01,2026-10,400.05\r\n" + f + ",430202,I01,2026-11,\r\n");
  q = query(d, ".I01", {{"detail", "serieskeysonly"}});
  EXPECT_EQ(write_sdmx_csv(d, select(d, q), q), "DATAFLOW,REGION,INDICATOR\r\n" + f +
                                                    ",430200,I01\r\n" + f + ",430202,I01\r\n" + f +
                                                    ",430203,I01\r\n");
  q = query(d, "NONE.I01");
  EXPECT_EQ(write_sdmx_csv(d, select(d, q), q),
            "DATAFLOW,REGION,INDICATOR,TIME_PERIOD,OBS_VALUE,OBS_STATUS,OBS_CONF\r\n");
}

// ---- SDMX-ML data ---------------------------------------------------------------------------

constexpr const char* kMes = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message";
constexpr const char* kGen = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic";
constexpr const char* kStr = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure";
constexpr const char* kCom = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common";

pugi::xml_document parse_xml(const std::string& text) {
  pugi::xml_document doc;
  const auto r = doc.load_string(text.c_str());
  EXPECT_TRUE(r) << r.description();
  EXPECT_EQ(text.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
  return doc;
}

std::optional<double> xml_number(const char* s) {
  if (std::string_view(s) == "NaN") return std::nullopt;
  return std::stod(s);
}

TEST(SdmxMl, GenericDataHoldsTheRightValues) {
  const Dataset d = sample();
  const DataQuery q = query(d, "all");
  const V s = select(d, q);
  const auto doc = parse_xml(write_sdmx_ml_generic(d, s, q, kPrepared));
  const auto root = doc.child("mes:GenericData");
  ASSERT_TRUE(root);
  EXPECT_STREQ(root.attribute("xmlns:mes").value(), kMes);
  EXPECT_STREQ(root.attribute("xmlns:gen").value(), kGen);
  EXPECT_STREQ(root.attribute("xmlns:com").value(), kCom);
  const auto header = root.child("mes:Header");
  EXPECT_STREQ(header.child_value("mes:Prepared"), kPrepared);
  EXPECT_STREQ(header.child("mes:Sender").attribute("id").value(), "CN_430200");
  const auto st = header.child("mes:Structure");
  EXPECT_STREQ(st.attribute("dimensionAtObservation").value(), "TIME_PERIOD");
  EXPECT_STREQ(st.attribute("structureID").value(), "DSD_B204_1_COUNTY_MONTHLY");
  EXPECT_STREQ(st.child("com:Structure").child("Ref").attribute("id").value(),
               "DSD_B204_1_COUNTY_MONTHLY");
  const auto ds = root.child("mes:DataSet");
  EXPECT_STREQ(ds.attribute("structureRef").value(), "DSD_B204_1_COUNTY_MONTHLY");
  std::map<Cell, std::pair<std::optional<double>, char>> got;
  int series = 0;
  for (auto sn : ds.children("gen:Series")) {
    ++series;
    std::map<std::string, std::string> key;
    for (auto v : sn.child("gen:SeriesKey").children("gen:Value")) {
      key[v.attribute("id").value()] = v.attribute("value").value();
    }
    ASSERT_EQ(key.size(), 2u);
    for (auto obs : sn.children("gen:Obs")) {
      char status = 0;
      for (auto a : obs.child("gen:Attributes").children("gen:Value")) {
        if (std::string_view(a.attribute("id").value()) == "OBS_CONF") {
          EXPECT_STREQ(a.attribute("value").value(), "C");
          status = 'C';
        }
        if (std::string_view(a.attribute("id").value()) == "OBS_STATUS") {
          EXPECT_STREQ(a.attribute("value").value(), "M");
          status = 'M';
        }
      }
      got[{key["REGION"], key["INDICATOR"],
           obs.child("gen:ObsDimension").attribute("value").value()}] = {
          xml_number(obs.child("gen:ObsValue").attribute("value").value()), status};
    }
  }
  EXPECT_EQ(series, 5);
  EXPECT_EQ(got, expected_cells(d, s));
}

TEST(SdmxMl, SeriesAndObservationsInCodeListOrder) {
  const Dataset d = sample();
  const DataQuery q = query(d, "all");
  const auto doc = parse_xml(write_sdmx_ml_generic(d, select(d, q), q, kPrepared));
  std::vector<std::string> order;
  for (auto sn : doc.child("mes:GenericData").child("mes:DataSet").children("gen:Series")) {
    std::string line;
    for (auto v : sn.child("gen:SeriesKey").children("gen:Value")) {
      line += std::string(v.attribute("value").value()) + "/";
    }
    line += ":";
    for (auto obs : sn.children("gen:Obs")) {
      line += std::string(" ") + obs.child("gen:ObsDimension").attribute("value").value();
    }
    order.push_back(line);
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"430200/I01/: 2026-09 2026-10 2026-11",
                                      "430200/I01_YOY/: 2026-11", "430202/I01/: 2026-10 2026-11",
                                      "430203/I01/: 2026-11", "430203/I01_YOY/: 2026-11"}));
}

TEST(SdmxMl, GenericDetailAndFlat) {
  const Dataset d = sample();
  DataQuery q = query(d, "all", {{"detail", "serieskeysonly"}});
  auto doc = parse_xml(write_sdmx_ml_generic(d, select(d, q), q, kPrepared));
  auto ds = doc.child("mes:GenericData").child("mes:DataSet");
  EXPECT_EQ(std::distance(ds.children("gen:Series").begin(), ds.children("gen:Series").end()), 5);
  EXPECT_FALSE(ds.child("gen:Series").child("gen:Obs"));

  q = query(d, "all", {{"detail", "dataonly"}});
  doc = parse_xml(write_sdmx_ml_generic(d, select(d, q), q, kPrepared));
  EXPECT_FALSE(doc.select_node("//gen:Attributes"));
  EXPECT_TRUE(doc.select_node("//gen:Obs"));

  q = query(d, "430202.I01", {{"dimensionAtObservation", "AllDimensions"}});
  doc = parse_xml(write_sdmx_ml_generic(d, select(d, q), q, kPrepared));
  EXPECT_STREQ(doc.select_node("//mes:Header/mes:Structure")
                   .node()
                   .attribute("dimensionAtObservation")
                   .value(),
               "AllDimensions");
  ds = doc.child("mes:GenericData").child("mes:DataSet");
  EXPECT_FALSE(ds.child("gen:Series"));
  std::vector<std::string> seen;
  for (auto obs : ds.children("gen:Obs")) {
    std::string k;
    for (auto v : obs.child("gen:ObsKey").children("gen:Value")) {
      k += std::string(v.attribute("id").value()) + "=" + v.attribute("value").value() + ";";
    }
    k += obs.child("gen:ObsValue").attribute("value").value();
    seen.push_back(k);
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"REGION=430202;INDICATOR=I01;TIME_PERIOD=2026-10;400.05",
                                      "REGION=430202;INDICATOR=I01;TIME_PERIOD=2026-11;NaN"}));
}

TEST(SdmxMl, StructureSpecificDataHoldsTheRightValues) {
  const Dataset d = sample();
  const DataQuery q = query(d, "all");
  const V s = select(d, q);
  const auto doc = parse_xml(write_sdmx_ml_structure_specific(d, s, q, kPrepared));
  const auto root = doc.child("mes:StructureSpecificData");
  ASSERT_TRUE(root);
  const std::string ns =
      "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=CN_430200:DSD_B204_1_COUNTY_MONTHLY"
      "(1.0):ObsLevelDim:TIME_PERIOD";
  EXPECT_EQ(root.attribute("xmlns:ns1").value(), ns);
  EXPECT_STREQ(root.attribute("xmlns:ss").value(),
               "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific");
  EXPECT_EQ(root.child("mes:Header").child("mes:Structure").attribute("namespace").value(), ns);
  const auto ds = root.child("mes:DataSet");
  EXPECT_STREQ(ds.attribute("ss:structureRef").value(),
               root.child("mes:Header").child("mes:Structure").attribute("structureID").value());
  EXPECT_STREQ(ds.attribute("xsi:type").value(), "ns1:DataSetType");
  std::map<Cell, std::pair<std::optional<double>, char>> got;
  for (auto sn : ds.children("Series")) {
    for (auto obs : sn.children("Obs")) {
      char status = obs.attribute("OBS_CONF") ? 'C' : (obs.attribute("OBS_STATUS") ? 'M' : 0);
      got[{sn.attribute("REGION").value(), sn.attribute("INDICATOR").value(),
           obs.attribute("TIME_PERIOD").value()}] = {xml_number(obs.attribute("OBS_VALUE").value()),
                                                     status};
    }
  }
  EXPECT_EQ(got, expected_cells(d, s));

  const DataQuery flat = query(d, ".I01_YOY", {{"dimensionAtObservation", "AllDimensions"}});
  const auto fdoc =
      parse_xml(write_sdmx_ml_structure_specific(d, select(d, flat), flat, kPrepared));
  const auto froot = fdoc.child("mes:StructureSpecificData");
  EXPECT_NE(std::string(froot.attribute("xmlns:ns1").value()).find(":ObsLevelDim:AllDimensions"),
            std::string::npos);
  auto obs = froot.child("mes:DataSet").child("Obs");
  ASSERT_TRUE(obs);
  EXPECT_STREQ(obs.attribute("REGION").value(), "430200");
  EXPECT_STREQ(obs.attribute("TIME_PERIOD").value(), "2026-11");
  EXPECT_STREQ(obs.attribute("OBS_VALUE").value(), "5.3");
  obs = obs.next_sibling("Obs");
  EXPECT_STREQ(obs.attribute("OBS_VALUE").value(), "NaN");
  EXPECT_STREQ(obs.attribute("OBS_STATUS").value(), "M");
}

TEST(SdmxMl, EscapesText) {
  Dataset d = sample();
  d.title_zh = "A & B <c> \"d\"";
  d.dimensions[0].codes[0].name_en = "x < y & \x01z";
  const auto doc =
      parse_xml(write_structure_xml({&d}, StructureKind::datastructure, true, kPrepared));
  EXPECT_STREQ(doc.select_node("//str:DataStructure/com:Name[@xml:lang='zh']").node().child_value(),
               "A & B <c> \"d\"");
  EXPECT_STREQ(
      doc.select_node("//str:Code[@id='430200']/com:Name[@xml:lang='en']").node().child_value(),
      "x < y & z");
}

// ---- structures -----------------------------------------------------------------------------

TEST(Structure, XmlHoldsAllCodesInBothLanguages) {
  const Dataset d = sample();
  const auto doc =
      parse_xml(write_structure_xml({&d}, StructureKind::datastructure, true, kPrepared));
  const auto root = doc.child("mes:Structure");
  ASSERT_TRUE(root);
  EXPECT_STREQ(root.attribute("xmlns:str").value(), kStr);
  EXPECT_STREQ(root.child("mes:Header").child_value("mes:Prepared"), kPrepared);
  const auto structures = root.child("mes:Structures");
  // Order required by the SDMX-ML schema: Dataflows, Codelists, Concepts, DataStructures.
  std::vector<std::string> order;
  for (auto n : structures.children()) order.push_back(n.name());
  EXPECT_EQ(order,
            (std::vector<std::string>{"str:Codelists", "str:Concepts", "str:DataStructures"}));

  for (std::size_t k = 0; k + 1 < d.dimensions.size(); ++k) {
    const Dimension& dim = d.dimensions[k];
    const std::string cl = "CL_" + dim.id + "_B204_1_COUNTY_MONTHLY";
    const auto list =
        structures.child("str:Codelists").find_child_by_attribute("str:Codelist", "id", cl.c_str());
    ASSERT_TRUE(list) << cl;
    EXPECT_STREQ(list.attribute("agencyID").value(), "CN_430200");
    EXPECT_STREQ(list.attribute("version").value(), "1.0");
    std::size_t n = 0;
    for (auto code : list.children("str:Code")) {
      const Code& c = dim.codes[n++];
      EXPECT_EQ(code.attribute("id").value(), c.id);
      EXPECT_EQ(code.find_child_by_attribute("com:Name", "xml:lang", "zh").child_value(),
                c.name_zh);
      EXPECT_EQ(code.find_child_by_attribute("com:Name", "xml:lang", "en").child_value(),
                c.name_en);
      if (!c.parent.empty()) {
        EXPECT_EQ(code.child("str:Parent").child("Ref").attribute("id").value(), c.parent);
      }
    }
    EXPECT_EQ(n, dim.codes.size());
  }
  const auto conf = structures.child("str:Codelists")
                        .find_child_by_attribute("str:Codelist", "id", "CL_OBS_CONF");
  ASSERT_TRUE(conf);
  EXPECT_TRUE(conf.find_child_by_attribute("str:Code", "id", "C"));

  const auto dsd = structures.child("str:DataStructures").child("str:DataStructure");
  EXPECT_STREQ(dsd.attribute("id").value(), "DSD_B204_1_COUNTY_MONTHLY");
  const auto comps = dsd.child("str:DataStructureComponents");
  const auto dl = comps.child("str:DimensionList");
  std::vector<std::string> dims;
  for (auto n : dl.children())
    dims.push_back(std::string(n.name()) + ":" + n.attribute("id").value() + ":" +
                   n.attribute("position").value());
  EXPECT_EQ(dims, (std::vector<std::string>{"str:Dimension:REGION:1", "str:Dimension:INDICATOR:2",
                                            "str:TimeDimension:TIME_PERIOD:3"}));
  const auto region_ref = dl.child("str:Dimension")
                              .child("str:LocalRepresentation")
                              .child("str:Enumeration")
                              .child("Ref");
  EXPECT_STREQ(region_ref.attribute("id").value(), "CL_REGION_B204_1_COUNTY_MONTHLY");
  EXPECT_STREQ(region_ref.attribute("class").value(), "Codelist");
  EXPECT_STREQ(dl.child("str:Dimension")
                   .child("str:ConceptIdentity")
                   .child("Ref")
                   .attribute("maintainableParentID")
                   .value(),
               "CS_B204_1_COUNTY_MONTHLY");
  EXPECT_STREQ(dl.child("str:TimeDimension")
                   .child("str:LocalRepresentation")
                   .child("str:TextFormat")
                   .attribute("textType")
                   .value(),
               "ObservationalTimePeriod");
  std::vector<std::string> attrs;
  for (auto a : comps.child("str:AttributeList").children("str:Attribute"))
    attrs.push_back(a.attribute("id").value());
  EXPECT_EQ(attrs, (std::vector<std::string>{"OBS_STATUS", "OBS_CONF"}));
  EXPECT_STREQ(comps.child("str:MeasureList").child("str:PrimaryMeasure").attribute("id").value(),
               "OBS_VALUE");
  const auto cs = structures.child("str:Concepts").child("str:ConceptScheme");
  EXPECT_STREQ(cs.attribute("id").value(), "CS_B204_1_COUNTY_MONTHLY");
  for (const char* c :
       {"REGION", "INDICATOR", "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "OBS_CONF"}) {
    EXPECT_TRUE(cs.find_child_by_attribute("str:Concept", "id", c)) << c;
  }
}

TEST(Structure, KindsChildrenAndFilter) {
  const Dataset d = sample();
  Dataset other = sample();
  other.id = "OTHER";
  auto names = [](const std::string& xml) {
    pugi::xml_document doc;
    EXPECT_TRUE(doc.load_string(xml.c_str()));
    std::vector<std::string> out;
    for (auto group : doc.child("mes:Structure").child("mes:Structures").children()) {
      for (auto a : group.children())
        out.push_back(std::string(a.name()) + "=" + a.attribute("id").value());
    }
    return out;
  };
  EXPECT_EQ(names(write_structure_xml({&d}, StructureKind::dataflow, false, kPrepared)),
            (std::vector<std::string>{"str:Dataflow=B204_1_COUNTY_MONTHLY"}));
  EXPECT_EQ(names(write_structure_xml({&d}, StructureKind::dataflow, true, kPrepared)),
            (std::vector<std::string>{"str:Dataflow=B204_1_COUNTY_MONTHLY",
                                      "str:DataStructure=DSD_B204_1_COUNTY_MONTHLY"}));
  EXPECT_EQ(
      names(write_structure_xml({&d, &other}, StructureKind::dataflow, false, kPrepared, "OTHER")),
      (std::vector<std::string>{"str:Dataflow=OTHER"}));
  EXPECT_EQ(names(write_structure_xml({&d}, StructureKind::datastructure, false, kPrepared)),
            (std::vector<std::string>{"str:DataStructure=DSD_B204_1_COUNTY_MONTHLY"}));
  EXPECT_EQ(names(write_structure_xml({&d}, StructureKind::codelist, false, kPrepared)),
            (std::vector<std::string>{"str:Codelist=CL_REGION_B204_1_COUNTY_MONTHLY",
                                      "str:Codelist=CL_INDICATOR_B204_1_COUNTY_MONTHLY",
                                      "str:Codelist=CL_OBS_STATUS", "str:Codelist=CL_OBS_CONF"}));
  // Two datasets of one agency share the attribute codelists once.
  EXPECT_EQ(
      names(write_structure_xml({&d, &other}, StructureKind::codelist, false, kPrepared)).size(),
      6u);
  EXPECT_EQ(names(write_structure_xml({&d, &other}, StructureKind::codelist, false, kPrepared,
                                      "CL_REGION_OTHER")),
            (std::vector<std::string>{"str:Codelist=CL_REGION_OTHER"}));
  EXPECT_TRUE(names(write_structure_xml({&d}, StructureKind::codelist, false, kPrepared, "CL_NOPE"))
                  .empty());
  EXPECT_EQ(codelist_ids(d), (std::vector<std::string>{"CL_REGION_B204_1_COUNTY_MONTHLY",
                                                       "CL_INDICATOR_B204_1_COUNTY_MONTHLY",
                                                       "CL_OBS_STATUS", "CL_OBS_CONF"}));
  // The dataflow points at its DSD.
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(
      write_structure_xml({&d}, StructureKind::dataflow, false, kPrepared).c_str()));
  const auto ref = doc.select_node("//str:Dataflow/str:Structure/Ref").node();
  EXPECT_STREQ(ref.attribute("id").value(), "DSD_B204_1_COUNTY_MONTHLY");
  EXPECT_STREQ(ref.attribute("agencyID").value(), "CN_430200");
  EXPECT_STREQ(doc.select_node("//str:Dataflow/com:Name[@xml:lang='en']").node().child_value(),
               d.title_en.c_str());
}

TEST(Structure, JsonMirrorsTheXml) {
  const Dataset d = sample();
  const json m =
      json::parse(write_structure_json({&d}, StructureKind::datastructure, true, kPrepared));
  check_meta(m);
  const json& data = m["data"];
  ASSERT_EQ(data["dataStructures"].size(), 1u);
  const json& comps = data["dataStructures"][0]["dataStructureComponents"];
  EXPECT_EQ(comps["dimensionList"]["dimensions"].size(), 2u);
  EXPECT_EQ(comps["dimensionList"]["timeDimensions"][0]["id"], "TIME_PERIOD");
  EXPECT_EQ(comps["measureList"]["primaryMeasure"]["id"], "OBS_VALUE");
  EXPECT_EQ(comps["attributeList"]["attributes"][1]["id"], "OBS_CONF");
  ASSERT_EQ(data["codelists"].size(), 4u);
  const json& region = data["codelists"][0];
  EXPECT_EQ(region["id"], "CL_REGION_B204_1_COUNTY_MONTHLY");
  ASSERT_EQ(region["codes"].size(), 3u);
  EXPECT_EQ(region["codes"][1]["names"]["en"], "Hetang District");
  EXPECT_EQ(region["codes"][1]["names"]["zh"], "荷塘区");
  EXPECT_EQ(region["codes"][1]["parent"], "430200");
  EXPECT_EQ(data["conceptSchemes"][0]["concepts"].size(), 6u);
  const json flows =
      json::parse(write_structure_json({&d}, StructureKind::dataflow, false, kPrepared));
  EXPECT_EQ(flows["data"]["dataflows"][0]["structure"],
            "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=CN_430200:DSD_B204_1_COUNTY_"
            "MONTHLY(1.0)");
  EXPECT_FALSE(flows["data"].contains("dataStructures"));
}

// Random keys, parameters and Accept headers: never a crash, only BAD_QUERY / NOT_ACCEPTABLE,
// and whatever parses selects in-range, ascending indexes that every writer can render.
TEST(DataQuery, RandomInputIsHandled) {
  const Dataset d = sample();
  std::mt19937 rng(20261126);
  const std::string alphabet = "0123456789.+-_$@QWMSDAall I01430202;/,*=\"\x01\xE4";
  auto random_text = [&](std::size_t max_len) {
    std::string s;
    const std::size_t n = rng() % (max_len + 1);
    for (std::size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
    return s;
  };
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    Params p;
    if (rng() % 2) p["startPeriod"] = random_text(10);
    if (rng() % 2) p["endPeriod"] = random_text(10);
    if (rng() % 4 == 0) p["detail"] = random_text(8);
    const std::string key = rng() % 3 == 0 ? "430202+430200." + random_text(6) : random_text(16);
    auto q = parse_data_query(d, key, p);
    if (!q.ok()) {
      EXPECT_EQ(q.error().code, "BAD_QUERY") << key;
      continue;
    }
    ++parsed;
    const V s = select(d, *q);
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
    for (std::size_t x : s) EXPECT_LT(x, d.observations.size());
    EXPECT_FALSE(write_sdmx_json_data(d, s, *q, kPrepared, "zh").empty());
    EXPECT_FALSE(write_sdmx_ml_generic(d, s, *q, kPrepared).empty());
  }
  EXPECT_GT(parsed, 100);
  for (int i = 0; i < 3000; ++i) {
    const std::string accept = random_text(40) + (rng() % 2 ? ";q=0." + random_text(3) : "");
    auto r = negotiate_data(accept);
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, "NOT_ACCEPTABLE") << accept;
    }
    auto s = negotiate_structure(accept);
    if (!s.ok()) {
      EXPECT_EQ(s.error().code, "NOT_ACCEPTABLE") << accept;
    }
  }
}

TEST(FormatDouble, ShortestRoundTrip) {
  EXPECT_EQ(format_double(1234.5), "1234.5");
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(1100), "1100");
  EXPECT_EQ(format_double(-0.0), "0");
  EXPECT_EQ(format_double(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(std::stod(format_double(512.345)), 512.345);
}

}  // namespace
}  // namespace statgov::publish
