// Data-driven cases for the rule language: one file per case in src/rules/testdata/ (format in
// testdata/README.md). Adding a case is adding a file; this driver never changes for it.
#include "rules/rule_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace statgov::rules {
namespace {

namespace fs = std::filesystem;

fs::path cases_dir() { return fs::path(STATGOV_SOURCE_DIR) / "src" / "rules" / "testdata"; }

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(cases_dir())) {
    if (entry.path().extension() == ".case") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])) != 0) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])) != 0) --e;
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> words(std::string_view s) {
  std::istringstream in{std::string(s)};
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

struct Case {
  std::set<std::string, std::less<>> known;
  bool known_given = false;
  CompileOptions options;
  std::vector<RuleSpec> rules;
  ValueMap current;
  ValueMap prev;
  ValueMap ly;
  bool has_prev = false;
  bool has_ly = false;
  EvalInput input;
  std::map<std::string, std::string, std::less<>> expect;  // "r1" -> outcome, "r1.message" -> ...
  std::map<std::string, std::string, std::less<>> expect_error;
};

bool split_kv(const std::string& line, std::string& key, std::string& value) {
  auto eq = line.find('=');
  if (eq == std::string::npos) return false;
  key = trim(std::string_view(line).substr(0, eq));
  value = trim(std::string_view(line).substr(eq + 1));
  return true;
}

double parse_value(const std::string& v) {
  if (v == "nan") return std::numeric_limits<double>::quiet_NaN();
  return std::stod(v);
}

// Returns an empty string on success, else what is wrong with the file.
std::string load_case(const fs::path& path, Case& c) {
  std::ifstream in(path);
  if (!in) return "cannot open " + path.string();
  std::string section;
  std::vector<std::string> header;
  std::string block;  // accumulated raw lines for rule/msg/msg_en
  auto flush = [&]() {
    if (header.empty()) return;
    std::string text = block;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    if (header[0] == "rule") c.rules.back().expr = text;
    else if (header[0] == "msg") c.rules.back().message = text;
    else if (header[0] == "msg_en") c.rules.back().message_en = text;
    block.clear();
  };
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] == '[' && line.back() == ']') {
      flush();
      header = words(std::string_view(line).substr(1, line.size() - 2));
      if (header.empty()) return "empty section header at line " + std::to_string(lineno);
      section = header[0];
      if (section == "rule") {
        if (header.size() != 3) return "[rule NAME SEVERITY] expected at line " + std::to_string(lineno);
        auto sev = parse_severity(header[2]);
        if (!sev) return "bad severity at line " + std::to_string(lineno);
        c.rules.push_back(RuleSpec{header[1], *sev, "", "", ""});
      } else if (section == "msg" || section == "msg_en") {
        if (c.rules.empty()) return "[" + section + "] before any [rule]";
      } else if (section == "prev") {
        c.has_prev = true;
      } else if (section == "ly") {
        c.has_ly = true;
      } else if (section == "known") {
        c.known_given = true;
      } else if (section == "form") {
        if (header.size() != 2) return "[form CODE] expected at line " + std::to_string(lineno);
        c.input.other_forms[header[1]];
      } else if (section != "current" && section != "unit" && section != "period" && section != "options" &&
                 section != "expect" && section != "expect_error") {
        return "unknown section [" + section + "] at line " + std::to_string(lineno);
      }
      continue;
    }
    if (section == "rule" || section == "msg" || section == "msg_en") {
      block += line;
      block += '\n';
      continue;
    }
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (section == "known") {
      for (auto& w : words(t)) c.known.insert(w);
      continue;
    }
    std::string key;
    std::string value;
    if (!split_kv(t, key, value)) return "expected KEY = VALUE at line " + std::to_string(lineno);
    try {
      if (section == "current") c.current[key] = parse_value(value);
      else if (section == "prev") c.prev[key] = parse_value(value);
      else if (section == "ly") c.ly[key] = parse_value(value);
      else if (section == "form") c.input.other_forms[header[1]][key] = parse_value(value);
      else if (section == "unit") {
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          c.input.unit_text[key] = value.substr(1, value.size() - 2);
        } else {
          c.input.unit_num[key] = parse_value(value);
        }
      } else if (section == "period") {
        int v = std::stoi(value);
        if (key == "year") c.input.period.year = v;
        else if (key == "month") c.input.period.month = v;
        else if (key == "quarter") c.input.period.quarter = v;
        else return "unknown period key at line " + std::to_string(lineno);
      } else if (section == "options") {
        if (key == "tolerance") c.options.tolerance = std::stod(value);
        else return "unknown option at line " + std::to_string(lineno);
      } else if (section == "expect") {
        c.expect[key] = value;
      } else if (section == "expect_error") {
        c.expect_error[key] = value;
      } else {
        return "data outside a section at line " + std::to_string(lineno);
      }
    } catch (const std::exception&) {
      return "bad number at line " + std::to_string(lineno);
    }
  }
  flush();
  if (!c.known_given) {
    c.known = {"I01", "I01_YTD", "I03", "I03_YTD", "I04", "I04_YTD", "I05", "I05_YTD"};
  }
  if (c.rules.empty()) return "no [rule]";
  if (c.expect.empty() == c.expect_error.empty()) return "exactly one of [expect] and [expect_error] is needed";
  return "";
}

class RuleCase : public ::testing::TestWithParam<std::string> {};

TEST_P(RuleCase, Matches) {
  fs::path path = cases_dir() / (GetParam() + ".case");
  Case c;
  std::string problem = load_case(path, c);
  ASSERT_EQ(problem, "") << path;
  c.input.current = &c.current;
  c.input.prev = c.has_prev ? &c.prev : nullptr;
  c.input.ly = c.has_ly ? &c.ly : nullptr;

  auto compiled = RuleSet::compile(c.rules, c.known, c.options);
  if (!c.expect_error.empty()) {
    ASSERT_FALSE(compiled.ok()) << "expected a compile error";
    const Error& e = compiled.error();
    EXPECT_EQ(e.kind, ErrorKind::invalid);
    ASSERT_FALSE(e.details.empty());
    const auto& d = e.details[0];
    for (const auto& [key, want] : c.expect_error) {
      if (key == "code") {
        EXPECT_EQ(e.code, want) << e.message_en;
      } else if (key == "line" || key == "column") {
        EXPECT_EQ(d[key].get<int>(), std::stoi(want)) << key << ": " << e.message_en;
      } else if (key == "rule" || key == "field" || key == "message" || key == "message_en") {
        EXPECT_EQ(d[key].get<std::string>(), want) << key << ": " << e.message_en;
      } else {
        ADD_FAILURE() << "unknown [expect_error] key " << key;
      }
    }
    EXPECT_FALSE(e.message.empty());
    EXPECT_FALSE(e.message_en.empty());
    return;
  }
  ASSERT_TRUE(compiled.ok()) << compiled.error().message_en;
  // A copy must behave like the original: callers keep RuleSets by value.
  RuleSet rules = *compiled;
  auto results = rules.evaluate(c.input);
  ASSERT_EQ(results.size(), c.rules.size());
  for (const auto& r : results) {
    auto it = c.expect.find(r.name);
    ASSERT_NE(it, c.expect.end()) << "no expected outcome for rule " << r.name;
    EXPECT_EQ(to_string(r.outcome), it->second) << "rule " << r.name;
    if (auto m = c.expect.find(r.name + ".message"); m != c.expect.end()) {
      EXPECT_EQ(r.message, m->second) << "rule " << r.name;
    }
    if (auto m = c.expect.find(r.name + ".message_en"); m != c.expect.end()) {
      EXPECT_EQ(r.message_en, m->second) << "rule " << r.name;
    }
    if (auto m = c.expect.find(r.name + ".indicators"); m != c.expect.end()) {
      EXPECT_EQ(r.indicators, words(m->second)) << "rule " << r.name;
    }
    if (r.outcome != Outcome::failed) {
      EXPECT_EQ(r.message, "") << "messages are only rendered for failed rules";
    }
  }
  for (const auto& [key, value] : c.expect) {
    std::string rule = key.substr(0, key.find('.'));
    bool known_rule = std::any_of(c.rules.begin(), c.rules.end(), [&](const RuleSpec& s) { return s.name == rule; });
    EXPECT_TRUE(known_rule) << "[expect] names unknown rule " << rule;
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n;
  for (char ch : info.param) n.push_back(std::isalnum(static_cast<unsigned char>(ch)) != 0 ? ch : '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Cases, RuleCase, ::testing::ValuesIn(case_names()), test_name);

TEST(RuleCases, CorpusIsComplete) { EXPECT_GE(case_names().size(), 45U); }

}  // namespace
}  // namespace statgov::rules
