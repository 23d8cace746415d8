// Users, roles and scopes (DESIGN.md section 3). A scope is a region subtree, or one unit for
// an enterprise reporter. The store filters every query by it.
#pragma once

#include "domain/codes.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace statgov::domain {

enum class Role { enterprise, township, county, city, leader, publisher, provider, admin };
std::string_view role_name(Role r);
std::optional<Role> parse_role(std::string_view s);

struct User {
  std::int64_t id = 0;
  std::string login;
  std::string name;
  Role role = Role::enterprise;
  std::string region;                 // 12-digit code of the scope's root
  std::optional<std::int64_t> unit_id;  // set for enterprise reporters only
  bool disabled = false;
};

// What a user may see: one unit, or a region subtree (prefix of the 12-digit code).
struct Scope {
  std::optional<std::int64_t> unit_id;
  std::string region_prefix;  // "" = everything

  static Scope of(const User& u);
  bool covers_region(std::string_view region12) const {
    return region12.substr(0, region_prefix.size()) == region_prefix;
  }
};

bool is_staff(Role r);

}  // namespace statgov::domain
