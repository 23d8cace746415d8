// libFuzzer target: the edit-rule language (src/rules). The input is split on the first '\n--\n'
// (absent: the whole input is the expression): the first part is a rule expression, the second a
// message template. Both are compiled against a fixed indicator set as one rule, and the input is
// also tried as a message template alone (with a trivially true expression) and as the expression
// of a warning rule. Whatever compiles is evaluated on value maps holding ordinary numbers, zero,
// NaN, infinities and missing values, with and without prev./ly./form() data.
// Invariants: no crash, no sanitizer report, no hang (libFuzzer -timeout), and every result names
// a compiled rule, failed rules carry a message.
#include "rules/rule_set.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using statgov::rules::EvalInput;
using statgov::rules::Outcome;
using statgov::rules::RuleSet;
using statgov::rules::RuleSpec;
using statgov::rules::Severity;
using statgov::rules::ValueMap;

const std::set<std::string, std::less<>>& known() {
  static const std::set<std::string, std::less<>> k = {"I01", "I01_YTD", "I03", "I03_YTD", "I04",
                                                        "I04_YTD", "I05", "I05_YTD", "E01", "E02"};
  return k;
}

std::vector<ValueMap> value_maps() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  return {
      {},                                                           // everything missing
      {{"I01", 100}, {"I01_YTD", 1100}, {"I03", 90}, {"I03_YTD", 990}, {"I04", 10}, {"I05", 3}},
      {{"I01", 0}, {"I01_YTD", 0}, {"I03", 0}, {"I03_YTD", 0}, {"I04", 0}, {"I05", 0}},  // zero divisors
      {{"I01", nan}, {"I03", nan}, {"I04", 1}},                     // NaN = missing
      {{"I01", inf}, {"I03", -inf}, {"I04", 1e308}, {"I05", -1e308}, {"E01", 5e-324}},
      {{"I01", -1}, {"I03", 2.5}, {"E01", 7}, {"E02", 3}},
  };
}

void run(const std::vector<RuleSpec>& specs) {
  auto rs = RuleSet::compile(specs, known());
  if (!rs.ok()) return;
  static const std::vector<ValueMap> maps = value_maps();
  for (std::size_t i = 0; i < maps.size(); ++i) {
    EvalInput in;
    in.current = &maps[i];
    if (i % 2 == 1) {
      in.prev = &maps[(i + 1) % maps.size()];
      in.ly = &maps[(i + 2) % maps.size()];
    }
    in.unit_text = {{"industry", "3311"}, {"region", "430202001000"}, {"section", "C"}};
    in.unit_num = {{"size", static_cast<double>(i % 5)}};
    in.period = {2026, static_cast<int>(i % 13), static_cast<int>(i % 5)};
    if (i % 3 == 0) in.other_forms["202-1"] = maps[(i + 3) % maps.size()];
    auto results = rs->evaluate(in);
    if (results.size() != specs.size()) std::abort();
    for (std::size_t k = 0; k < results.size(); ++k) {
      if (results[k].name != specs[k].name) std::abort();
    }
  }
  (void)rs->referenced_forms();
  (void)rs->uses_prev();
  (void)rs->uses_ly();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // real rules are a line or two; keep the search on the grammar
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string expr(input), message;
  if (auto sep = input.find("\n--\n"); sep != std::string_view::npos) {
    expr = std::string(input.substr(0, sep));
    message = std::string(input.substr(sep + 4));
  }
  run({{"r1", Severity::error, expr, message, message}});
  run({{"r1", Severity::warning, "I01 >= 0", std::string(input), ""}});
  run({{"a", Severity::error, "I01 >= I03", "{I01} {I03}", "en"}, {"b", Severity::warning, expr, "", message}});
  return 0;
}
