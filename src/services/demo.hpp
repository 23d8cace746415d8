// The demo database: real reference data, the shipped forms, synthetic units spread over the
// real townships and industry classes of one city, 13 months of accepted history, one account
// per role. Demo only: the passwords are printed in the README.
#pragma once

#include "base/clock.hpp"
#include "services/auth.hpp"
#include "services/catalog.hpp"
#include "services/forms.hpp"
#include "store/store.hpp"

#include <string>

namespace statgov::services {

struct DemoOptions {
  std::string data_dir = "data";
  std::string city = "4302";  // region prefix the units are spread over
  int units = 5000;
  int history_months = 13;
  std::uint64_t seed = 2026;
  std::string password = "Statgov@2026";
  security::HashCost hash_cost = security::HashCost::interactive();
  // Publication: with a key, the releases whose minute has passed are prepared and signed (the
  // packages go to export_dir if set), so that a portal has something to show.
  std::string release_secret_key;  // raw Ed25519 secret key; empty = calendar only
  std::string export_dir;
  std::string site_dir;  // the portal's front end, carried in the newest package
};

struct DemoReport {
  int units = 0;
  int submissions = 0;
  int users = 0;
  int releases = 0, packages = 0, documents = 0;
};

// Loads reference data and forms from data_dir, then generates the demo. The store must be empty
// of units.
Result<DemoReport> build_demo(store::Store& store, Catalog& catalog, FormService& forms, const Clock& clock,
                              const DemoOptions& opt);

// Imports every data_dir/forms/*.json whose code is not stored yet.
Status import_shipped_forms(FormService& forms, const std::string& data_dir, const std::string& actor);

}  // namespace statgov::services
