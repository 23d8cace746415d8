// A published dataset (docs/publication.md section 3): one table after disclosure control, with
// its dimensions, code lists and observations, in the form every open-data writer starts from.
// Lives here: the model, its JSON form, filtering by an SDMX key. Pure values; no I/O.
#pragma once

#include "base/result.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statgov::publish {

using json = nlohmann::json;

struct Code {
  std::string id;
  std::string name_zh, name_en;
  std::string parent;            // "" = top level
  std::string unit_zh, unit_en;  // "" = the dataset's unit
};

struct Dimension {
  std::string id;  // REGION, INDICATOR, ..., TIME_PERIOD (always last)
  std::string name_zh, name_en;
  std::string role;  // "geo", "metric", "time" or ""
  std::vector<Code> codes;
};

struct Observation {
  std::vector<std::uint32_t> key;  // one index per dimension, into its codes
  std::optional<double> value;     // none when suppressed or missing
  char status = 0;                 // 0 normal, 'C' confidential (suppressed), 'M' missing
};

struct Dataset {
  std::string id, agency, version = "1.0";
  std::string title_zh, title_en, description_zh, description_en;
  std::string unit_zh, unit_en, source_zh, source_en;
  int decimals = 1;
  std::string updated;  // ISO 8601 UTC, "...Z"
  std::vector<Dimension> dimensions;
  std::vector<Observation> observations;
};

// Parse and check (ids, key arity and ranges, TIME_PERIOD last, status/value agreement, no
// duplicate keys). Errors are invalid_argument with code BAD_DATASET and the first fault.
Result<Dataset> dataset_from_json(const json& j);
json dataset_to_json(const Dataset& d);

// The portal's plain filter (/api/v1/datasets/{id}/data?REGION=430202,430203&TIME_PERIOD=2026-11):
// a parameter named after a dimension lists the codes to keep, comma-separated (an empty value
// keeps all); other parameters (format, lang, ...) are ignored; unknown codes match nothing.
// Returns observation indexes in dataset order. A malformed code list -> Error{invalid,
// "BAD_QUERY"}.
Result<std::vector<std::size_t>> select_by_filter(const Dataset& d,
                                                  const std::map<std::string, std::string>& params);

// What a later version of a dataset changes in an earlier one (a correction, 数据修订): cells
// present in both, matched by their codes (not indexes: the code lists may differ), whose value
// or status differs, and the periods they fall in (in time order). Cells only in the later one
// are additions, not revisions. Datasets whose dimensions differ (a redesign) revise nothing.
struct Revision {
  std::size_t changed = 0, added = 0;
  std::vector<std::string> periods;
};
Revision compare_versions(const Dataset& earlier, const Dataset& later);

// The calendar span of an SDMX period, in days since 1970-01-01, both ends inclusive.
struct PeriodSpan {
  std::int64_t first_day = 0, last_day = 0;
};
// SDMX/ISO 8601 periods: YYYY, YYYY-A1, YYYY-Sn, YYYY-Tn, YYYY-Qn, YYYY-MM, YYYY-Mmm, YYYY-Wnn
// (ISO weeks), YYYY-MM-DD, YYYY-Dnnn; the '-' after the year may be left out as the SDMX REST
// pattern allows. nullopt for anything else ("2026-13", "2026-Q5", "abc", week 53 of a
// 52-week year).
std::optional<PeriodSpan> parse_period(std::string_view period);

// Lower-case "en" picks English labels; anything else (the default) Chinese.
bool is_english(std::string_view lang);
// The label of a code or dimension in a language, falling back to the other language, then the id.
const std::string& code_name(const Code& c, std::string_view lang);
const std::string& dimension_name(const Dimension& d, std::string_view lang);
// A code's unit in a language: its own if set, else the dataset's.
const std::string& code_unit(const Dataset& d, const Code& c, std::string_view lang);
// The index of the first dimension with this role ("metric", "geo", "time"), or -1.
int dimension_with_role(const Dataset& d, std::string_view role);

}  // namespace statgov::publish
