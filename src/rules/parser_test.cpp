#include "rules/parser.hpp"

#include <gtest/gtest.h>

namespace statgov::rules {
namespace {

// Renders a tree in prefix form so tests can state structure compactly.
std::string show(const Ast& a) {
  auto kids = [&](std::string head) {
    for (const auto& c : a.children) head += " " + show(*c);
    return "(" + head + ")";
  };
  switch (a.op) {
    case Op::number: {
      std::string s = std::to_string(a.number);
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.') s.pop_back();
      return s;
    }
    case Op::string: return "\"" + a.name + "\"";
    case Op::ref_current: return a.name;
    case Op::ref_prev: return "prev." + a.name;
    case Op::ref_ly: return "ly." + a.name;
    case Op::ref_unit: return "unit." + a.name;
    case Op::ref_period: return "period." + a.name;
    case Op::ref_form: return "form[" + a.qualifier + "]." + a.name;
    case Op::neg: return kids("neg");
    case Op::add: return kids("+");
    case Op::sub: return kids("-");
    case Op::mul: return kids("*");
    case Op::div: return kids("/");
    case Op::eq: return kids("=");
    case Op::ne: return kids("!=");
    case Op::lt: return kids("<");
    case Op::le: return kids("<=");
    case Op::gt: return kids(">");
    case Op::ge: return kids(">=");
    case Op::logical_and: return kids("and");
    case Op::logical_or: return kids("or");
    case Op::logical_not: return kids("not");
    case Op::implies: return kids("if");
    case Op::in: return kids("in");
    case Op::not_in: return kids("notin");
    case Op::call: return kids(a.name);
  }
  return "?";
}

std::string parse_ok(std::string_view text) {
  std::unique_ptr<Ast> ast;
  Diagnostic d;
  if (!parse_text(text, ast, d)) return "ERROR " + d.message_en;
  return show(*ast);
}

Diagnostic parse_fail(std::string_view text) {
  std::unique_ptr<Ast> ast;
  Diagnostic d;
  EXPECT_FALSE(parse_text(text, ast, d)) << text;
  return d;
}

TEST(Parser, Precedence) {
  EXPECT_EQ(parse_ok("1 + 2 * 3 - 4 = 3"), "(= (- (+ 1 (* 2 3)) 4) 3)");
  EXPECT_EQ(parse_ok("a = 1 or b = 2 and not c = 3"), "(or (= a 1) (and (= b 2) (not (= c 3))))");
  EXPECT_EQ(parse_ok("-a * -(b)"), "(* (neg a) (neg b))");
  EXPECT_EQ(parse_ok("a / b / c"), "(/ (/ a b) c)");
}

TEST(Parser, ImplicationAndIn) {
  EXPECT_EQ(parse_ok("IF a > 0 THEN if b > 0 then c > 0"), "(if (> a 0) (if (> b 0) (> c 0)))");
  EXPECT_EQ(parse_ok("unit.size in (1, 2)"), "(in unit.size 1 2)");
  EXPECT_EQ(parse_ok("unit.industry NOT IN (\"06\")"), "(notin unit.industry \"06\")");
}

TEST(Parser, ReferencesAndCalls) {
  EXPECT_EQ(parse_ok("prev.I01 + ly.I01 + form(\"202-1\").E01 = period.month"),
            "(= (+ (+ prev.I01 ly.I01) form[202-1].E01) period.month)");
  EXPECT_EQ(parse_ok("ABS(I01) <= Max(a, b, c)"), "(<= (abs I01) (max a b c))");
}

TEST(Parser, ErrorsPointAtTheOffendingToken) {
  auto d = parse_fail("a > 0 b");
  EXPECT_EQ(d.column, 7);
  d = parse_fail("if a\nthen");
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 5);
  d = parse_fail("x.a > 0");
  EXPECT_EQ(d.column, 1);
  d = parse_fail("(a > 0");
  EXPECT_EQ(d.column, 7);
  d = parse_fail("  ");
  EXPECT_EQ(d.message_en, "empty expression");
}

TEST(Parser, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  auto d = parse_fail(deep + "1");
  EXPECT_EQ(d.code, "RULE_SYNTAX");
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  parse_fail(nots + "a > 0");
  std::string negs(5000, '-');
  parse_fail(negs + "a > 0");
}

}  // namespace
}  // namespace statgov::rules
