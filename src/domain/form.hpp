// Form definitions (制度设计): indicators, grid layout, edit rules, frequency, deadline and
// which units must report. Parsed from the form definition JSON (docs/form-definition.md).
#pragma once

#include "base/result.hpp"
#include "domain/period.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace statgov::domain {

enum class IndicatorType { number, integer, text };
// How a summary line aggregates an indicator over its units: the sum (default), the plain mean of
// the units that reported it, or the mean weighted by another indicator (sum of x*w over sum of w,
// both over the units that reported x and w).
enum class Aggregate { sum, mean, weighted_mean };

struct Indicator {
  std::string code;
  std::string name;
  std::string name_en;
  std::string unit;  // unit of measure, e.g. 千元
  IndicatorType type = IndicatorType::number;
  int decimals = 0;
  bool required = false;
  std::optional<double> min;
  std::optional<double> max;
  Aggregate aggregate = Aggregate::sum;
  std::string weight;  // weighted_mean: the code of the numeric indicator that weights it
};

struct RuleDef {
  std::string name;
  std::string severity;  // "error" | "warning"; checked when the rules are compiled
  std::string expr;
  std::string message;
  std::string message_en;
};

// Which units owe the form. Empty lists mean "no restriction" on that attribute.
struct Applicability {
  std::vector<std::string> industry_prefixes;  // GB/T 4754 section letters or code prefixes
  std::vector<int> sizes;                      // 1..4
  std::vector<std::string> units;              // USCCs listed explicitly (in addition)
};

struct FormDef {
  std::string code;
  int version = 1;
  std::string name;
  std::string name_en;
  Frequency frequency = Frequency::month;
  int deadline_day = 5;
  int deadline_hour = 18;
  double tolerance = 0.5;  // absolute rounding tolerance for rule comparisons
  std::vector<Indicator> indicators;
  nlohmann::json layout;  // {"columns":[...],"rows":[...]}, validated against indicators
  std::vector<RuleDef> rules;
  Applicability applies_to;

  const Indicator* find(std::string_view code) const;
};

// Strict: unknown keys, wrong types, duplicate codes, layout cells naming unknown indicators are
// errors with code FORM_INVALID and a JSON pointer in details.
Result<FormDef> parse_form(const nlohmann::json& j);
nlohmann::json form_to_json(const FormDef& f);

// True if a unit with this industry (4-digit) and size owes the form.
bool form_applies(const FormDef& f, std::string_view industry_code, std::string_view industry_section,
                  int size, std::string_view uscc);

// Checks a submitted value map: unknown indicator codes, types, decimals, min/max, required
// (required only when `complete` is true, i.e. on submit). Errors carry one detail per problem.
Status check_values(const FormDef& f, const nlohmann::json& values, bool complete);

}  // namespace statgov::domain
