#include "services/forms.hpp"

#include "store/repos.hpp"

namespace statgov::services {

Result<FormPtr> compile_form(const nlohmann::json& definition) {
  SG_ASSIGN_OR_RETURN(auto def, domain::parse_form(definition));
  std::vector<rules::RuleSpec> specs;
  for (const auto& r : def.rules) {
    specs.push_back({r.name, r.severity == "warning" ? rules::Severity::warning : rules::Severity::error, r.expr,
                     r.message, r.message_en});
  }
  std::set<std::string, std::less<>> known;
  for (const auto& i : def.indicators) known.insert(i.code);
  rules::CompileOptions opt;
  opt.tolerance = def.tolerance;
  SG_ASSIGN_OR_RETURN(auto rs, rules::RuleSet::compile(specs, known, opt));
  auto cf = std::make_shared<CompiledForm>();
  cf->def = std::move(def);
  cf->rules = std::move(rs);
  return FormPtr(std::move(cf));
}

Result<FormPtr> FormService::import(const nlohmann::json& definition, const std::string& actor) {
  nlohmann::json def = definition;
  bool explicit_version = def.is_object() && def.contains("version");
  if (!explicit_version && def.is_object()) def["version"] = 1;
  SG_ASSIGN_OR_RETURN(auto compiled, compile_form(def));
  auto now = format_utc(clock_.now());
  std::string code = compiled->def.code;
  SG_ASSIGN_OR_RETURN(int version, store_.write([&](store::Conn& c) -> Result<int> {
    SG_ASSIGN_OR_RETURN(auto latest, store::find_form(c, code, 0));
    int v = compiled->def.version;
    if (!explicit_version) v = latest ? latest->version + 1 : 1;
    SG_ASSIGN_OR_RETURN(auto same, store::find_form(c, code, v));
    if (same) {
      return make_error(ErrorKind::conflict, "FORM_VERSION_EXISTS",
                        "表式 " + code + " 第 " + std::to_string(v) + " 版已存在，已发布的版本不可修改",
                        "Form " + code + " version " + std::to_string(v) + " exists; published versions are immutable");
    }
    auto stored = def;
    stored["version"] = v;
    SG_TRY(store::insert_form(c, {code, v, stored, now, actor}));
    SG_TRY(store::append_audit(c, now, actor, "form_import", "form:" + code, {{"version", v}}));
    return v;
  }));
  return get(code, version);
}

Result<FormPtr> FormService::get(const std::string& code, int version) {
  // A given version never changes once imported: a cached one needs no connection.
  if (version > 0)
    if (FormPtr f = cached(code, version)) return f;
  return store_.read([&](store::Conn& c) { return get(c, code, version); });
}

FormPtr FormService::cached(const std::string& code, int version) {
  std::lock_guard lock(mu_);
  auto it = cache_.find({code, version});
  return it == cache_.end() ? nullptr : it->second;
}

Result<FormPtr> FormService::get(store::Conn& c, const std::string& code, int version) {
  if (version <= 0) {
    // Which version is the latest is asked of the database every time (another process may have
    // imported a newer one), but its definition is read, parsed and compiled only once: reading
    // and parsing it on every submit took about a third of the server's CPU (issue #6 profile).
    SG_ASSIGN_OR_RETURN(auto latest, store::latest_form_version(c, code));
    if (!latest) {
      return make_error(ErrorKind::not_found, "FORM_NOT_FOUND", "没有该表式：" + code, "No such form: " + code);
    }
    version = *latest;
  }
  if (FormPtr f = cached(code, version)) return f;
  SG_ASSIGN_OR_RETURN(auto row, store::find_form(c, code, version));
  if (!row) {
    return make_error(ErrorKind::not_found, "FORM_NOT_FOUND", "没有该表式：" + code, "No such form: " + code);
  }
  SG_ASSIGN_OR_RETURN(auto compiled, compile_form(row->definition));
  std::lock_guard lock(mu_);
  // Two threads may have compiled the same version at once: keep the first, so every caller
  // shares one compiled form.
  return cache_.emplace(std::make_pair(row->code, row->version), compiled).first->second;
}

Result<std::vector<FormPtr>> FormService::latest() {
  SG_ASSIGN_OR_RETURN(auto rows, store_.read([](store::Conn& c) { return store::latest_forms(c); }));
  std::vector<FormPtr> out;
  for (const auto& r : rows) {
    SG_ASSIGN_OR_RETURN(auto f, get(r.code, r.version));
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace statgov::services
