// Canonical JSON (RFC 8785, JSON Canonicalization Scheme): the exact bytes a signature covers.
// A browser reproduces them with JSON.stringify for numbers and strings and keys sorted by UTF-16
// code units (docs/signatures.md). Nothing here depends on other layers than base.
#pragma once

#include "base/result.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace statgov::security {

// UTF-8 bytes of the canonical form. Fails (BAD_JSON_VALUE) on a non-finite number.
Result<std::string> canonical_json(const nlohmann::json& value);

// ECMAScript Number::toString of a finite double (shortest round trip: 1, 0.1, 1e+21, 1.5e-7).
std::string ecma_number(double d);

}  // namespace statgov::security
