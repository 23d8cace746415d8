// The edit-rule language (审核公式, DESIGN.md section 4): compile a form's rules once, evaluate them
// against many submissions. This is the only header other modules include from rules/; lexer.hpp
// and parser.hpp are internal.
//
// Thread safety: a RuleSet is immutable after compile(). evaluate() is const, keeps all scratch
// state on its own stack and shares the compiled program through a shared_ptr<const ...>, so any
// number of threads may evaluate the same RuleSet (or copies of it) at once without locking.
// Copying a RuleSet copies the specs and shares the program.
#pragma once

#include "base/result.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace statgov::rules {

enum class Severity { error, warning };

struct RuleSpec {
  std::string name;
  Severity severity = Severity::error;
  std::string expr;
  std::string message;     // template: {expr} placeholders, {{ and }} for literal braces
  std::string message_en;  // empty = use message; both empty = a generic text naming the rule
};

// Indicator code -> value; an absent key (or a NaN value) is a missing value.
using ValueMap = std::map<std::string, double, std::less<>>;

struct PeriodInfo {
  int year = 0;
  int month = 0;    // 1..12, 0 if not monthly
  int quarter = 0;  // 1..4, 0 if annual
};

struct EvalInput {
  const ValueMap* current = nullptr;  // this submission
  const ValueMap* prev = nullptr;     // previous period of the same unit+form, nullptr = none
  const ValueMap* ly = nullptr;       // same period last year, nullptr = none
  std::map<std::string, std::string, std::less<>> unit_text;  // "industry" -> "3311", "region" -> ...
  std::map<std::string, double, std::less<>> unit_num;        // "size" -> 3 (1 大型 2 中型 3 小型 4 微型)
  PeriodInfo period;
  std::map<std::string, ValueMap, std::less<>> other_forms;  // form code ("202-1") -> values
};

enum class Outcome { passed, failed, skipped };

struct RuleResult {
  std::string name;
  Severity severity = Severity::error;
  Outcome outcome = Outcome::skipped;
  std::string message;     // rendered, only for failed rules
  std::string message_en;  // rendered, only for failed rules
  // Current-period indicator codes the rule's expression references, sorted and unique, so a UI can
  // show the message beside those fields.
  std::vector<std::string> indicators;
};

struct CompileOptions {
  double tolerance = 1e-6;  // absolute tolerance for = != < <= > >=, in and between
  // unit.<name> is a number for these attributes (looked up in EvalInput::unit_num) and a string
  // for every other name (EvalInput::unit_text).
  std::set<std::string, std::less<>> unit_numeric_attributes = {"size"};
};

namespace detail {
struct Program;
}

class RuleSet {
 public:
  // Errors: ErrorKind::invalid with code RULE_SYNTAX, RULE_UNKNOWN_INDICATOR, RULE_TYPE or
  // RULE_DUPLICATE_NAME; details holds one entry per faulty rule:
  // {"rule", "field" ("expr"|"message"|"message_en"), "code", "line", "column", "message", "message_en"}.
  static Result<RuleSet> compile(const std::vector<RuleSpec>& specs,
                                 const std::set<std::string, std::less<>>& known_indicators,
                                 CompileOptions options = {});

  // One result per rule, in spec order. only_failed: only the rules that failed (what a submit
  // keeps), without building the others' results.
  std::vector<RuleResult> evaluate(const EvalInput& input, bool only_failed = false) const;

  const std::vector<RuleSpec>& specs() const { return specs_; }
  // Form codes referenced through form("...").X, sorted and unique: the caller loads only these.
  const std::vector<std::string>& referenced_forms() const;
  // Whether any rule reads prev. / ly. values, so a caller can skip loading them.
  bool uses_prev() const;
  bool uses_ly() const;

  RuleSet() = default;  // an empty set: evaluate() returns no results

 private:
  std::vector<RuleSpec> specs_;
  std::shared_ptr<const detail::Program> program_;
};

Result<Severity> parse_severity(std::string_view text);  // "error" | "warning"
std::string_view to_string(Severity s);
std::string_view to_string(Outcome o);

// Renders a value the way messages show it: at most 2 decimals, trailing zeros trimmed.
std::string format_number(double v);

}  // namespace statgov::rules
