// Parser for the edit-rule language: tokens -> syntax tree. Internal to rules/.
// The tree only records what was written; names are checked and types inferred by the compiler
// in rule_set.cpp, so the parser stays free of indicator sets and function tables.
#pragma once

#include "rules/lexer.hpp"

#include <memory>
#include <string>
#include <vector>

namespace statgov::rules {

enum class Op {
  number,
  string,
  ref_current,  // I01
  ref_prev,     // prev.I01
  ref_ly,       // ly.I01
  ref_unit,     // unit.industry
  ref_period,   // period.month
  ref_form,     // form("202-1").E01: qualifier = "202-1"
  neg,
  add,
  sub,
  mul,
  div,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  logical_and,
  logical_or,
  logical_not,
  implies,  // if A then B
  in,       // children[0] in (children[1..])
  not_in,
  call,  // name = function name in lower case
};

struct Ast {
  Op op = Op::number;
  std::string name;       // indicator code, attribute, function, or string literal value
  std::string qualifier;  // form code for ref_form
  double number = 0;
  std::vector<std::unique_ptr<Ast>> children;
  int line = 1;
  int column = 1;
};

// Parses one whole expression; anything after it is an error.
bool parse_expression(const std::vector<Token>& tokens, std::unique_ptr<Ast>& out, Diagnostic& diag);

// tokenize + parse_expression.
bool parse_text(std::string_view text, std::unique_ptr<Ast>& out, Diagnostic& diag, int first_line = 1,
                int first_column = 1);

}  // namespace statgov::rules
