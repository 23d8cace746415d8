// Real-time monitoring (实时监测): progress figures by region or 门类 and the units still missing,
// always inside the caller's scope. Overdue is computed from the deadline, never stored.
//
// Thread safety: stateless over Store, FormService, Catalog and Clock; callable from any thread.
#pragma once

#include "services/reporting.hpp"

namespace statgov::services {

struct MonitorQuery {
  std::string form, period;
  std::string region;          // 12 digits; empty = the caller's root
  std::string by = "region";   // region | section
};

// A unit that owes the form, with its submission state (if any).
struct Obligation {
  store::UnitRow unit;
  std::string section;
  std::string state = "not_started";
  std::string first_submitted_at;
  int version = 0, errors = 0, warnings = 0;
  std::string updated_at;
};

class MonitorService {
 public:
  MonitorService(store::Store& store, FormService& forms, Catalog& catalog, const Clock& clock)
      : store_(store), forms_(forms), catalog_(catalog), clock_(clock) {}

  Result<json> progress(const Actor& a, const MonitorQuery& q);
  Result<json> missing(const Actor& a, const MonitorQuery& q);

  // Every unit in the region that owes the form for the period, with its state. Checks the role
  // and that the region lies inside the caller's scope.
  struct Obligations {
    FormPtr form;
    domain::Period period = domain::Period::year(2000);
    domain::RegionCode root = domain::RegionCode::parse("11").value();
    TimePoint deadline;
    std::vector<Obligation> items;
  };
  Result<Obligations> obligations(const Actor& a, const MonitorQuery& q);

 private:
  store::Store& store_;
  FormService& forms_;
  Catalog& catalog_;
  const Clock& clock_;
};

bool is_sent_state(std::string_view state);

}  // namespace statgov::services
