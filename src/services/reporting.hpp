// Online direct reporting (联网直报): tasks, drafts, validation, submission with explanations
// for confirmed warnings, versions, Excel templates. Transaction boundaries live here.
//
// Thread safety: stateless over Store, FormService, Catalog and Clock; callable from any thread.
// Concurrent submits of one submission serialise in the store's write transaction, which
// re-reads the row, so two racing requests cannot both move it out of an editable state.
#pragma once

#include "base/clock.hpp"
#include "services/catalog.hpp"
#include "services/forms.hpp"
#include "store/repos.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace statgov::services {

using nlohmann::json;

struct Actor {
  domain::User user;
  std::string ip;
};

struct IdempotencyKey {
  std::string key;
  std::string request_hash;  // of method, path and body: a key reused for another request is an error
};

class ReportingService {
 public:
  ReportingService(store::Store& store, FormService& forms, Catalog& catalog, const Clock& clock)
      : store_(store), forms_(forms), catalog_(catalog), clock_(clock) {}

  Result<json> tasks(const Actor& a, std::optional<std::int64_t> unit_id);
  Result<json> get(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period);
  Result<json> validate(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period,
                        const json& body);
  Result<json> save_draft(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period,
                          const json& body);
  // The answer to a submit (its JSON text), made when called. submit_async hands it over from the
  // store's writer thread, which should not spend its time building and printing the JSON (issue
  // #6): call it on another thread. Callable once.
  using SubmitAnswer = std::function<Result<std::string>()>;
  // A submit, answered without waiting for the commit: the checks and edit rules run on the
  // caller's thread, the write is queued to the store's writer, and done(answer) is called once the
  // write is durable or failed: then on the store's completion or writer thread (see
  // Store::write_async: `done` must be quick), or at once on the caller's thread when a check fails
  // or the key was already answered.
  void submit_async(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period,
                    const json& body, const std::optional<IdempotencyKey>& idem,
                    std::function<void(SubmitAnswer)> done);
  Result<json> versions(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period);
  Result<std::string> template_xlsx(const Actor& a, std::int64_t unit, const std::string& form,
                                    const std::string& period);
  // Reads the form's template back, validates and saves the values as a draft.
  Result<json> upload_xlsx(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period,
                           std::string_view bytes);

  // Review by the caller's level (township review, county approve, city accept) or return with a
  // reason. Body: {"action":"approve"|"return","reason","version"}. Defined in review.cpp.
  Result<json> review(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period,
                      const json& body);
  // A formal revision after lock (city/admin): {"values","reason","version"}.
  Result<json> revise(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period,
                      const json& body);
  // Re-runs the latest rules of the form over the stored values and stores the results (bulk
  // re-validation after a rule change). Returns the failed results.
  Result<json> recheck(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period);
  // Called after every committed change to a submission (wakes the live feed).
  void on_change(std::function<void()> f) { on_change_ = std::move(f); }

  // The period currently open for a frequency (the one containing today, local time).
  domain::Period current_period(domain::Frequency f) const;

  struct Target;
  struct SubmitPlan;
  struct SubmitWritten;

 private:
  // The part of a submit before its write. Returns the answer and leaves `plan` empty when it is
  // already known (an Idempotency-Key answered before); otherwise sets `plan`.
  Result<std::string> plan_submit(const Actor& a, std::int64_t unit, const std::string& form,
                                  const std::string& period, const json& body,
                                  const std::optional<IdempotencyKey>& idem,
                                  std::shared_ptr<SubmitPlan>& plan);
  // The write of a submit, inside the store's write transaction. The answer is built there only
  // when it must be stored with an Idempotency-Key; otherwise later, by submit_answer.
  Result<SubmitWritten> write_submit(store::Conn& c, const SubmitPlan& p);
  // The answer to a submit (JSON text), from the plan's target and what was written.
  std::string submit_answer(const Target& t, const SubmitWritten& w);
  // Both read in one snapshot of the database (Store::read_snapshot); the overloads taking a
  // connection read on one the caller already holds.
  Result<Target> resolve(const Actor& a, std::int64_t unit, const std::string& form, const std::string& period,
                         bool for_write);
  Result<Target> resolve(store::Conn& c, const Actor& a, std::int64_t unit, const std::string& form,
                         const std::string& period, bool for_write);
  Result<json> evaluate(const Target& t, const json& values, std::vector<rules::RuleResult>* all = nullptr);
  Result<json> evaluate(store::Conn& c, const Target& t, const json& values,
                        std::vector<rules::RuleResult>* all = nullptr);
  Result<std::string> plan_submit_on(store::Conn& c, const Actor& a, std::int64_t unit,
                                     const std::string& form, const std::string& period,
                                     const json& body, const std::optional<IdempotencyKey>& idem,
                                     std::shared_ptr<SubmitPlan>& plan);
  // A submission as answered, as JSON text: the target with `row` as its current row ("not_started"
  // when null), and `signature` when not null. Written with JsonWriter (issue #6), keys in
  // nlohmann's order, so that it reads as nlohmann would print it. `texts`, when ready, stand for
  // the row's three JSON documents (a submit's, printed once when it was checked).
  std::string submission_text(const Target& t, const store::SubmissionRow* row, bool with_events,
                              const json& signature = nullptr,
                              const store::DocumentTexts* texts = nullptr);
  // submission_text of the target's current row, as a JSON value.
  json submission_json(const Target& t, bool with_events);

  store::Store& store_;
  FormService& forms_;
  Catalog& catalog_;
  const Clock& clock_;
  std::function<void()> on_change_;
  void changed() const {
    if (on_change_) on_change_();
  }
};

}  // namespace statgov::services
