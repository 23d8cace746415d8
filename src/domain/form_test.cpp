#include "domain/form.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace statgov::domain {
namespace {

nlohmann::json load(const std::string& name) {
  std::ifstream in(std::string(STATGOV_SOURCE_DIR) + "/data/forms/" + name);
  return nlohmann::json::parse(in);
}

TEST(FormDef, ShippedFormsParse) {
  for (auto name : {"B204-1.json", "202-1.json"}) {
    auto f = parse_form(load(name));
    ASSERT_TRUE(f.ok()) << name << ": " << f.error().message_en;
    EXPECT_FALSE(f->rules.empty());
    auto again = parse_form(form_to_json(*f));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->indicators.size(), f->indicators.size());
  }
}

TEST(FormDef, RejectsUnknownFieldsAndBadLayout) {
  auto j = load("B204-1.json");
  j["colour"] = "red";
  auto r = parse_form(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "FORM_INVALID");
  EXPECT_NE(r.error().message_en.find("/colour"), std::string::npos);

  j = load("B204-1.json");
  j["layout"]["rows"][0]["cells"]["cur"] = "NOPE";
  EXPECT_FALSE(parse_form(j).ok());

  j = load("B204-1.json");
  j["indicators"][1]["code"] = j["indicators"][0]["code"];
  EXPECT_FALSE(parse_form(j).ok());

  EXPECT_FALSE(parse_form(nlohmann::json::array()).ok());
}

TEST(FormDef, MeansAndWeights) {
  auto j = load("B204-1.json");
  j["indicators"][1]["aggregate"] = "mean";
  j["indicators"][2]["aggregate"] = "weighted_mean";
  j["indicators"][2]["weight"] = j["indicators"][0]["code"];
  auto f = parse_form(j);
  ASSERT_TRUE(f.ok()) << f.error().message_en;
  EXPECT_EQ(f->indicators[1].aggregate, Aggregate::mean);
  EXPECT_EQ(f->indicators[2].aggregate, Aggregate::weighted_mean);
  EXPECT_EQ(f->indicators[2].weight, f->indicators[0].code);
  auto again = parse_form(form_to_json(*f));  // survives the round trip
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->indicators[2].weight, f->indicators[0].code);
  EXPECT_EQ(again->indicators[0].aggregate, Aggregate::sum);

  auto bad = [&](auto edit, const std::string& where) {
    auto k = load("B204-1.json");
    edit(k);
    auto r = parse_form(k);
    ASSERT_FALSE(r.ok()) << where;
    EXPECT_NE(r.error().message_en.find(where), std::string::npos) << r.error().message_en;
  };
  bad([](auto& k) { k["indicators"][1]["aggregate"] = "median"; }, "/indicators/1/aggregate");
  bad([](auto& k) { k["indicators"][1]["aggregate"] = "weighted_mean"; }, "/indicators/1/weight");
  bad([](auto& k) { k["indicators"][1]["weight"] = "I01"; }, "/indicators/1/weight");
  bad([](auto& k) {
        k["indicators"][1]["aggregate"] = "weighted_mean";
        k["indicators"][1]["weight"] = "NOPE";
      },
      "/indicators/1/weight");
  bad([](auto& k) {
        k["indicators"][1]["aggregate"] = "weighted_mean";
        k["indicators"][1]["weight"] = k["indicators"][1]["code"];
      },
      "/indicators/1/weight");
}

TEST(FormDef, CheckValues) {
  auto f = parse_form(load("B204-1.json")).value();
  EXPECT_TRUE(check_values(f, {{"I01", 10.5}}, false).ok());
  auto r = check_values(f, {{"I01", 10.55}, {"XX", 1}, {"I03", "abc"}, {"I04", -1}}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().details.size(), 4u);
  auto missing = check_values(f, {{"I01", 1}}, true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().details[0]["code"], "REQUIRED");
}

TEST(FormDef, Applicability) {
  auto f = parse_form(load("B204-1.json")).value();
  EXPECT_TRUE(form_applies(f, "3311", "C", 3, "x"));
  EXPECT_FALSE(form_applies(f, "5211", "F", 3, "x"));
  auto q = parse_form(load("202-1.json")).value();
  EXPECT_TRUE(form_applies(q, "5211", "F", 4, "x"));
}

}  // namespace
}  // namespace statgov::domain
