// Result<T> and Error: how every expected failure travels (STYLE.md "Errors").
// Bad input, a failed rule, not found, a conflict: return an Error; never throw across modules.
// Only api/ turns an ErrorKind into an HTTP status. Nothing in base/ may depend on other layers.
#pragma once

#include <nlohmann/json.hpp>

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace statgov {

// The class of failure; api/ maps each to one HTTP status.
enum class ErrorKind {
  invalid,          // 400: malformed or wrong input
  unauthenticated,  // 401
  forbidden,        // 403: outside the caller's scope or role
  not_found,        // 404
  conflict,         // 409: state does not allow it, duplicate
  too_large,        // 413
  unprocessable,    // 422: well-formed but fails rules
  throttled,        // 429
  internal,         // 500: a bug
  unavailable,      // 503: the storage can't take writes now (disk full, read-only, busy)
};

struct Error {
  ErrorKind kind = ErrorKind::invalid;
  std::string code;        // stable machine code, e.g. "RULE_FAILED"
  std::string message;     // Simplified Chinese
  std::string message_en;  // English
  nlohmann::json details = nlohmann::json::array();

  Error with_detail(nlohmann::json d) && {
    details.push_back(std::move(d));
    return std::move(*this);
  }
};

inline Error make_error(ErrorKind kind, std::string code, std::string zh, std::string en,
                        nlohmann::json details = nlohmann::json::array()) {
  return Error{kind, std::move(code), std::move(zh), std::move(en), std::move(details)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok() && "value() on an error Result");
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok() && "value() on an error Result");
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok() && "value() on an error Result");
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    assert(!ok() && "error() on an ok Result");
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok() && "error() on an ok Result");
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};

// NOTE: an ok Status holds no Error: an Error's empty details are a JSON array, one allocation
// and one free, and a submit makes and drops Statuses by the hundred (issue #6, callgrind).
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Ok) {}                                      // NOLINT(google-explicit-constructor)
  Result(Error error) : err_(std::move(error)) {}    // NOLINT(google-explicit-constructor)
  bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& {
    assert(!ok());
    return *err_;
  }
  Error&& error() && {
    assert(!ok());
    return std::move(*err_);
  }

 private:
  std::optional<Error> err_;
};

using Status = Result<void>;

}  // namespace statgov

// Propagate an error from an expression returning Result<...>.
#define SG_TRY(expr)                                   \
  do {                                                 \
    auto sg_try_r_ = (expr);                           \
    if (!sg_try_r_.ok()) return std::move(sg_try_r_).error(); \
  } while (0)

#define SG_CONCAT_INNER(a, b) a##b
#define SG_CONCAT(a, b) SG_CONCAT_INNER(a, b)
#define SG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).error();  \
  lhs = std::move(tmp).value()
// SG_ASSIGN_OR_RETURN(auto x, compute());
#define SG_ASSIGN_OR_RETURN(lhs, expr) SG_ASSIGN_OR_RETURN_IMPL(SG_CONCAT(sg_r_, __LINE__), lhs, expr)
