#include "rules/lexer.hpp"

#include <cctype>
#include <charconv>

namespace statgov::rules {

namespace {

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Cursor {
 public:
  Cursor(std::string_view text, int line, int column) : text_(text), line_(line), column_(column) {}
  bool done() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void advance() {
    char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      // UTF-8 continuation bytes do not start a new column.
      ++column_;
    }
  }
  std::size_t pos() const { return pos_; }
  int line() const { return line_; }
  int column() const { return column_; }
  std::string_view slice(std::size_t from) const { return text_.substr(from, pos_ - from); }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int line_;
  int column_;
};

}  // namespace

bool equals_keyword(std::string_view ident, std::string_view lower_keyword) {
  if (ident.size() != lower_keyword.size()) return false;
  for (std::size_t i = 0; i < ident.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(ident[i])) != lower_keyword[i]) return false;
  }
  return true;
}

bool tokenize(std::string_view text, std::vector<Token>& out, Diagnostic& diag, int first_line,
              int first_column) {
  out.clear();
  Cursor cur(text, first_line, first_column);
  auto fail = [&](int line, int column, std::string zh, std::string en) {
    diag = Diagnostic{"RULE_SYNTAX", std::move(zh), std::move(en), line, column};
    return false;
  };
  while (true) {
    while (!cur.done() && std::isspace(static_cast<unsigned char>(cur.peek())) != 0) cur.advance();
    Token tok;
    tok.line = cur.line();
    tok.column = cur.column();
    if (cur.done()) {
      tok.kind = TokenKind::end;
      out.push_back(std::move(tok));
      return true;
    }
    char c = cur.peek();
    std::size_t start = cur.pos();
    if (is_digit(c) || (c == '.' && is_digit(cur.peek(1)))) {
      while (is_digit(cur.peek())) cur.advance();
      if (cur.peek() == '.') {
        cur.advance();
        while (is_digit(cur.peek())) cur.advance();
      }
      if (cur.peek() == 'e' || cur.peek() == 'E') {
        std::size_t ahead = 1;
        if (cur.peek(1) == '+' || cur.peek(1) == '-') ahead = 2;
        if (is_digit(cur.peek(ahead))) {
          for (std::size_t i = 0; i < ahead; ++i) cur.advance();
          while (is_digit(cur.peek())) cur.advance();
        }
      }
      if (is_ident_char(cur.peek())) {
        return fail(tok.line, tok.column, "数字格式不正确", "malformed number");
      }
      std::string_view digits = cur.slice(start);
      // from_chars: locale-independent, so a server locale with ',' decimals cannot change a rule.
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), tok.number);
      if (ec != std::errc() || ptr != digits.data() + digits.size()) {
        return fail(tok.line, tok.column, "数字格式不正确", "malformed number");
      }
      tok.kind = TokenKind::number;
      out.push_back(std::move(tok));
      continue;
    }
    if (is_ident_start(c)) {
      while (is_ident_char(cur.peek())) cur.advance();
      tok.kind = TokenKind::identifier;
      tok.text = std::string(cur.slice(start));
      out.push_back(std::move(tok));
      continue;
    }
    if (c == '"') {
      cur.advance();
      std::string value;
      while (true) {
        if (cur.done() || cur.peek() == '\n') {
          return fail(tok.line, tok.column, "字符串缺少结束引号", "unterminated string");
        }
        char s = cur.peek();
        if (s == '"') {
          cur.advance();
          break;
        }
        if (s == '\\' && (cur.peek(1) == '"' || cur.peek(1) == '\\')) {
          cur.advance();
          s = cur.peek();
        }
        value.push_back(s);
        cur.advance();
      }
      tok.kind = TokenKind::string;
      tok.text = std::move(value);
      out.push_back(std::move(tok));
      continue;
    }
    char n = cur.peek(1);
    auto single = [&](TokenKind kind) {
      cur.advance();
      tok.kind = kind;
    };
    auto twin = [&](TokenKind kind) {
      cur.advance();
      cur.advance();
      tok.kind = kind;
    };
    switch (c) {
      case '.': single(TokenKind::dot); break;
      case ',': single(TokenKind::comma); break;
      case '(': single(TokenKind::lparen); break;
      case ')': single(TokenKind::rparen); break;
      case '+': single(TokenKind::plus); break;
      case '-': single(TokenKind::minus); break;
      case '*': single(TokenKind::star); break;
      case '/': single(TokenKind::slash); break;
      case '=': n == '=' ? twin(TokenKind::eq) : single(TokenKind::eq); break;
      case '!':
        if (n != '=') return fail(tok.line, tok.column, "无法识别的字符“!”", "unexpected character '!'");
        twin(TokenKind::ne);
        break;
      case '<':
        if (n == '=') twin(TokenKind::le);
        else if (n == '>') twin(TokenKind::ne);
        else single(TokenKind::lt);
        break;
      case '>': n == '=' ? twin(TokenKind::ge) : single(TokenKind::gt); break;
      default: {
        // Report the whole UTF-8 character so a stray full-width symbol shows up readably.
        std::size_t len = 1;
        auto u = static_cast<unsigned char>(c);
        if (u >= 0xF0) len = 4;
        else if (u >= 0xE0) len = 3;
        else if (u >= 0xC0) len = 2;
        std::string ch(text.substr(start, len));
        return fail(tok.line, tok.column, "无法识别的字符“" + ch + "”", "unexpected character '" + ch + "'");
      }
    }
    out.push_back(std::move(tok));
  }
}

}  // namespace statgov::rules
