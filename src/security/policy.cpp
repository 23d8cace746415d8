#include "security/policy.hpp"

namespace statgov::security {

using domain::Role;

Status authorize(const domain::User& u, Action a) {
  bool ok = false;
  switch (a) {
    case Action::report:
      // Township staff may fill in on behalf of a unit (代报), as the paper process allowed.
      ok = u.role == Role::enterprise || u.role == Role::township || u.role == Role::county ||
           u.role == Role::city || u.role == Role::admin;
      break;
    case Action::view_units:
    case Action::view_submissions:
      ok = u.role != Role::enterprise && u.role != Role::provider && u.role != Role::publisher;
      break;
    case Action::edit_units:
      ok = u.role == Role::township || u.role == Role::county || u.role == Role::city || u.role == Role::admin;
      break;
    case Action::manage_forms:
      ok = u.role == Role::city || u.role == Role::admin;
      break;
    case Action::manage_users:
      ok = u.role == Role::admin;
      break;
    case Action::publish:
      ok = u.role == Role::publisher || u.role == Role::admin;
      break;
    case Action::view_releases:
      ok = u.role == Role::publisher || u.role == Role::leader || u.role == Role::city || u.role == Role::admin;
      break;
  }
  if (u.disabled) ok = false;
  if (ok) return Ok{};
  return make_error(ErrorKind::forbidden, "FORBIDDEN", "您的角色无权执行此操作",
                    "Your role is not allowed to do this");
}

}  // namespace statgov::security
