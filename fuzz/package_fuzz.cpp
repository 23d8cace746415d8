// libFuzzer target for what the public portal reads from outside: release packages
// (open_package), the datasets inside them (dataset_from_json) and SDMX REST keys and query
// parameters (parse_data_query + select + the writers). None may crash, hang or throw.
//
// The first byte picks the mode: 0 package bytes, 1 dataset JSON, 2 an SDMX key and parameters
// (split on '\x01'; "name=value") against the sample dataset. The key below is the public half of a
// pair made once for the seed corpus; its secret half was thrown away.
#include "base/crypto.hpp"
#include "publish/dataset.hpp"
#include "publish/jsonstat.hpp"
#include "publish/package.hpp"
#include "publish/sdmx.hpp"
#include "publish/tabular.hpp"

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

namespace {

const char* const kPublicKey = "G5kqMPmEBsRXeadrWflGDUTMObFkv78WpaVvTPmgE8k=";

const statgov::publish::Dataset& sample() {
  static const statgov::publish::Dataset d = [] {
    std::ifstream in(std::string(STATGOV_SOURCE_DIR) + "/src/publish/testdata/sample.json");
    auto j = nlohmann::json::parse(in, nullptr, false);
    auto r = statgov::publish::dataset_from_json(j);
    if (!r.ok()) std::abort();
    return std::move(r).value();
  }();
  return d;
}

void write_all(const statgov::publish::Dataset& d, const std::vector<std::size_t>& sel,
               const statgov::publish::DataQuery& q) {
  using namespace statgov::publish;
  (void)write_sdmx_json_data(d, sel, q, "2026-11-26T00:00:00Z", "en");
  (void)write_sdmx_csv(d, sel, q);
  (void)write_sdmx_ml_generic(d, sel, q, "2026-11-26T00:00:00Z");
  (void)write_sdmx_ml_structure_specific(d, sel, q, "2026-11-26T00:00:00Z");
  (void)write_jsonstat(d, sel, "zh");
  (void)write_csv(d, sel, "zh");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace statgov::publish;
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: {
      static const std::string key = parse_public_key(kPublicKey).value();
      auto p = open_package(rest, key);
      if (p.ok()) {
        for (const auto& [path, bytes] : p->files) {
          if (!safe_package_path(path)) std::abort();  // a verified package holds safe paths only
          if (path.rfind("datasets/", 0) == 0) {
            auto j = nlohmann::json::parse(bytes, nullptr, false);
            (void)dataset_from_json(j);
          }
        }
      }
      break;
    }
    case 1: {
      auto j = nlohmann::json::parse(rest, nullptr, false);
      auto d = dataset_from_json(j);
      if (d.ok()) {
        DataQuery q;
        std::vector<std::size_t> sel = select(*d, q);
        write_all(*d, sel, q);
        (void)dataset_to_json(*d);
      }
      break;
    }
    default: {
      std::map<std::string, std::string> params;
      std::size_t start = rest.find('\x01');
      const std::string_view key = rest.substr(0, start);
      while (start != std::string_view::npos) {
        const std::size_t next = rest.find('\x01', start + 1);
        const std::string_view kv = rest.substr(start + 1, next == std::string_view::npos ? std::string_view::npos : next - start - 1);
        const std::size_t eq = kv.find('=');
        if (eq != std::string_view::npos) params[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
        start = next;
      }
      auto q = parse_data_query(sample(), key, params);
      if (q.ok()) write_all(sample(), select(sample(), *q), *q);
      break;
    }
  }
  return 0;
}
