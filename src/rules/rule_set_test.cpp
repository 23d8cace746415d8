// API-level tests of RuleSet that do not fit the data-driven cases: error details, sharing between
// threads, bulk evaluation, and random input that must never crash the compiler.
#include "rules/rule_set.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

namespace statgov::rules {
namespace {

const std::set<std::string, std::less<>> kKnown = {"I01", "I01_YTD", "I03", "I03_YTD",
                                                   "I04", "I04_YTD", "I05", "I05_YTD"};

std::vector<RuleSpec> industrial_rules() {
  return {
      {"export_le_sales", Severity::error, "I04 <= I03", "出口交货值({I04})不应大于工业销售产值({I03})",
       "export ({I04}) must not exceed sales ({I03})"},
      {"ytd_output", Severity::error, "if period.month > 1 then I01_YTD = prev.I01_YTD + I01",
       "上月止累计+本月应等于本月止累计", ""},
      {"yoy_output", Severity::warning, "if ly.I01 > 0 then abs(I01 / ly.I01 - 1) <= 0.5",
       "工业总产值同比变动超过50%", ""},
      {"energy", Severity::warning, "form(\"202-1\").E01 <= I05", "", ""},
  };
}

TEST(RuleSet, CompileErrorCarriesEveryFaultyRule) {
  std::vector<RuleSpec> specs = {
      {"good", Severity::error, "I01 > 0", "", ""},
      {"bad1", Severity::error, "I01 >", "", ""},
      {"bad2", Severity::warning, "I77 > 0", "", ""},
  };
  auto r = RuleSet::compile(specs, kKnown);
  ASSERT_FALSE(r.ok());
  const Error& e = r.error();
  EXPECT_EQ(e.kind, ErrorKind::invalid);
  EXPECT_EQ(e.code, "RULE_SYNTAX");
  ASSERT_EQ(e.details.size(), 2U);
  EXPECT_EQ(e.details[0]["rule"], "bad1");
  EXPECT_EQ(e.details[0]["line"], 1);
  EXPECT_EQ(e.details[0]["column"], 6);
  EXPECT_EQ(e.details[1]["rule"], "bad2");
  EXPECT_EQ(e.details[1]["code"], "RULE_UNKNOWN_INDICATOR");
  EXPECT_NE(e.message.find("bad1"), std::string::npos);
  EXPECT_NE(e.message_en.find("line 1, column 6"), std::string::npos);
}

TEST(RuleSet, ReportsWhatItReads) {
  auto r = RuleSet::compile(industrial_rules(), kKnown);
  ASSERT_TRUE(r.ok()) << r.error().message_en;
  EXPECT_EQ(r->referenced_forms(), std::vector<std::string>{"202-1"});
  EXPECT_TRUE(r->uses_prev());
  EXPECT_TRUE(r->uses_ly());
  EXPECT_EQ(r->specs().size(), 4U);
  RuleSet empty;
  EXPECT_TRUE(empty.evaluate(EvalInput{}).empty());
  EXPECT_TRUE(empty.referenced_forms().empty());
}

TEST(RuleSet, NullCurrentMapSkipsRulesThatReadIt) {
  auto r = RuleSet::compile({{"r", Severity::error, "I01 > 0", "", ""}, {"k", Severity::error, "1 < 2", "", ""}},
                            kKnown);
  ASSERT_TRUE(r.ok());
  auto res = r->evaluate(EvalInput{});
  ASSERT_EQ(res.size(), 2U);
  EXPECT_EQ(res[0].outcome, Outcome::skipped);
  EXPECT_EQ(res[1].outcome, Outcome::passed);
}

// What a submit asks for: only the failed rules, the same results in the same order as among all.
TEST(RuleSet, OnlyFailedGivesTheFailedResultsOfAllInOrder) {
  auto r = RuleSet::compile(industrial_rules(), kKnown);
  ASSERT_TRUE(r.ok()) << r.error().message_en;
  ValueMap cur = {{"I01", 10}, {"I01_YTD", 50}, {"I03", 5}, {"I04", 9}, {"I05", 1}};
  ValueMap prev = {{"I01_YTD", 30}};
  ValueMap ly = {{"I01", 4}};
  EvalInput in;
  in.current = &cur;
  in.prev = &prev;
  in.ly = &ly;
  in.period = {2026, 3, 1};
  in.other_forms["202-1"] = {{"E01", 0.5}};
  const auto all = r->evaluate(in);
  ASSERT_EQ(all.size(), 4U);
  // export 9 > sales 5 fails; 30 + 10 != 50 fails; 10 / 4 - 1 > 0.5 fails; 0.5 <= 1 passes.
  EXPECT_EQ(all[3].outcome, Outcome::passed);
  const auto failed = r->evaluate(in, true);
  std::vector<const RuleResult*> expected;
  for (const auto& res : all) {
    if (res.outcome == Outcome::failed) expected.push_back(&res);
  }
  ASSERT_EQ(failed.size(), 3U);
  ASSERT_EQ(failed.size(), expected.size());
  for (std::size_t i = 0; i < failed.size(); ++i) {
    EXPECT_EQ(failed[i].name, expected[i]->name);
    EXPECT_EQ(failed[i].outcome, Outcome::failed);
    EXPECT_EQ(failed[i].severity, expected[i]->severity);
    EXPECT_EQ(failed[i].message, expected[i]->message);
    EXPECT_EQ(failed[i].message_en, expected[i]->message_en);
    EXPECT_EQ(failed[i].indicators, expected[i]->indicators);
  }
  EXPECT_EQ(failed[0].message, "出口交货值(9)不应大于工业销售产值(5)");
  // Nothing failed: nothing at all.
  cur = {{"I01", 10}, {"I01_YTD", 40}, {"I03", 9}, {"I04", 5}, {"I05", 1}};
  ly = {{"I01", 9}};
  EXPECT_TRUE(r->evaluate(in, true).empty());
  EXPECT_EQ(r->evaluate(in).size(), 4U);
}

TEST(RuleSet, ParseSeverity) {
  EXPECT_EQ(*parse_severity("error"), Severity::error);
  EXPECT_EQ(*parse_severity("warning"), Severity::warning);
  EXPECT_FALSE(parse_severity("fatal").ok());
}

TEST(RuleSet, FormatNumber) {
  EXPECT_EQ(format_number(123.4), "123.4");
  EXPECT_EQ(format_number(100), "100");
  EXPECT_EQ(format_number(2.0 / 3.0), "0.67");
  EXPECT_EQ(format_number(-0.001), "0");
  EXPECT_EQ(format_number(-5.5), "-5.5");
}

ValueMap unit_values(int i) {
  double out = 1000 + i % 97;
  return {{"I01", out},         {"I01_YTD", out * 3},   {"I03", out * 0.9}, {"I03_YTD", out * 2.7},
          {"I04", (i % 10 == 0) ? out : out * 0.1}, {"I05", 50}};
}

// Many threads evaluating one RuleSet (and copies of it) must agree with a single-threaded run.
TEST(RuleSet, ConcurrentEvaluationMatchesSerial) {
  auto compiled = RuleSet::compile(industrial_rules(), kKnown);
  ASSERT_TRUE(compiled.ok());
  const RuleSet& rules = *compiled;
  constexpr int kUnits = 400;
  std::vector<ValueMap> cur(kUnits);
  std::vector<ValueMap> prev(kUnits);
  for (int i = 0; i < kUnits; ++i) {
    cur[i] = unit_values(i);
    prev[i] = {{"I01_YTD", cur[i]["I01"] * 2}};
  }
  auto input_for = [&](int i) {
    EvalInput in;
    in.current = &cur[i];
    in.prev = &prev[i];
    in.period = PeriodInfo{2024, 3, 1};
    return in;
  };
  std::vector<std::vector<RuleResult>> serial(kUnits);
  for (int i = 0; i < kUnits; ++i) serial[i] = rules.evaluate(input_for(i));

  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      RuleSet copy = rules;  // half the threads use a copy sharing the program
      const RuleSet& use = t % 2 == 0 ? rules : copy;
      for (int rep = 0; rep < 5; ++rep) {
        for (int i = 0; i < kUnits; ++i) {
          auto res = use.evaluate(input_for(i));
          for (std::size_t k = 0; k < res.size(); ++k) {
            if (res[k].outcome != serial[i][k].outcome || res[k].message != serial[i][k].message) ++mismatches[t];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
  EXPECT_EQ(serial[10][0].outcome, Outcome::failed);
  EXPECT_EQ(serial[11][0].outcome, Outcome::passed);
}

// Not a benchmark with a bound (that would be flaky); records the rate for a human to read.
TEST(RuleSet, BulkEvaluationOverTenThousandUnits) {
  auto compiled = RuleSet::compile(industrial_rules(), kKnown);
  ASSERT_TRUE(compiled.ok());
  constexpr int kUnits = 10000;
  std::vector<ValueMap> cur(kUnits);
  for (int i = 0; i < kUnits; ++i) cur[i] = unit_values(i);
  auto start = std::chrono::steady_clock::now();
  int failed = 0;
  for (int i = 0; i < kUnits; ++i) {
    EvalInput in;
    in.current = &cur[i];
    in.period = PeriodInfo{2024, 3, 1};
    for (const auto& r : compiled->evaluate(in)) failed += r.outcome == Outcome::failed ? 1 : 0;
  }
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("microseconds_for_10000_units", static_cast<int>(us));
  EXPECT_EQ(failed, kUnits / 10);
}

// Random token soup must yield ok or an error, never a crash (run this under ASan/UBSan).
TEST(RuleSet, RandomInputNeverCrashes) {
  const std::vector<std::string> pieces = {
      "I01", "prev.", "ly.", "unit.", "period.", "form(\"202-1\").", "I03", "size", "industry", "month",
      "(", ")", ",", "+", "-", "*", "/", "=", "!=", "<>", "<", "<=", ">", ">=", " and ", " or ", " not ",
      " if ", " then ", " in ", "abs(", "min(", "max(", "sum(", "round(", "between(", "isnull(",
      "coalesce(", "startswith(", "0", "1", "2.5", "1e308", "\"33\"", "\"", "\n", " ", "{", "}", "中", "."};
  std::mt19937 rng(12345);
  ValueMap cur = {{"I01", 5}, {"I03", 0}};
  EvalInput in;
  in.current = &cur;
  in.prev = &cur;
  in.unit_text = {{"industry", "3311"}};
  in.unit_num = {{"size", 3}};
  int compiled_ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string expr;
    std::string msg;
    int n = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) expr += pieces[rng() % pieces.size()];
    for (int k = 0; k < 3; ++k) msg += pieces[rng() % pieces.size()];
    auto r = RuleSet::compile({{"r", Severity::error, expr, msg, ""}}, kKnown);
    if (r.ok()) {
      ++compiled_ok;
      auto res = r->evaluate(in);
      EXPECT_EQ(res.size(), 1U);
    } else {
      EXPECT_FALSE(r.error().details.empty());
    }
  }
  RecordProperty("compiled_ok", compiled_ok);
}

// Random well-formed expressions: exercises the evaluator (division by zero, missing values,
// huge numbers) rather than the parser's error paths.
std::string random_num(std::mt19937& rng, int depth);
std::string random_bool(std::mt19937& rng, int depth) {
  const char* cmp[] = {" = ", " != ", " < ", " <= ", " > ", " >= "};
  switch (depth <= 0 ? 0 : rng() % 7) {
    case 0: return random_num(rng, depth - 1) + cmp[rng() % 6] + random_num(rng, depth - 1);
    case 1: return "(" + random_bool(rng, depth - 1) + " and " + random_bool(rng, depth - 1) + ")";
    case 2: return "(" + random_bool(rng, depth - 1) + " or " + random_bool(rng, depth - 1) + ")";
    case 3: return "not " + random_bool(rng, depth - 1);
    case 4: return "(if " + random_bool(rng, depth - 1) + " then " + random_bool(rng, depth - 1) + ")";
    case 5: return "between(" + random_num(rng, depth - 1) + ", " + random_num(rng, depth - 1) + ", " +
                   random_num(rng, depth - 1) + ")";
    default: return "isnull(" + random_num(rng, depth - 1) + ")";
  }
}
std::string random_num(std::mt19937& rng, int depth) {
  const char* leaves[] = {"I01", "I03", "I05", "prev.I01", "ly.I01", "unit.size", "period.month",
                          "form(\"202-1\").E01", "0", "1e308", "-2.5"};
  const char* ops[] = {" + ", " - ", " * ", " / "};
  switch (depth <= 0 ? 0 : rng() % 6) {
    case 0: return leaves[rng() % 11];
    case 1: return "(" + random_num(rng, depth - 1) + ops[rng() % 4] + random_num(rng, depth - 1) + ")";
    case 2: return "-" + random_num(rng, depth - 1);
    case 3: return "coalesce(" + random_num(rng, depth - 1) + ", " + random_num(rng, depth - 1) + ")";
    case 4: return "round(" + random_num(rng, depth - 1) + ", " + random_num(rng, depth - 1) + ")";
    default: return std::string(rng() % 2 ? "min(" : "abs(") + random_num(rng, depth - 1) + ")";
  }
}

TEST(RuleSet, RandomWellFormedRulesEvaluate) {
  std::mt19937 rng(777);
  ValueMap cur = {{"I01", 5}, {"I03", 0}};
  ValueMap prev = {{"I01", 0}};
  EvalInput in;
  in.current = &cur;
  in.prev = &prev;
  in.unit_num = {{"size", 3}};
  in.other_forms["202-1"] = {{"E01", 1e308}};
  for (int i = 0; i < 3000; ++i) {
    std::string expr = random_bool(rng, 5);
    std::string msg = "{" + random_num(rng, 3) + "}";
    auto r = RuleSet::compile({{"r", Severity::error, expr, msg, ""}}, kKnown);
    ASSERT_TRUE(r.ok()) << expr << " / " << msg << ": " << r.error().message_en;
    auto res = r->evaluate(in);
    ASSERT_EQ(res.size(), 1U);
  }
}

}  // namespace
}  // namespace statgov::rules
