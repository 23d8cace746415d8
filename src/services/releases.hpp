// The internal side of publication (docs/publication.md section 5): the release calendar, preparing
// a release's datasets from accepted reports with disclosure control, the pre-release list and
// embargo, the publisher's sign-off that signs and exports the package, and the 政务公开 catalogue.
// Nothing here is reachable from the portal: packages leave as files.
//
// Thread safety: stateless over the Store, services and Clock it is given (the config is set at
// construction); callable from any thread. State changes are checked again inside the write
// transaction, so two sign-offs of one release cannot both succeed.
#pragma once

#include "base/clock.hpp"
#include "cube/disclosure.hpp"
#include "publish/dataset.hpp"
#include "services/auth.hpp"
#include "services/catalog.hpp"
#include "services/forms.hpp"
#include "services/summary.hpp"
#include "store/store.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace statgov::services {

struct ReleaseConfig {
  std::string secret_key;  // raw 64-byte Ed25519 secret key; empty: sign-off is refused
  std::string export_dir;  // where signed packages are written; empty: stored only
  // The portal's built front end (web/dist-portal): when set, every package carries it under
  // site/, so the pages the portal serves are signed content too.
  std::string site_dir;
  cube::DisclosureParams disclosure;
};

class ReleaseService {
 public:
  ReleaseService(store::Store& store, FormService& forms, Catalog& catalog, SummaryService& summary,
                 AuthService& auth, const Clock& clock, ReleaseConfig config = {})
      : store_(store),
        forms_(forms),
        catalog_(catalog),
        summary_(summary),
        auth_(auth),
        clock_(clock),
        config_(std::move(config)) {}

  Result<json> list(const Actor& a);
  Result<json> create(const Actor& a, const json& body);
  Result<json> get(const Actor& a, const std::string& id);
  Result<json> update(const Actor& a, const std::string& id, const json& body);
  Result<json> prepare(const Actor& a, const std::string& id);
  Result<json> preview(const Actor& a, const std::string& id);
  Result<json> signoff(const Actor& a, const std::string& id, const json& body);

  struct PackageFile {
    std::string name, bytes;
  };
  Result<PackageFile> package(const Actor& a, const std::string& id);
  // For the demo and the operator: the same steps without a role or password check; `actor` is
  // what the audit log records.
  Result<json> prepare_by(const std::string& actor, const std::string& id);
  Result<json> sign_by(const std::string& actor, const std::string& id);
  // For `statgov release export`: writes the stored package of a signed release into dir
  // (atomically) and returns the file's path. No role check: the operator runs it on the server.
  Result<std::string> export_package(const std::string& id, const std::string& dir);

  Result<json> list_documents(const Actor& a, const std::string& q, const std::string& category);
  Result<json> create_document(const Actor& a, const json& body);
  Result<json> get_document(const Actor& a, const std::string& index_no);
  Result<json> update_document(const Actor& a, const std::string& index_no, const json& body);

  const ReleaseConfig& config() const { return config_; }

 private:
  Result<json> release_json(const store::ReleaseRow& r);
  Status check_figures_visible(const Actor& a, const store::ReleaseRow& r);

  store::Store& store_;
  FormService& forms_;
  Catalog& catalog_;
  SummaryService& summary_;
  AuthService& auth_;
  const Clock& clock_;
  ReleaseConfig config_;
};

// "2026-12-15T09:30+08:00" (seconds, if given, must be 00; an offset or Z is required) -> the UTC
// minute "2026-12-15T01:30:00Z". Errors: invalid_argument BAD_RELEASE_AT.
Result<std::string> parse_release_minute(std::string_view text);

// The datasets of one release from accepted rows (pure; unit-tested on its own). tables:
// [{by: county|section|size, indicators: [codes]}]; city12: the publishing city; updated: the
// release minute (UTC).
Result<std::vector<publish::Dataset>> build_release_datasets(
    const PublicationRows& rows, const Catalog& catalog, const std::string& city12,
    const json& tables, const std::string& updated, const cube::DisclosureParams& params);

// SDMX time period id of a domain period string: 2026M11 -> 2026-11, 2026Q3 -> 2026-Q3.
std::string sdmx_period(const std::string& period);

}  // namespace statgov::services
