#include "domain/form.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

namespace statgov::domain {

using nlohmann::json;

const Indicator* FormDef::find(std::string_view code) const {
  for (const auto& i : indicators) {
    if (i.code == code) return &i;
  }
  return nullptr;
}

namespace {

// Reads a JSON object field by field and remembers the first problem with its JSON pointer.
class Reader {
 public:
  Reader(const json& j, std::string path, std::vector<std::string>& problems)
      : j_(j), path_(std::move(path)), problems_(problems) {
    if (!j_.is_object()) fail(path_, "应为对象 / must be an object");
  }

  void allow(std::initializer_list<const char*> keys) {
    if (!j_.is_object()) return;
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; })) {
        fail(path_ + "/" + it.key(), "未知字段 / unknown field");
      }
    }
  }

  std::string str(const char* key, bool required, std::string def = "") {
    if (!j_.is_object() || !j_.contains(key)) {
      if (required) fail(path_ + "/" + key, "缺少必填字段 / required field missing");
      return def;
    }
    const auto& v = j_.at(key);
    if (!v.is_string()) {
      fail(path_ + "/" + key, "应为字符串 / must be a string");
      return def;
    }
    return v.get<std::string>();
  }

  int integer(const char* key, int def, int lo, int hi) {
    if (!j_.is_object() || !j_.contains(key)) return def;
    const auto& v = j_.at(key);
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi) {
      fail(path_ + "/" + key, fmt::format("应为 {} 到 {} 的整数 / must be an integer from {} to {}", lo, hi, lo, hi));
      return def;
    }
    return v.get<int>();
  }

  std::optional<double> number(const char* key) {
    if (!j_.is_object() || !j_.contains(key) || j_.at(key).is_null()) return std::nullopt;
    if (!j_.at(key).is_number()) {
      fail(path_ + "/" + key, "应为数值 / must be a number");
      return std::nullopt;
    }
    return j_.at(key).get<double>();
  }

  bool boolean(const char* key, bool def) {
    if (!j_.is_object() || !j_.contains(key)) return def;
    if (!j_.at(key).is_boolean()) {
      fail(path_ + "/" + key, "应为布尔值 / must be true or false");
      return def;
    }
    return j_.at(key).get<bool>();
  }

  const json* array(const char* key, bool required) {
    if (!j_.is_object() || !j_.contains(key)) {
      if (required) fail(path_ + "/" + key, "缺少必填字段 / required field missing");
      return nullptr;
    }
    if (!j_.at(key).is_array()) {
      fail(path_ + "/" + key, "应为数组 / must be an array");
      return nullptr;
    }
    return &j_.at(key);
  }

  void fail(const std::string& where, const std::string& what) { problems_.push_back(where + ": " + what); }

 private:
  const json& j_;
  std::string path_;
  std::vector<std::string>& problems_;
};

bool valid_code(const std::string& c) {
  if (c.empty() || c.size() > 32) return false;
  if (!(std::isalpha(static_cast<unsigned char>(c[0])) || c[0] == '_')) return false;
  return std::all_of(c.begin(), c.end(),
                     [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; });
}

Error form_error(const std::vector<std::string>& problems) {
  json details = json::array();
  for (const auto& p : problems) details.push_back({{"problem", p}});
  return make_error(ErrorKind::invalid, "FORM_INVALID", "表式定义有误：" + problems.front(),
                    "The form definition is invalid: " + problems.front(), details);
}

}  // namespace

Result<FormDef> parse_form(const json& j) {
  std::vector<std::string> problems;
  FormDef f;
  Reader r(j, "", problems);
  r.allow({"code", "version", "name", "name_en", "frequency", "deadline", "tolerance", "indicators",
           "layout", "rules", "applies_to"});
  f.code = r.str("code", true);
  if (!f.code.empty() && (f.code.size() > 32 || f.code.find_first_of("/?#% ") != std::string::npos)) {
    r.fail("/code", "表号含非法字符 / the form code has an invalid character");
  }
  f.version = r.integer("version", 1, 1, 100000);
  f.name = r.str("name", true);
  f.name_en = r.str("name_en", false, f.name);
  auto freq = parse_frequency(r.str("frequency", true, "month"));
  if (freq.ok()) f.frequency = *freq;
  else r.fail("/frequency", "应为 month、quarter 或 year / must be month, quarter or year");
  if (j.is_object() && j.contains("deadline")) {
    Reader d(j.at("deadline"), "/deadline", problems);
    d.allow({"day", "hour"});
    f.deadline_day = d.integer("day", 5, 1, 28);
    f.deadline_hour = d.integer("hour", 18, 0, 23);
  }
  if (auto t = r.number("tolerance")) {
    if (*t < 0 || *t > 1000) r.fail("/tolerance", "超出范围 / out of range");
    else f.tolerance = *t;
  }

  std::set<std::string> codes;
  if (const json* inds = r.array("indicators", true)) {
    for (std::size_t i = 0; i < inds->size(); ++i) {
      std::string p = fmt::format("/indicators/{}", i);
      Reader ir((*inds)[i], p, problems);
      ir.allow({"code", "name", "name_en", "unit", "type", "decimals", "required", "min", "max", "aggregate",
                "weight"});
      Indicator ind;
      ind.code = ir.str("code", true);
      ind.name = ir.str("name", true);
      ind.name_en = ir.str("name_en", false, ind.name);
      ind.unit = ir.str("unit", false);
      std::string type = ir.str("type", false, "number");
      if (type == "number") ind.type = IndicatorType::number;
      else if (type == "integer") ind.type = IndicatorType::integer;
      else if (type == "text") ind.type = IndicatorType::text;
      else ir.fail(p + "/type", "应为 number、integer 或 text / must be number, integer or text");
      ind.decimals = ir.integer("decimals", ind.type == IndicatorType::integer ? 0 : 2, 0, 6);
      ind.required = ir.boolean("required", false);
      ind.min = ir.number("min");
      ind.max = ir.number("max");
      std::string agg = ir.str("aggregate", false, "sum");
      if (agg == "sum") ind.aggregate = Aggregate::sum;
      else if (agg == "mean") ind.aggregate = Aggregate::mean;
      else if (agg == "weighted_mean") ind.aggregate = Aggregate::weighted_mean;
      else ir.fail(p + "/aggregate", "应为 sum、mean 或 weighted_mean / must be sum, mean or weighted_mean");
      ind.weight = ir.str("weight", false);
      if (ind.aggregate == Aggregate::weighted_mean && ind.weight.empty()) {
        ir.fail(p + "/weight", "加权平均需要权数指标 / a weighted mean needs a weight indicator");
      }
      if (ind.aggregate != Aggregate::weighted_mean && !ind.weight.empty()) {
        ir.fail(p + "/weight", "只有加权平均才有权数 / only a weighted mean has a weight");
      }
      if (ind.type == IndicatorType::text && ind.aggregate != Aggregate::sum) {
        ir.fail(p + "/aggregate", "文本指标不汇总 / text indicators are not aggregated");
      }
      if (!ind.code.empty() && !valid_code(ind.code)) {
        ir.fail(p + "/code", "指标代码只能含字母、数字和下划线，且以字母开头 / indicator codes are letters, digits and _, starting with a letter");
      }
      if (!codes.insert(ind.code).second) ir.fail(p + "/code", "指标代码重复 / duplicate indicator code");
      f.indicators.push_back(std::move(ind));
    }
    if (inds->empty()) r.fail("/indicators", "至少需要一个指标 / at least one indicator is needed");
    for (std::size_t i = 0; i < f.indicators.size(); ++i) {
      const Indicator& ind = f.indicators[i];
      if (ind.weight.empty()) continue;
      const Indicator* w = nullptr;
      for (const auto& o : f.indicators) {
        if (o.code == ind.weight) w = &o;
      }
      if (w == nullptr || w->type == IndicatorType::text || w->code == ind.code) {
        r.fail(fmt::format("/indicators/{}/weight", i),
               "权数应为本表的另一个数值指标 / the weight must be another numeric indicator of the form");
      }
    }
  }

  if (j.is_object() && j.contains("layout")) {
    f.layout = j.at("layout");
    Reader lr(f.layout, "/layout", problems);
    lr.allow({"columns", "rows"});
    std::set<std::string> col_keys;
    if (const json* cols = lr.array("columns", true)) {
      for (std::size_t i = 0; i < cols->size(); ++i) {
        Reader cr((*cols)[i], fmt::format("/layout/columns/{}", i), problems);
        cr.allow({"key", "label", "label_en", "reference"});
        col_keys.insert(cr.str("key", true));
        cr.str("label", true);
        cr.str("label_en", false);
        cr.str("reference", false);
      }
    }
    if (const json* rows = lr.array("rows", true)) {
      for (std::size_t i = 0; i < rows->size(); ++i) {
        std::string p = fmt::format("/layout/rows/{}", i);
        Reader rr((*rows)[i], p, problems);
        rr.allow({"code", "name", "name_en", "unit", "cells"});
        rr.str("code", false);
        rr.str("name", true);
        rr.str("name_en", false);
        rr.str("unit", false);
        const json& row = (*rows)[i];
        if (row.is_object() && row.contains("cells")) {
          const json& cells = row.at("cells");
          if (!cells.is_object()) {
            rr.fail(p + "/cells", "应为对象 / must be an object");
            continue;
          }
          for (auto it = cells.begin(); it != cells.end(); ++it) {
            if (!col_keys.count(it.key())) rr.fail(p + "/cells/" + it.key(), "未定义的栏 / unknown column");
            if (!it.value().is_string() || !codes.count(it.value().get<std::string>())) {
              rr.fail(p + "/cells/" + it.key(), "未定义的指标 / unknown indicator");
            }
          }
        }
      }
    }
  } else {
    f.layout = json{{"columns", json::array()}, {"rows", json::array()}};
  }

  std::set<std::string> rule_names;
  if (const json* rules = r.array("rules", false)) {
    for (std::size_t i = 0; i < rules->size(); ++i) {
      std::string p = fmt::format("/rules/{}", i);
      Reader rr((*rules)[i], p, problems);
      rr.allow({"name", "severity", "expr", "message", "message_en"});
      RuleDef rd;
      rd.name = rr.str("name", true);
      rd.severity = rr.str("severity", true);
      rd.expr = rr.str("expr", true);
      rd.message = rr.str("message", true);
      rd.message_en = rr.str("message_en", false);
      if (rd.severity != "error" && rd.severity != "warning") {
        rr.fail(p + "/severity", "应为 error 或 warning / must be error or warning");
      }
      if (!rule_names.insert(rd.name).second) rr.fail(p + "/name", "规则名称重复 / duplicate rule name");
      f.rules.push_back(std::move(rd));
    }
  }

  if (j.is_object() && j.contains("applies_to")) {
    Reader ar(j.at("applies_to"), "/applies_to", problems);
    ar.allow({"industries", "sizes", "units"});
    if (const json* a = ar.array("industries", false)) {
      for (const auto& x : *a) {
        if (x.is_string()) f.applies_to.industry_prefixes.push_back(x.get<std::string>());
        else ar.fail("/applies_to/industries", "应为字符串数组 / must be strings");
      }
    }
    if (const json* a = ar.array("sizes", false)) {
      for (const auto& x : *a) {
        if (x.is_number_integer() && x.get<int>() >= 1 && x.get<int>() <= 4) f.applies_to.sizes.push_back(x.get<int>());
        else ar.fail("/applies_to/sizes", "应为1-4的整数 / must be integers 1-4");
      }
    }
    if (const json* a = ar.array("units", false)) {
      for (const auto& x : *a) {
        if (x.is_string()) f.applies_to.units.push_back(x.get<std::string>());
        else ar.fail("/applies_to/units", "应为字符串数组 / must be strings");
      }
    }
  }

  if (!problems.empty()) return form_error(problems);
  return f;
}

json form_to_json(const FormDef& f) {
  json inds = json::array();
  for (const auto& i : f.indicators) {
    json o = {{"code", i.code}, {"name", i.name}, {"name_en", i.name_en}, {"unit", i.unit},
              {"type", i.type == IndicatorType::number ? "number" : i.type == IndicatorType::integer ? "integer" : "text"},
              {"decimals", i.decimals}, {"required", i.required}};
    if (i.aggregate != Aggregate::sum) {
      o["aggregate"] = i.aggregate == Aggregate::mean ? "mean" : "weighted_mean";
      if (!i.weight.empty()) o["weight"] = i.weight;
    }
    o["min"] = i.min ? json(*i.min) : json(nullptr);
    o["max"] = i.max ? json(*i.max) : json(nullptr);
    inds.push_back(std::move(o));
  }
  json rules = json::array();
  for (const auto& r : f.rules) {
    rules.push_back({{"name", r.name}, {"severity", r.severity}, {"expr", r.expr}, {"message", r.message},
                     {"message_en", r.message_en}});
  }
  return {{"code", f.code},
          {"version", f.version},
          {"name", f.name},
          {"name_en", f.name_en},
          {"frequency", frequency_name(f.frequency)},
          {"deadline", {{"day", f.deadline_day}, {"hour", f.deadline_hour}}},
          {"tolerance", f.tolerance},
          {"indicators", inds},
          {"layout", f.layout},
          {"rules", rules},
          {"applies_to",
           {{"industries", f.applies_to.industry_prefixes}, {"sizes", f.applies_to.sizes}, {"units", f.applies_to.units}}}};
}

bool form_applies(const FormDef& f, std::string_view industry_code, std::string_view industry_section,
                  int size, std::string_view uscc) {
  const auto& a = f.applies_to;
  if (std::find(a.units.begin(), a.units.end(), uscc) != a.units.end()) return true;
  bool industry_ok = a.industry_prefixes.empty() ||
                     std::any_of(a.industry_prefixes.begin(), a.industry_prefixes.end(), [&](const std::string& p) {
                       if (p.size() == 1 && std::isalpha(static_cast<unsigned char>(p[0]))) return industry_section == p;
                       return industry_code.substr(0, p.size()) == p;
                     });
  bool size_ok = a.sizes.empty() || std::find(a.sizes.begin(), a.sizes.end(), size) != a.sizes.end();
  return industry_ok && size_ok;
}

Status check_values(const FormDef& f, const json& values, bool complete) {
  if (!values.is_object()) {
    return make_error(ErrorKind::invalid, "VALUES_INVALID", "values 应为对象（指标代码→数值）",
                      "values must be an object (indicator code -> value)");
  }
  json details = json::array();
  auto add = [&](const std::string& code, const char* err, std::string zh, std::string en) {
    details.push_back({{"indicator", code}, {"code", err}, {"message", std::move(zh)}, {"message_en", std::move(en)}});
  };
  for (auto it = values.begin(); it != values.end(); ++it) {
    const Indicator* ind = f.find(it.key());
    if (!ind) {
      add(it.key(), "UNKNOWN_INDICATOR", "表中没有指标 " + it.key(), "The form has no indicator " + it.key());
      continue;
    }
    const json& v = it.value();
    if (v.is_null()) continue;
    if (ind->type == IndicatorType::text) {
      if (!v.is_string()) add(ind->code, "WRONG_TYPE", ind->name + " 应为文本", ind->name_en + " must be text");
      else if (v.get<std::string>().size() > 2000) add(ind->code, "OUT_OF_RANGE", ind->name + " 过长", ind->name_en + " is too long");
      continue;
    }
    if (!v.is_number()) {
      add(ind->code, "WRONG_TYPE", ind->name + " 应为数值", ind->name_en + " must be a number");
      continue;
    }
    double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 1e15) {
      add(ind->code, "OUT_OF_RANGE", ind->name + " 数值超出范围", ind->name_en + " is out of range");
      continue;
    }
    double scale = std::pow(10.0, ind->decimals);
    if (std::fabs(d * scale - std::round(d * scale)) > 1e-6 * std::max(1.0, std::fabs(d * scale))) {
      add(ind->code, "TOO_MANY_DECIMALS", fmt::format("{} 最多保留 {} 位小数", ind->name, ind->decimals),
          fmt::format("{} allows at most {} decimals", ind->name_en, ind->decimals));
    }
    if (ind->min && d < *ind->min) {
      add(ind->code, "OUT_OF_RANGE", fmt::format("{} 不能小于 {}", ind->name, *ind->min),
          fmt::format("{} cannot be less than {}", ind->name_en, *ind->min));
    }
    if (ind->max && d > *ind->max) {
      add(ind->code, "OUT_OF_RANGE", fmt::format("{} 不能大于 {}", ind->name, *ind->max),
          fmt::format("{} cannot be greater than {}", ind->name_en, *ind->max));
    }
  }
  if (complete) {
    for (const auto& ind : f.indicators) {
      if (ind.required && (!values.contains(ind.code) || values.at(ind.code).is_null())) {
        add(ind.code, "REQUIRED", ind.name + " 为必填项", ind.name_en + " is required");
      }
    }
  }
  if (details.empty()) return Ok{};
  const json& first = details.front();
  return make_error(ErrorKind::invalid, "VALUES_INVALID", "填报数据有误：" + first["message"].get<std::string>(),
                    "Invalid values: " + first["message_en"].get<std::string>(), details);
}

}  // namespace statgov::domain
