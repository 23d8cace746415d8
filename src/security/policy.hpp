// The one policy function (DESIGN.md section 8): who may do what. Scope (which units) is applied
// by the store; this decides whether the role may perform the action at all.
#pragma once

#include "base/result.hpp"
#include "domain/user.hpp"

namespace statgov::security {

enum class Action {
  report,           // fill, save, submit a unit's forms
  view_units,       // read the unit directory
  edit_units,       // edit or import units
  manage_forms,     // import form definitions
  view_submissions, // read submissions (staff within scope)
  manage_users,
  publish,          // plan, prepare and export releases; edit the 政务公开 catalogue
  view_releases,    // read the release calendar and prepared releases before their minute
};

Status authorize(const domain::User& user, Action action);

}  // namespace statgov::security
