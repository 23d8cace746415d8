// E-signatures (电子签章): a unit's registered Ed25519 public keys, the check of a signed submit
// (called inside the submit transaction) and the later re-verification of a stored signature
// against the values stored now. The canonical form is in security/signing.hpp and
// docs/signatures.md.
//
// Thread safety: stateless over Store and Clock; callable from any thread.
#pragma once

#include "base/clock.hpp"
#include "services/reporting.hpp"
#include "store/repos.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>

namespace statgov::services {

// The {signature, key_id} pair of a submit body.
struct SignatureClaim {
  std::string signature;  // base64 as sent
  std::string key_id;
};

// From a submit body: nothing when unsigned; MISSING_FIELD / WRONG_TYPE when half there.
Result<std::optional<SignatureClaim>> signature_claim(const json& body);

// Inside the submit transaction: the claim must name a live key of `unit` and verify over the
// canonical form of (form, period, unit USCC, values, version). Returns the row to store (its
// submission_id is set by the caller). Errors, all 422: KEY_UNKNOWN, KEY_REVOKED, BAD_SIGNATURE.
Result<store::SignatureRow> check_submission_signature(
    store::Conn& c, const SignatureClaim& claim, const store::UnitRow& unit,
    const std::string& form, const std::string& period, const json& values, int version,
    const std::string& now, const std::string& actor);

class SignatureService {
 public:
  SignatureService(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Enterprise accounts only, for their own unit: {public_key: base64 of 32 bytes, label}.
  Result<json> register_key(const Actor& a, std::int64_t unit_id, const json& body);
  // The unit's keys (live and revoked): the enterprise itself and staff in scope.
  Result<json> list_keys(const Actor& a, std::int64_t unit_id);
  Result<json> revoke_key(const Actor& a, std::int64_t unit_id, const std::string& key_id);
  // Re-verifies the current version's signature over the values stored now:
  // {"status": "valid" | "not_signed" | "invalid", ...}.
  Result<json> status(const Actor& a, std::int64_t submission_id);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace statgov::services
