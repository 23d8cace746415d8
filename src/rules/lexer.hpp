// Lexer for the edit-rule language (审核公式). Internal to rules/; nothing outside rules/ includes it.
// Positions are 1-based line and column counted in code points, so a column points at the same
// character an editor shows even when the rule text contains Chinese.
#pragma once

#include "base/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace statgov::rules {

enum class TokenKind {
  number,
  string,
  identifier,
  dot,
  comma,
  lparen,
  rparen,
  plus,
  minus,
  star,
  slash,
  eq,  // = or ==
  ne,  // != or <>
  lt,
  le,
  gt,
  ge,
  end,
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string text;  // identifier name, or string literal contents without quotes
  double number = 0;
  int line = 1;
  int column = 1;
};

// A failure found while reading a rule, before it is wrapped into an Error with the rule's name.
struct Diagnostic {
  std::string code;  // RULE_SYNTAX, RULE_TYPE, RULE_UNKNOWN_INDICATOR
  std::string message;
  std::string message_en;
  int line = 1;
  int column = 1;
};

// The whole text must be one expression's tokens; the last token is always `end`.
// first_line/first_column let a template placeholder report positions within its message.
bool tokenize(std::string_view text, std::vector<Token>& out, Diagnostic& diag, int first_line = 1,
              int first_column = 1);

// Keywords and function names are case-insensitive; indicator codes are not.
bool equals_keyword(std::string_view ident, std::string_view lower_keyword);

}  // namespace statgov::rules
