// JSON-stat 2.0 (https://json-stat.org/format/) dataset responses for the portal's
// /api/v1/datasets/{id}/data?format=jsonstat. Pure function over a Dataset; no I/O.
#pragma once

#include "publish/dataset.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace statgov::publish {

// A JSON-stat 2.0 "dataset": the dimensions keep only the categories the selection uses (all of
// them when the selection is empty), `value` is dense in row-major order (last dimension fastest)
// with null for cells absent from the selection, and its length equals the product of `size`.
// Suppressed and missing cells carry status "C" / "M" (object keyed by the value index). Units:
// category.unit on the metric dimension when there is one, and always extension.unit plus a note.
//
// Past kMaxDenseCells cells (product of `size`), `value` and `status` use JSON-stat's object form
// keyed by the value index instead, so a sparse table cannot blow up into millions of nulls.
inline constexpr std::size_t kMaxDenseCells = 2'000'000;
nlohmann::json write_jsonstat(const Dataset& d, const std::vector<std::size_t>& sel,
                              std::string_view lang);

}  // namespace statgov::publish
