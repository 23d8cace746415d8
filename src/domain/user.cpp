#include "domain/user.hpp"

#include <array>
#include <utility>

namespace statgov::domain {

namespace {
constexpr std::array<std::pair<Role, std::string_view>, 8> kRoles = {{
    {Role::enterprise, "enterprise"},
    {Role::township, "township"},
    {Role::county, "county"},
    {Role::city, "city"},
    {Role::leader, "leader"},
    {Role::publisher, "publisher"},
    {Role::provider, "provider"},
    {Role::admin, "admin"},
}};
}  // namespace

std::string_view role_name(Role r) {
  for (const auto& [role, name] : kRoles) {
    if (role == r) return name;
  }
  return "";
}

std::optional<Role> parse_role(std::string_view s) {
  for (const auto& [role, name] : kRoles) {
    if (name == s) return role;
  }
  return std::nullopt;
}

bool is_staff(Role r) { return r != Role::enterprise; }

Scope Scope::of(const User& u) {
  Scope s;
  if (u.role == Role::enterprise) {
    // NOTE: an enterprise account without a unit sees nothing: unit id 0 never exists.
    s.unit_id = u.unit_id.value_or(0);
  }
  auto rc = RegionCode::parse(u.region);
  s.region_prefix = rc.ok() ? rc->significant() : std::string("-");  // unparsable: matches nothing
  return s;
}

}  // namespace statgov::domain
