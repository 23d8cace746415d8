// Form definitions with their compiled edit rules, cached per (code, version).
//
// Thread safety: the cache is guarded by mu_; CompiledForm objects are immutable and shared.
#pragma once

#include "base/clock.hpp"
#include "domain/form.hpp"
#include "rules/rule_set.hpp"
#include "store/store.hpp"

#include <map>
#include <memory>
#include <mutex>

namespace statgov::services {

struct CompiledForm {
  domain::FormDef def;
  rules::RuleSet rules;
};
using FormPtr = std::shared_ptr<const CompiledForm>;

// Parses and compiles a definition; rule syntax errors come back with line and column.
Result<FormPtr> compile_form(const nlohmann::json& definition);

class FormService {
 public:
  FormService(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Stores a new version. If "version" is absent, it becomes latest + 1; an explicit version
  // that exists already is a conflict (published versions are immutable).
  Result<FormPtr> import(const nlohmann::json& definition, const std::string& actor);
  Result<FormPtr> get(const std::string& code, int version = 0);  // 0 = latest
  // The same, reading on a connection the caller holds (inside Store::read_snapshot).
  Result<FormPtr> get(store::Conn& c, const std::string& code, int version = 0);
  Result<std::vector<FormPtr>> latest();

 private:
  store::Store& store_;
  const Clock& clock_;
  FormPtr cached(const std::string& code, int version);  // nullptr if not compiled yet

  std::mutex mu_;
  std::map<std::pair<std::string, int>, FormPtr> cache_;  // guarded by mu_
};

}  // namespace statgov::services
