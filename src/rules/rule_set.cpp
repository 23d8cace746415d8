// Compiler and evaluator for the edit-rule language.
//
// compile(): parse each rule (and each {placeholder} of its messages), check names and types, and
// lower the tree into a flat node vector per rule whose references point at numbered slots.
// evaluate(): look every slot up once in the input maps (the only string work per submission),
// then run each rule over the flat nodes. Nothing here mutates the program after compile().
#include "rules/rule_set.hpp"

#include "rules/parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace statgov::rules {

namespace detail {

enum class Type { number, boolean, string };

enum class Fn { none, abs, min, max, sum, round, between, isnull, coalesce, startswith };

enum class SlotSource { current, prev, ly, unit_num, unit_text, period_year, period_month, period_quarter, form };

struct Slot {
  SlotSource source = SlotSource::current;
  std::string key;
  std::string form;
};

struct Node {
  Op op = Op::number;
  Fn fn = Fn::none;
  Type type = Type::number;
  int index = -1;  // slot for references, string pool entry for string literals
  double number = 0;
  std::uint32_t arg_begin = 0;
  std::uint32_t arg_count = 0;
};

struct TemplatePart {
  std::string literal;
  int root = -1;  // node index of a placeholder, -1 for pure literal text
};

struct CompiledRule {
  std::vector<Node> nodes;
  std::vector<std::uint32_t> args;
  std::vector<std::string> strings;
  int root = -1;
  // Slots read outside isnull()/coalesce(): if any is missing the rule is skipped.
  std::vector<int> required;
  std::vector<TemplatePart> message;
  std::vector<TemplatePart> message_en;  // empty when the spec's message_en is empty
  bool has_message_en = false;
  std::vector<std::string> indicators;
};

struct Program {
  std::vector<Slot> slots;
  std::vector<CompiledRule> rules;
  std::vector<std::string> forms;
  double tolerance = 1e-6;
  bool uses_prev = false;
  bool uses_ly = false;
};

}  // namespace detail

namespace {

using detail::CompiledRule;
using detail::Fn;
using detail::Node;
using detail::Program;
using detail::Slot;
using detail::SlotSource;
using detail::TemplatePart;
using detail::Type;

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

std::string_view type_en(Type t) {
  switch (t) {
    case Type::number: return "number";
    case Type::boolean: return "condition";
    case Type::string: return "text";
  }
  return "value";
}
std::string_view type_zh(Type t) {
  switch (t) {
    case Type::number: return "数值";
    case Type::boolean: return "条件";
    case Type::string: return "文本";
  }
  return "值";
}

void leftmost(const Ast& a, int& line, int& column) {
  if (a.line < line || (a.line == line && a.column < column)) {
    line = a.line;
    column = a.column;
  }
  for (const auto& c : a.children) leftmost(*c, line, column);
}

Diagnostic diag_at(const Ast& a, std::string code, std::string zh, std::string en) {
  int line = a.line;
  int column = a.column;
  leftmost(a, line, column);
  return Diagnostic{std::move(code), std::move(zh), std::move(en), line, column};
}

struct FnInfo {
  std::string_view name;
  Fn fn;
  std::size_t min_args;
  std::size_t max_args;
};

constexpr std::size_t kMany = 1000;
constexpr FnInfo kFunctions[] = {
    {"abs", Fn::abs, 1, 1},           {"min", Fn::min, 1, kMany},        {"max", Fn::max, 1, kMany},
    {"sum", Fn::sum, 1, kMany},       {"round", Fn::round, 1, 2},        {"between", Fn::between, 3, 3},
    {"isnull", Fn::isnull, 1, 1},     {"coalesce", Fn::coalesce, 1, kMany},
    {"startswith", Fn::startswith, 2, 2},
};

class Compiler {
 public:
  Compiler(const std::set<std::string, std::less<>>& known, const CompileOptions& options, Program& program,
           std::map<std::string, int, std::less<>>& slot_ids)
      : known_(known), options_(options), program_(program), slot_ids_(slot_ids) {}

  // Lowers `ast` into `rule`; returns the node index or -1 with diag_ set.
  int emit(const Ast& a, CompiledRule& rule, bool exempt, bool in_template) {
    Node n;
    n.op = a.op;
    std::vector<std::uint32_t> kids;
    switch (a.op) {
      case Op::number:
        n.type = Type::number;
        n.number = a.number;
        break;
      case Op::string:
        n.type = Type::string;
        n.index = static_cast<int>(rule.strings.size());
        rule.strings.push_back(a.name);
        break;
      case Op::ref_current:
      case Op::ref_prev:
      case Op::ref_ly: {
        if (known_.find(a.name) == known_.end()) {
          diag_ = diag_at(a, "RULE_UNKNOWN_INDICATOR", "未知的指标代码“" + a.name + "”",
                          "unknown indicator code '" + a.name + "'");
          return -1;
        }
        SlotSource src = a.op == Op::ref_current ? SlotSource::current
                         : a.op == Op::ref_prev  ? SlotSource::prev
                                                 : SlotSource::ly;
        if (src == SlotSource::prev) program_.uses_prev = true;
        if (src == SlotSource::ly) program_.uses_ly = true;
        n.type = Type::number;
        n.index = slot(src, a.name, "");
        if (src == SlotSource::current && !in_template) rule.indicators.push_back(a.name);
        break;
      }
      case Op::ref_unit: {
        bool numeric = options_.unit_numeric_attributes.count(a.name) > 0;
        n.type = numeric ? Type::number : Type::string;
        n.index = slot(numeric ? SlotSource::unit_num : SlotSource::unit_text, a.name, "");
        break;
      }
      case Op::ref_period: {
        SlotSource src;
        if (equals_keyword(a.name, "year")) src = SlotSource::period_year;
        else if (equals_keyword(a.name, "month")) src = SlotSource::period_month;
        else if (equals_keyword(a.name, "quarter")) src = SlotSource::period_quarter;
        else {
          diag_ = diag_at(a, "RULE_UNKNOWN_INDICATOR", "未知的报告期属性“" + a.name + "”（可用 year、month、quarter）",
                          "unknown period attribute '" + a.name + "' (use year, month or quarter)");
          return -1;
        }
        n.type = Type::number;
        n.index = slot(src, "", "");
        break;
      }
      case Op::ref_form: {
        n.type = Type::number;
        n.index = slot(SlotSource::form, a.name, a.qualifier);
        if (std::find(program_.forms.begin(), program_.forms.end(), a.qualifier) == program_.forms.end()) {
          program_.forms.push_back(a.qualifier);
        }
        break;
      }
      case Op::neg:
      case Op::add:
      case Op::sub:
      case Op::mul:
      case Op::div:
        if (!emit_children(a, rule, exempt, in_template, kids)) return -1;
        for (std::size_t i = 0; i < kids.size(); ++i) {
          if (!expect_type(*a.children[i], rule.nodes[kids[i]].type, Type::number)) return -1;
        }
        n.type = Type::number;
        break;
      case Op::eq:
      case Op::ne:
      case Op::lt:
      case Op::le:
      case Op::gt:
      case Op::ge: {
        if (!emit_children(a, rule, exempt, in_template, kids)) return -1;
        Type l = rule.nodes[kids[0]].type;
        Type r = rule.nodes[kids[1]].type;
        bool ordering = a.op != Op::eq && a.op != Op::ne;
        if (l == Type::boolean || r == Type::boolean || l != r || (ordering && l == Type::string)) {
          diag_ = Diagnostic{"RULE_TYPE",
                             "无法比较" + std::string(type_zh(l)) + "与" + std::string(type_zh(r)) +
                                 (ordering && l == r ? "的大小" : ""),
                             "cannot compare " + std::string(type_en(l)) + " with " + std::string(type_en(r)) +
                                 (ordering && l == r ? " by order" : ""),
                             a.line, a.column};
          return -1;
        }
        n.type = Type::boolean;
        break;
      }
      case Op::logical_and:
      case Op::logical_or:
      case Op::logical_not:
      case Op::implies:
        if (!emit_children(a, rule, exempt, in_template, kids)) return -1;
        for (std::size_t i = 0; i < kids.size(); ++i) {
          if (!expect_type(*a.children[i], rule.nodes[kids[i]].type, Type::boolean)) return -1;
        }
        n.type = Type::boolean;
        break;
      case Op::in:
      case Op::not_in: {
        if (!emit_children(a, rule, exempt, in_template, kids)) return -1;
        Type t = rule.nodes[kids[0]].type;
        if (t == Type::boolean) {
          diag_ = diag_at(*a.children[0], "RULE_TYPE", "in 左侧应为数值或文本", "the left side of 'in' must be a number or text");
          return -1;
        }
        for (std::size_t i = 1; i < kids.size(); ++i) {
          if (!expect_type(*a.children[i], rule.nodes[kids[i]].type, t)) return -1;
        }
        n.type = Type::boolean;
        break;
      }
      case Op::call:
        if (!emit_call(a, rule, exempt, in_template, n, kids)) return -1;
        break;
    }
    n.arg_begin = static_cast<std::uint32_t>(rule.args.size());
    n.arg_count = static_cast<std::uint32_t>(kids.size());
    rule.args.insert(rule.args.end(), kids.begin(), kids.end());
    if (n.index >= 0 && !exempt && !in_template && is_reference(a.op)) rule.required.push_back(n.index);
    rule.nodes.push_back(n);
    return static_cast<int>(rule.nodes.size() - 1);
  }

  const Diagnostic& diag() const { return diag_; }

 private:
  static bool is_reference(Op op) {
    return op == Op::ref_current || op == Op::ref_prev || op == Op::ref_ly || op == Op::ref_unit ||
           op == Op::ref_form;  // period.* is always present
  }

  int slot(SlotSource src, const std::string& key, const std::string& form) {
    std::string id = std::to_string(static_cast<int>(src)) + '\x1f' + form + '\x1f' + key;
    auto it = slot_ids_.find(id);
    if (it != slot_ids_.end()) return it->second;
    int index = static_cast<int>(program_.slots.size());
    program_.slots.push_back(Slot{src, key, form});
    slot_ids_.emplace(std::move(id), index);
    return index;
  }

  bool emit_children(const Ast& a, CompiledRule& rule, bool exempt, bool in_template,
                     std::vector<std::uint32_t>& kids) {
    for (const auto& c : a.children) {
      int k = emit(*c, rule, exempt, in_template);
      if (k < 0) return false;
      kids.push_back(static_cast<std::uint32_t>(k));
    }
    return true;
  }

  bool expect_type(const Ast& a, Type got, Type want) {
    if (got == want) return true;
    diag_ = diag_at(a, "RULE_TYPE", "此处应为" + std::string(type_zh(want)) + "，实际为" + std::string(type_zh(got)),
                    "expected a " + std::string(type_en(want)) + " here but found a " + std::string(type_en(got)));
    return false;
  }

  bool emit_call(const Ast& a, CompiledRule& rule, bool exempt, bool in_template, Node& n,
                 std::vector<std::uint32_t>& kids) {
    const FnInfo* info = nullptr;
    for (const auto& f : kFunctions) {
      if (f.name == a.name) info = &f;
    }
    if (info == nullptr) {
      diag_ = Diagnostic{"RULE_SYNTAX", "未知的函数“" + a.name + "”", "unknown function '" + a.name + "'", a.line,
                         a.column};
      return false;
    }
    std::size_t argc = a.children.size();
    if (argc < info->min_args || argc > info->max_args) {
      std::string want = info->min_args == info->max_args ? std::to_string(info->min_args)
                         : info->max_args == kMany
                             ? std::to_string(info->min_args) + "+"
                             : std::to_string(info->min_args) + "-" + std::to_string(info->max_args);
      std::string want_zh = info->min_args == info->max_args ? std::to_string(info->min_args)
                            : info->max_args == kMany
                                ? "至少" + std::to_string(info->min_args)
                                : std::to_string(info->min_args) + "至" + std::to_string(info->max_args);
      diag_ = Diagnostic{"RULE_SYNTAX",
                         "函数" + a.name + "需要" + want_zh + "个参数，实际为" + std::to_string(argc) + "个",
                         "function " + a.name + " takes " + want + " argument(s), got " + std::to_string(argc),
                         a.line, a.column};
      return false;
    }
    n.fn = info->fn;
    // References inside isnull()/coalesce() test for missing explicitly, so they never skip a rule.
    bool child_exempt = exempt || info->fn == Fn::isnull || info->fn == Fn::coalesce;
    if (!emit_children(a, rule, child_exempt, in_template, kids)) return false;
    auto all = [&](Type want) {
      for (std::size_t i = 0; i < kids.size(); ++i) {
        if (!expect_type(*a.children[i], rule.nodes[kids[i]].type, want)) return false;
      }
      return true;
    };
    switch (info->fn) {
      case Fn::abs:
      case Fn::min:
      case Fn::max:
      case Fn::sum:
      case Fn::round:
        n.type = Type::number;
        return all(Type::number);
      case Fn::between:
        n.type = Type::boolean;
        return all(Type::number);
      case Fn::startswith:
        n.type = Type::boolean;
        return all(Type::string);
      case Fn::isnull:
        n.type = Type::boolean;
        if (rule.nodes[kids[0]].type == Type::boolean) {
          diag_ = diag_at(*a.children[0], "RULE_TYPE", "isnull 的参数应为数值或文本",
                          "isnull takes a number or text");
          return false;
        }
        return true;
      case Fn::coalesce: {
        Type t = rule.nodes[kids[0]].type;
        if (t == Type::boolean) {
          diag_ = diag_at(*a.children[0], "RULE_TYPE", "coalesce 的参数应为数值或文本",
                          "coalesce takes numbers or text");
          return false;
        }
        n.type = t;
        return all(t);
      }
      case Fn::none: break;
    }
    return false;  // unreachable: every table entry is handled above
  }

  const std::set<std::string, std::less<>>& known_;
  const CompileOptions& options_;
  Program& program_;
  std::map<std::string, int, std::less<>>& slot_ids_;
  Diagnostic diag_;
};

// Splits a message template into literal text and {expression} placeholders.
bool compile_template(const std::string& text, Compiler& compiler, CompiledRule& rule,
                      std::vector<TemplatePart>& out, Diagnostic& diag) {
  std::string literal;
  int line = 1;
  int column = 1;
  std::size_t i = 0;
  auto step = [&](std::size_t& k) {
    char c = text[k++];
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++column;
    }
  };
  while (i < text.size()) {
    char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      literal.push_back(c);
      step(i);
      step(i);
      continue;
    }
    if (c == '}') {
      diag = Diagnostic{"RULE_SYNTAX", "消息中有多余的“}”（字面量请写“}}”）", "unmatched '}' in message (write '}}' for a literal brace)",
                        line, column};
      return false;
    }
    if (c != '{') {
      literal.push_back(c);
      step(i);
      continue;
    }
    int open_line = line;
    int open_column = column;
    step(i);
    int expr_line = line;
    int expr_column = column;
    std::size_t start = i;
    bool in_string = false;
    while (i < text.size() && (in_string || text[i] != '}')) {
      if (text[i] == '"') in_string = !in_string;
      step(i);
    }
    if (i >= text.size()) {
      diag = Diagnostic{"RULE_SYNTAX", "消息中的“{”缺少对应的“}”", "unterminated '{' in message", open_line, open_column};
      return false;
    }
    std::unique_ptr<Ast> ast;
    if (!parse_text(std::string_view(text).substr(start, i - start), ast, diag, expr_line, expr_column)) return false;
    int root = compiler.emit(*ast, rule, true, true);
    if (root < 0) {
      diag = compiler.diag();
      return false;
    }
    step(i);  // the closing brace
    if (!literal.empty()) out.push_back(TemplatePart{std::move(literal), -1});
    literal.clear();
    out.push_back(TemplatePart{"", root});
  }
  if (!literal.empty()) out.push_back(TemplatePart{std::move(literal), -1});
  return true;
}

// Per-rule evaluation state. Lives on the caller's stack; flags record why a rule cannot be decided.
struct Frame {
  const CompiledRule& rule;
  const std::vector<double>& nums;
  const std::vector<const std::string*>& strs;
  double tol;
  bool division_by_zero = false;
  bool missing = false;

  const Node& node(std::uint32_t i) const { return rule.nodes[i]; }
  std::uint32_t arg(const Node& n, std::uint32_t k) const { return rule.args[n.arg_begin + k]; }

  double num(std::uint32_t i) {
    const Node& n = node(i);
    switch (n.op) {
      case Op::number: return n.number;
      case Op::ref_current:
      case Op::ref_prev:
      case Op::ref_ly:
      case Op::ref_unit:
      case Op::ref_period:
      case Op::ref_form: return nums[static_cast<std::size_t>(n.index)];
      case Op::neg: return -num(arg(n, 0));
      case Op::add: return num(arg(n, 0)) + num(arg(n, 1));
      case Op::sub: return num(arg(n, 0)) - num(arg(n, 1));
      case Op::mul: return num(arg(n, 0)) * num(arg(n, 1));
      case Op::div: {
        double l = num(arg(n, 0));
        double r = num(arg(n, 1));
        // Division by zero cannot be judged either way (a ratio rule on a unit with no base value),
        // so the rule is skipped rather than failed; the flag makes evaluate() report `skipped`.
        if (r == 0.0) {
          division_by_zero = true;
          return kMissing;
        }
        return l / r;
      }
      case Op::call: return call_num(n);
      default: break;
    }
    return kMissing;  // unreachable: the compiler only types the cases above as numbers
  }

  double call_num(const Node& n) {
    switch (n.fn) {
      case Fn::abs: return std::fabs(num(arg(n, 0)));
      case Fn::min:
      case Fn::max:
      case Fn::sum: {
        double acc = num(arg(n, 0));
        for (std::uint32_t k = 1; k < n.arg_count; ++k) {
          double v = num(arg(n, k));
          if (std::isnan(v) || std::isnan(acc)) {
            acc = kMissing;
          } else if (n.fn == Fn::sum) {
            acc += v;
          } else if (n.fn == Fn::min) {
            acc = std::min(acc, v);
          } else {
            acc = std::max(acc, v);
          }
        }
        return acc;
      }
      case Fn::round: {
        double v = num(arg(n, 0));
        if (n.arg_count == 1) return std::round(v);
        double digits = std::round(num(arg(n, 1)));
        double scale = std::pow(10.0, digits);
        return std::round(v * scale) / scale;
      }
      case Fn::coalesce:
        for (std::uint32_t k = 0; k < n.arg_count; ++k) {
          double v = num(arg(n, k));
          if (!std::isnan(v)) return v;
        }
        return kMissing;
      default: break;
    }
    return kMissing;
  }

  const std::string* str(std::uint32_t i) {
    const Node& n = node(i);
    switch (n.op) {
      case Op::string: return &rule.strings[static_cast<std::size_t>(n.index)];
      case Op::ref_unit: return strs[static_cast<std::size_t>(n.index)];
      case Op::call:
        if (n.fn == Fn::coalesce) {
          for (std::uint32_t k = 0; k < n.arg_count; ++k) {
            if (const std::string* s = str(arg(n, k))) return s;
          }
        }
        return nullptr;
      default: break;
    }
    return nullptr;
  }

  bool equal_values(std::uint32_t a, std::uint32_t b, bool& ok) {
    if (node(a).type == Type::string) {
      const std::string* l = str(a);
      const std::string* r = str(b);
      if (l == nullptr || r == nullptr) {
        ok = false;
        return false;
      }
      return *l == *r;
    }
    double l = num(a);
    double r = num(b);
    if (std::isnan(l) || std::isnan(r)) {
      ok = false;
      return false;
    }
    return std::fabs(l - r) <= tol;
  }

  bool boolean(std::uint32_t i) {
    const Node& n = node(i);
    switch (n.op) {
      case Op::logical_and: return boolean(arg(n, 0)) && boolean(arg(n, 1));
      case Op::logical_or: return boolean(arg(n, 0)) || boolean(arg(n, 1));
      case Op::logical_not: return !boolean(arg(n, 0));
      case Op::implies: return !boolean(arg(n, 0)) || boolean(arg(n, 1));
      case Op::eq:
      case Op::ne: {
        bool ok = true;
        bool eq = equal_values(arg(n, 0), arg(n, 1), ok);
        if (!ok) {
          missing = true;
          return false;
        }
        return n.op == Op::eq ? eq : !eq;
      }
      case Op::lt:
      case Op::le:
      case Op::gt:
      case Op::ge: {
        double l = num(arg(n, 0));
        double r = num(arg(n, 1));
        if (std::isnan(l) || std::isnan(r)) {
          missing = true;
          return false;
        }
        if (n.op == Op::lt) return l < r - tol;
        if (n.op == Op::le) return l <= r + tol;
        if (n.op == Op::gt) return l > r + tol;
        return l >= r - tol;
      }
      case Op::in:
      case Op::not_in: {
        bool found = false;
        for (std::uint32_t k = 1; k < n.arg_count && !found; ++k) {
          bool ok = true;
          found = equal_values(arg(n, 0), arg(n, k), ok);
          if (!ok) {
            missing = true;
            return false;
          }
        }
        return n.op == Op::in ? found : !found;
      }
      case Op::call: return call_bool(n);
      default: break;
    }
    return false;
  }

  bool call_bool(const Node& n) {
    switch (n.fn) {
      case Fn::between: {
        double x = num(arg(n, 0));
        double lo = num(arg(n, 1));
        double hi = num(arg(n, 2));
        if (std::isnan(x) || std::isnan(lo) || std::isnan(hi)) {
          missing = true;
          return false;
        }
        return x >= lo - tol && x <= hi + tol;
      }
      case Fn::isnull: {
        std::uint32_t a = arg(n, 0);
        if (node(a).type == Type::string) return str(a) == nullptr;
        return std::isnan(num(a));
      }
      case Fn::startswith: {
        const std::string* s = str(arg(n, 0));
        const std::string* p = str(arg(n, 1));
        if (s == nullptr || p == nullptr) {
          missing = true;
          return false;
        }
        return s->starts_with(*p);
      }
      default: break;
    }
    return false;
  }
};

std::string render(const std::vector<TemplatePart>& parts, Frame& frame, bool en) {
  std::string out;
  std::string_view missing = en ? "(missing)" : "空";
  for (const auto& part : parts) {
    if (part.root < 0) {
      out += part.literal;
      continue;
    }
    auto root = static_cast<std::uint32_t>(part.root);
    frame.division_by_zero = false;
    frame.missing = false;
    switch (frame.node(root).type) {
      case Type::number: {
        double v = frame.num(root);
        out += std::isnan(v) || frame.division_by_zero ? std::string(missing) : format_number(v);
        break;
      }
      case Type::string: {
        const std::string* s = frame.str(root);
        out += s == nullptr ? std::string(missing) : *s;
        break;
      }
      case Type::boolean: {
        bool b = frame.boolean(root);
        if (frame.missing || frame.division_by_zero) out += missing;
        else out += b ? (en ? "true" : "是") : (en ? "false" : "否");
        break;
      }
    }
  }
  return out;
}

Error compile_error(const std::vector<nlohmann::json>& details) {
  const auto& first = details.front();
  std::string zh = fmt::format("审核公式“{}”第{}行第{}列：{}", first["rule"].get<std::string>(), first["line"].get<int>(),
                               first["column"].get<int>(), first["message"].get<std::string>());
  std::string en = fmt::format("rule '{}' line {}, column {}: {}", first["rule"].get<std::string>(),
                               first["line"].get<int>(), first["column"].get<int>(),
                               first["message_en"].get<std::string>());
  if (details.size() > 1) {
    zh += fmt::format("（共{}处错误）", details.size());
    en += fmt::format(" ({} errors in total)", details.size());
  }
  return make_error(ErrorKind::invalid, first["code"].get<std::string>(), std::move(zh), std::move(en),
                    nlohmann::json(details));
}

nlohmann::json detail_json(const std::string& rule, std::string_view field, const Diagnostic& d) {
  return nlohmann::json{{"rule", rule},       {"field", field},           {"code", d.code},
                        {"line", d.line},     {"column", d.column},       {"message", d.message},
                        {"message_en", d.message_en}};
}

}  // namespace

Result<RuleSet> RuleSet::compile(const std::vector<RuleSpec>& specs,
                                 const std::set<std::string, std::less<>>& known_indicators,
                                 CompileOptions options) {
  auto program = std::make_shared<Program>();
  program->tolerance = options.tolerance;
  std::map<std::string, int, std::less<>> slot_ids;
  Compiler compiler(known_indicators, options, *program, slot_ids);
  std::vector<nlohmann::json> details;
  std::set<std::string, std::less<>> names;
  for (const auto& spec : specs) {
    CompiledRule rule;
    Diagnostic diag;
    if (spec.name.empty()) {
      details.push_back(detail_json(spec.name, "name", Diagnostic{"RULE_SYNTAX", "规则名称为空", "rule name is empty", 1, 1}));
      continue;
    }
    if (!names.insert(spec.name).second) {
      details.push_back(detail_json(spec.name, "name",
                                    Diagnostic{"RULE_DUPLICATE_NAME", "规则名称“" + spec.name + "”重复",
                                               "duplicate rule name '" + spec.name + "'", 1, 1}));
      continue;
    }
    std::unique_ptr<Ast> ast;
    if (!parse_text(spec.expr, ast, diag)) {
      details.push_back(detail_json(spec.name, "expr", diag));
      continue;
    }
    rule.root = compiler.emit(*ast, rule, false, false);
    if (rule.root < 0) {
      details.push_back(detail_json(spec.name, "expr", compiler.diag()));
      continue;
    }
    if (rule.nodes[static_cast<std::size_t>(rule.root)].type != Type::boolean) {
      Type t = rule.nodes[static_cast<std::size_t>(rule.root)].type;
      details.push_back(detail_json(
          spec.name, "expr",
          diag_at(*ast, "RULE_TYPE", "审核公式应为条件（比较或逻辑表达式），实际为" + std::string(type_zh(t)),
                  "a rule must be a condition (a comparison or logical expression), not a " +
                      std::string(type_en(t)))));
      continue;
    }
    if (!compile_template(spec.message, compiler, rule, rule.message, diag)) {
      details.push_back(detail_json(spec.name, "message", diag));
      continue;
    }
    rule.has_message_en = !spec.message_en.empty();
    if (rule.has_message_en && !compile_template(spec.message_en, compiler, rule, rule.message_en, diag)) {
      details.push_back(detail_json(spec.name, "message_en", diag));
      continue;
    }
    std::sort(rule.required.begin(), rule.required.end());
    rule.required.erase(std::unique(rule.required.begin(), rule.required.end()), rule.required.end());
    std::sort(rule.indicators.begin(), rule.indicators.end());
    rule.indicators.erase(std::unique(rule.indicators.begin(), rule.indicators.end()), rule.indicators.end());
    program->rules.push_back(std::move(rule));
  }
  if (!details.empty()) return compile_error(details);
  std::sort(program->forms.begin(), program->forms.end());
  RuleSet set;
  set.specs_ = specs;
  set.program_ = std::move(program);
  return set;
}

std::vector<RuleResult> RuleSet::evaluate(const EvalInput& input, bool only_failed) const {
  std::vector<RuleResult> results;
  if (!program_) return results;
  const Program& p = *program_;

  // Resolve every referenced value once per submission; rules then only index these vectors.
  std::vector<double> nums(p.slots.size(), kMissing);
  std::vector<const std::string*> strs(p.slots.size(), nullptr);
  auto from = [](const ValueMap* m, const std::string& key) {
    if (m == nullptr) return kMissing;
    auto it = m->find(key);
    return it == m->end() ? kMissing : it->second;
  };
  for (std::size_t i = 0; i < p.slots.size(); ++i) {
    const Slot& s = p.slots[i];
    switch (s.source) {
      case SlotSource::current: nums[i] = from(input.current, s.key); break;
      case SlotSource::prev: nums[i] = from(input.prev, s.key); break;
      case SlotSource::ly: nums[i] = from(input.ly, s.key); break;
      case SlotSource::unit_num: {
        auto it = input.unit_num.find(s.key);
        if (it != input.unit_num.end()) nums[i] = it->second;
        break;
      }
      case SlotSource::unit_text: {
        auto it = input.unit_text.find(s.key);
        if (it != input.unit_text.end()) strs[i] = &it->second;
        break;
      }
      case SlotSource::period_year: nums[i] = input.period.year; break;
      case SlotSource::period_month: nums[i] = input.period.month; break;
      case SlotSource::period_quarter: nums[i] = input.period.quarter; break;
      case SlotSource::form: {
        auto it = input.other_forms.find(s.form);
        if (it != input.other_forms.end()) nums[i] = from(&it->second, s.key);
        break;
      }
    }
  }
  auto present = [&](int slot) {
    auto k = static_cast<std::size_t>(slot);
    return p.slots[k].source == SlotSource::unit_text ? strs[k] != nullptr : !std::isnan(nums[k]);
  };

  if (!only_failed) results.reserve(p.rules.size());
  for (std::size_t r = 0; r < p.rules.size(); ++r) {
    const CompiledRule& rule = p.rules[r];
    const RuleSpec& spec = specs_[r];
    Outcome outcome = Outcome::skipped;
    std::optional<Frame> frame;
    if (std::all_of(rule.required.begin(), rule.required.end(), present)) {
      frame.emplace(Frame{rule, nums, strs, p.tolerance});
      bool ok = frame->boolean(static_cast<std::uint32_t>(rule.root));
      if (!frame->division_by_zero && !frame->missing)
        outcome = ok ? Outcome::passed : Outcome::failed;
    }
    if (only_failed && outcome != Outcome::failed) continue;
    RuleResult res;
    res.name = spec.name;
    res.severity = spec.severity;
    res.indicators = rule.indicators;
    res.outcome = outcome;
    if (outcome == Outcome::failed) {  // then the rule was evaluated: frame holds its values
      if (rule.message.empty() && !rule.has_message_en) {
        // A failure with no text would show nothing beside the fields; name the rule instead.
        res.message = fmt::format("未通过审核公式“{}”：{}", spec.name, spec.expr);
        res.message_en = fmt::format("rule '{}' failed: {}", spec.name, spec.expr);
      } else {
        res.message = render(rule.message, *frame, false);
        res.message_en = rule.has_message_en ? render(rule.message_en, *frame, true) : res.message;
      }
    }
    results.push_back(std::move(res));
  }
  return results;
}

const std::vector<std::string>& RuleSet::referenced_forms() const {
  static const std::vector<std::string> kNone;
  return program_ ? program_->forms : kNone;
}
bool RuleSet::uses_prev() const { return program_ && program_->uses_prev; }
bool RuleSet::uses_ly() const { return program_ && program_->uses_ly; }

Result<Severity> parse_severity(std::string_view text) {
  if (text == "error") return Severity::error;
  if (text == "warning") return Severity::warning;
  return make_error(ErrorKind::invalid, "RULE_SEVERITY", "规则级别应为 error 或 warning，实际为“" + std::string(text) + "”",
                    "severity must be 'error' or 'warning', got '" + std::string(text) + "'");
}

std::string_view to_string(Severity s) { return s == Severity::error ? "error" : "warning"; }

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::passed: return "passed";
    case Outcome::failed: return "failed";
    case Outcome::skipped: return "skipped";
  }
  return "skipped";
}

std::string format_number(double v) {
  std::string s = fmt::format("{:.2f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

}  // namespace statgov::rules
