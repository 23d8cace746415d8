// libFuzzer target: JSON request bodies through the pure validators of src/domain. The input is
// parsed with nlohmann::json without exceptions (as api/common.cpp does), then
//  - given to domain::parse_form as a form definition (POST /api/v1/forms), and when that
//    succeeds, form_to_json -> parse_form must succeed again;
//  - given to domain::check_values against the shipped B204-1 form, as the whole body and as its
//    "values" member, both incomplete (draft) and complete (submit).
// Invariants: no crash, no sanitizer report, no uncaught exception.
#include "domain/form.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string_view>

#ifndef STATGOV_SOURCE_DIR
#define STATGOV_SOURCE_DIR "."
#endif

namespace {

using nlohmann::json;
using statgov::domain::FormDef;

const FormDef& shipped_form() {
  static const FormDef form = [] {
    const char* env = std::getenv("STATGOV_FORM");
    std::ifstream in(env ? env : STATGOV_SOURCE_DIR "/data/forms/B204-1.json");
    auto j = json::parse(in, nullptr, false);
    auto f = statgov::domain::parse_form(j);
    if (!f.ok()) std::abort();  // the shipped form must load; a broken setup is not a finding
    return *f;
  }();
  return form;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)shipped_form();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;

  auto f = statgov::domain::parse_form(j);
  if (f.ok()) {
    auto again = statgov::domain::parse_form(statgov::domain::form_to_json(*f));
    if (!again.ok()) std::abort();  // what parse_form accepted must survive its own round trip
  }

  const FormDef& form = shipped_form();
  for (bool complete : {false, true}) {
    (void)statgov::domain::check_values(form, j, complete);
    if (j.is_object() && j.contains("values")) (void)statgov::domain::check_values(form, j["values"], complete);
  }
  if (f.ok()) {
    for (bool complete : {false, true}) (void)statgov::domain::check_values(*f, j, complete);
  }
  return 0;
}
