// SDMX 2.1 for published datasets: the REST data query (key grammar, periods, packaging),
// content negotiation, and the writers for SDMX-JSON 1.0 data, SDMX-CSV 1.0, SDMX-ML 2.1 generic
// and structure-specific data, and structures (dataflow, datastructure, codelist) as SDMX-ML 2.1
// and SDMX-JSON. Pure functions over a Dataset; no I/O. The portal maps the errors to HTTP.
//
// The structure every dataset gets (agency A, dataset id X, version V):
//   dataflow A:X(V) -> datastructure A:DSD_X(V) with the dataset's dimensions in order,
//   TIME_PERIOD as the TimeDimension, primary measure OBS_VALUE, and two conditional
//   observation-level attributes: OBS_STATUS (codelist A:CL_OBS_STATUS, M = missing) and
//   OBS_CONF (A:CL_OBS_CONF, C = confidential, i.e. suppressed). Each coded dimension D uses
//   codelist A:CL_D_X(V); concepts live in concept scheme A:CS_X(V).
#pragma once

#include "base/result.hpp"
#include "publish/dataset.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace statgov::publish {

struct DataQuery {
  std::vector<std::vector<std::string>> key;  // one entry per non-time dimension; empty = wildcard
  std::string start_period, end_period;       // "" = open
  std::string dimension_at_observation = "TIME_PERIOD";  // or "AllDimensions" or a dimension id
  std::string detail = "full";  // full | dataonly | serieskeysonly | nodata
};

// Key "all" or "" = everything; otherwise exactly (non-time dimensions) parts separated by '.',
// an empty part is a wildcard, '+' separates alternatives. Unknown codes just match nothing.
// params: startPeriod, endPeriod, dimensionAtObservation, detail (others are ignored).
// Bad syntax -> Error{invalid, "BAD_QUERY"}.
Result<DataQuery> parse_data_query(const Dataset& d, std::string_view key,
                                   const std::map<std::string, std::string>& params);

// Observation indexes matching the query, in dataset order. A period filter keeps observations
// whose whole period lies within [start of startPeriod, end of endPeriod].
std::vector<std::size_t> select(const Dataset& d, const DataQuery& q);

enum class DataFormat { sdmx_json, sdmx_csv, sdmx_ml_generic, sdmx_ml_structure_specific };
enum class StructureFormat { sdmx_ml, sdmx_json };

// Accept header negotiation (q-values, type/* and */* wildcards, q=0 excludes; empty = the first
// offer). Returns the format and the Content-Type to send. Nothing acceptable ->
// Error{invalid, "NOT_ACCEPTABLE"} (the portal answers 406 with Vary: Accept).
Result<std::pair<DataFormat, std::string>> negotiate_data(std::string_view accept);
Result<std::pair<StructureFormat, std::string>> negotiate_structure(std::string_view accept);

// Data messages. `sel` comes from select(); `prepared_utc` is "YYYY-MM-DDThh:mm:ssZ";
// `lang` ("zh"/"en") picks the names in SDMX-JSON.
std::string write_sdmx_json_data(const Dataset& d, const std::vector<std::size_t>& sel,
                                 const DataQuery& q, std::string_view prepared_utc,
                                 std::string_view lang);
std::string write_sdmx_csv(const Dataset& d, const std::vector<std::size_t>& sel,
                           const DataQuery& q);
std::string write_sdmx_ml_generic(const Dataset& d, const std::vector<std::size_t>& sel,
                                  const DataQuery& q, std::string_view prepared_utc);
std::string write_sdmx_ml_structure_specific(const Dataset& d, const std::vector<std::size_t>& sel,
                                             const DataQuery& q, std::string_view prepared_utc);

enum class StructureKind { dataflow, datastructure, codelist };

// Structure messages for the given datasets. with_children = references=children: a dataflow
// query also returns its DSD; a datastructure query its codelists and concept scheme.
std::string write_structure_xml(const std::vector<const Dataset*>& ds, StructureKind kind,
                                bool with_children, std::string_view prepared_utc);
std::string write_structure_json(const std::vector<const Dataset*>& ds, StructureKind kind,
                                 bool with_children, std::string_view prepared_utc);

// The same, keeping only top-level artefacts whose id is `only_id` (e.g. /rest/codelist/A/CL_X/1.0
// answers one codelist although the caller passes the datasets that hold it). "" = no filter.
std::string write_structure_xml(const std::vector<const Dataset*>& ds, StructureKind kind,
                                bool with_children, std::string_view prepared_utc,
                                std::string_view only_id);
std::string write_structure_json(const std::vector<const Dataset*>& ds, StructureKind kind,
                                 bool with_children, std::string_view prepared_utc,
                                 std::string_view only_id);

// The ids of the codelists a dataset's structure uses: CL_<dim>_<id> for each coded dimension,
// then CL_OBS_STATUS and CL_OBS_CONF. For routing /rest/codelist/{agency}/{id} to datasets.
std::vector<std::string> codelist_ids(const Dataset& d);

// Shortest decimal text that reads back as the same double ("1234.5", "0.1", "1e+21").
std::string format_double(double v);

}  // namespace statgov::publish
