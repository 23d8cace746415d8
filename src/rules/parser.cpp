#include "rules/parser.hpp"

#include <cctype>

namespace statgov::rules {

namespace {

// Deep enough for any real rule, shallow enough that a fuzzed "((((..." cannot overflow the stack.
constexpr int kMaxDepth = 200;

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::end: return "end of rule";
    case TokenKind::number: return "number";
    case TokenKind::string: return "string \"" + t.text + "\"";
    case TokenKind::identifier: return "'" + t.text + "'";
    case TokenKind::dot: return "'.'";
    case TokenKind::comma: return "','";
    case TokenKind::lparen: return "'('";
    case TokenKind::rparen: return "')'";
    case TokenKind::plus: return "'+'";
    case TokenKind::minus: return "'-'";
    case TokenKind::star: return "'*'";
    case TokenKind::slash: return "'/'";
    case TokenKind::eq: return "'='";
    case TokenKind::ne: return "'!='";
    case TokenKind::lt: return "'<'";
    case TokenKind::le: return "'<='";
    case TokenKind::gt: return "'>'";
    case TokenKind::ge: return "'>='";
  }
  return "token";
}

std::string describe_zh(const Token& t) {
  switch (t.kind) {
    case TokenKind::end: return "公式结尾";
    case TokenKind::number: return "数字";
    case TokenKind::string: return "字符串“" + t.text + "”";
    case TokenKind::identifier: return "“" + t.text + "”";
    default: break;
  }
  std::string en = describe(t);  // "'>'" -> "“>”"
  return "“" + en.substr(1, en.size() - 2) + "”";
}

bool is_reserved(std::string_view s) {
  for (std::string_view k : {"and", "or", "not", "if", "then", "in"}) {
    if (equals_keyword(s, k)) return true;
  }
  return false;
}

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, Diagnostic& diag) : toks_(tokens), diag_(diag) {}

  std::unique_ptr<Ast> parse_all() {
    auto e = parse_expr();
    if (!e) return nullptr;
    if (peek().kind != TokenKind::end) {
      fail_at(peek(), "公式在" + describe_zh(peek()) + "处有多余内容",
              "unexpected " + describe(peek()) + " after the end of the expression");
      return nullptr;
    }
    return e;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    std::size_t i = pos_ + ahead;
    return i < toks_.size() ? toks_[i] : toks_.back();
  }
  const Token& take() {
    const Token& t = peek();
    if (pos_ < toks_.size() - 1) ++pos_;
    return t;
  }
  bool at_keyword(std::string_view kw) const {
    return peek().kind == TokenKind::identifier && equals_keyword(peek().text, kw);
  }
  std::nullptr_t fail_at(const Token& t, std::string zh, std::string en) {
    if (!failed_) {
      diag_ = Diagnostic{"RULE_SYNTAX", std::move(zh), std::move(en), t.line, t.column};
      failed_ = true;
    }
    return nullptr;
  }
  std::nullptr_t expected(std::string_view what_zh, std::string_view what_en) {
    return fail_at(peek(), "此处应为" + std::string(what_zh) + "，实际为" + describe_zh(peek()),
                   "expected " + std::string(what_en) + " but found " + describe(peek()));
  }
  bool expect(TokenKind kind, std::string_view zh, std::string_view en) {
    if (peek().kind != kind) {
      expected(zh, en);
      return false;
    }
    take();
    return true;
  }
  static std::unique_ptr<Ast> node(Op op, const Token& at) {
    auto n = std::make_unique<Ast>();
    n->op = op;
    n->line = at.line;
    n->column = at.column;
    return n;
  }
  static std::unique_ptr<Ast> binary(Op op, const Token& at, std::unique_ptr<Ast> l, std::unique_ptr<Ast> r) {
    auto n = node(op, at);
    n->children.push_back(std::move(l));
    n->children.push_back(std::move(r));
    return n;
  }

  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    int& d_;
  };

  std::unique_ptr<Ast> parse_expr() {
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) return fail_at(peek(), "公式嵌套层数过多", "expression nested too deeply");
    if (at_keyword("if")) {
      Token at = take();
      auto cond = parse_or();
      if (!cond) return nullptr;
      if (!at_keyword("then")) return expected("“then”", "'then'");
      take();
      auto then = parse_expr();
      if (!then) return nullptr;
      return binary(Op::implies, at, std::move(cond), std::move(then));
    }
    return parse_or();
  }

  std::unique_ptr<Ast> parse_or() {
    auto left = parse_and();
    while (left && at_keyword("or")) {
      Token at = take();
      auto right = parse_and();
      if (!right) return nullptr;
      left = binary(Op::logical_or, at, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Ast> parse_and() {
    auto left = parse_not();
    while (left && at_keyword("and")) {
      Token at = take();
      auto right = parse_not();
      if (!right) return nullptr;
      left = binary(Op::logical_and, at, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Ast> parse_not() {
    if (at_keyword("not")) {
      DepthGuard guard(depth_);
      if (depth_ > kMaxDepth) return fail_at(peek(), "公式嵌套层数过多", "expression nested too deeply");
      Token at = take();
      auto inner = parse_not();
      if (!inner) return nullptr;
      auto n = node(Op::logical_not, at);
      n->children.push_back(std::move(inner));
      return n;
    }
    return parse_comparison();
  }

  std::unique_ptr<Ast> parse_comparison() {
    auto left = parse_additive();
    if (!left) return nullptr;
    Op op;
    switch (peek().kind) {
      case TokenKind::eq: op = Op::eq; break;
      case TokenKind::ne: op = Op::ne; break;
      case TokenKind::lt: op = Op::lt; break;
      case TokenKind::le: op = Op::le; break;
      case TokenKind::gt: op = Op::gt; break;
      case TokenKind::ge: op = Op::ge; break;
      default:
        if (at_keyword("in") || (at_keyword("not") && peek(1).kind == TokenKind::identifier &&
                                 equals_keyword(peek(1).text, "in"))) {
          return parse_in(std::move(left));
        }
        return left;
    }
    Token at = take();
    auto right = parse_additive();
    if (!right) return nullptr;
    return binary(op, at, std::move(left), std::move(right));
  }

  std::unique_ptr<Ast> parse_in(std::unique_ptr<Ast> left) {
    Op op = Op::in;
    Token at = peek();
    if (at_keyword("not")) {
      take();
      op = Op::not_in;
    }
    take();  // in
    auto n = node(op, at);
    n->children.push_back(std::move(left));
    if (!expect(TokenKind::lparen, "“(”", "'('")) return nullptr;
    while (true) {
      auto item = parse_additive();
      if (!item) return nullptr;
      n->children.push_back(std::move(item));
      if (peek().kind == TokenKind::comma) {
        take();
        continue;
      }
      if (!expect(TokenKind::rparen, "“,”或“)”", "',' or ')'")) return nullptr;
      return n;
    }
  }

  std::unique_ptr<Ast> parse_additive() {
    auto left = parse_multiplicative();
    while (left && (peek().kind == TokenKind::plus || peek().kind == TokenKind::minus)) {
      Token at = take();
      auto right = parse_multiplicative();
      if (!right) return nullptr;
      left = binary(at.kind == TokenKind::plus ? Op::add : Op::sub, at, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Ast> parse_multiplicative() {
    auto left = parse_unary();
    while (left && (peek().kind == TokenKind::star || peek().kind == TokenKind::slash)) {
      Token at = take();
      auto right = parse_unary();
      if (!right) return nullptr;
      left = binary(at.kind == TokenKind::star ? Op::mul : Op::div, at, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Ast> parse_unary() {
    if (peek().kind == TokenKind::minus || peek().kind == TokenKind::plus) {
      DepthGuard guard(depth_);
      if (depth_ > kMaxDepth) return fail_at(peek(), "公式嵌套层数过多", "expression nested too deeply");
      Token at = take();
      auto inner = parse_unary();
      if (!inner) return nullptr;
      if (at.kind == TokenKind::plus) return inner;
      auto n = node(Op::neg, at);
      n->children.push_back(std::move(inner));
      return n;
    }
    return parse_primary();
  }

  std::unique_ptr<Ast> member_after_dot(Op op, const Token& at) {
    if (!expect(TokenKind::dot, "“.”", "'.'")) return nullptr;
    if (peek().kind != TokenKind::identifier) return expected("指标代码或属性名", "an indicator code or attribute name");
    auto n = node(op, at);
    n->name = take().text;
    return n;
  }

  std::unique_ptr<Ast> parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case TokenKind::number: {
        auto n = node(Op::number, t);
        n->number = t.number;
        take();
        return n;
      }
      case TokenKind::string: {
        auto n = node(Op::string, t);
        n->name = t.text;
        take();
        return n;
      }
      case TokenKind::lparen: {
        take();
        auto inner = parse_expr();
        if (!inner) return nullptr;
        if (!expect(TokenKind::rparen, "“)”", "')'")) return nullptr;
        return inner;
      }
      case TokenKind::identifier: break;
      default: return expected("数值、指标或“(”", "a value, an indicator or '('");
    }
    Token at = t;
    if (is_reserved(at.text)) return expected("数值、指标或“(”", "a value, an indicator or '('");
    if (peek(1).kind == TokenKind::dot) {
      take();
      Op op;
      if (equals_keyword(at.text, "prev")) op = Op::ref_prev;
      else if (equals_keyword(at.text, "ly")) op = Op::ref_ly;
      else if (equals_keyword(at.text, "unit")) op = Op::ref_unit;
      else if (equals_keyword(at.text, "period")) op = Op::ref_period;
      else {
        return fail_at(at, "未知的限定名“" + at.text + "”（可用 prev、ly、unit、period、form）",
                       "unknown qualifier '" + at.text + "' (use prev, ly, unit, period or form)");
      }
      return member_after_dot(op, at);
    }
    if (peek(1).kind == TokenKind::lparen) {
      take();
      take();
      if (equals_keyword(at.text, "form")) {
        if (peek().kind != TokenKind::string) return expected("报表代码字符串", "a form code string");
        std::string form = take().text;
        if (!expect(TokenKind::rparen, "“)”", "')'")) return nullptr;
        auto n = member_after_dot(Op::ref_form, at);
        if (n) n->qualifier = std::move(form);
        return n;
      }
      auto n = node(Op::call, at);
      for (char c : at.text) n->name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      if (peek().kind == TokenKind::rparen) {
        take();
        return n;
      }
      while (true) {
        auto arg = parse_expr();
        if (!arg) return nullptr;
        n->children.push_back(std::move(arg));
        if (peek().kind == TokenKind::comma) {
          take();
          continue;
        }
        if (!expect(TokenKind::rparen, "“,”或“)”", "',' or ')'")) return nullptr;
        return n;
      }
    }
    take();
    auto n = node(Op::ref_current, at);
    n->name = at.text;
    return n;
  }

  const std::vector<Token>& toks_;
  Diagnostic& diag_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  bool failed_ = false;
};

}  // namespace

bool parse_expression(const std::vector<Token>& tokens, std::unique_ptr<Ast>& out, Diagnostic& diag) {
  // tokenize() always ends with an `end` token; the parser relies on it as a sentinel.
  if (tokens.empty() || tokens.back().kind != TokenKind::end) {
    diag = Diagnostic{"RULE_SYNTAX", "公式为空", "empty expression", 1, 1};
    return false;
  }
  if (tokens.size() == 1) {
    diag = Diagnostic{"RULE_SYNTAX", "公式为空", "empty expression", tokens[0].line, tokens[0].column};
    return false;
  }
  Parser p(tokens, diag);
  out = p.parse_all();
  return out != nullptr;
}

bool parse_text(std::string_view text, std::unique_ptr<Ast>& out, Diagnostic& diag, int first_line,
                int first_column) {
  std::vector<Token> tokens;
  if (!tokenize(text, tokens, diag, first_line, first_column)) return false;
  return parse_expression(tokens, out, diag);
}

}  // namespace statgov::rules
