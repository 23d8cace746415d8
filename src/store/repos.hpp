// Repository functions: named SQL statements over one connection. Every function that returns
// enterprise data takes the caller's Scope and filters in SQL, so a handler cannot forget to.
#pragma once

#include "base/result.hpp"
#include "domain/user.hpp"
#include "store/conn.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace statgov::store {

using nlohmann::json;

// ---- reference data -------------------------------------------------------------------------
struct RegionRow {
  std::string code, name;
  int level = 0;
  std::string parent, vintage, replaced_by;
};
struct IndustryRow {
  std::string code;
  int level = 0;
  std::string name, section, parent, description;
};
Status upsert_region(Conn& c, const RegionRow& r);
Status upsert_industry(Conn& c, const IndustryRow& r);
Result<std::vector<RegionRow>> list_regions(Conn& c);
Result<std::vector<IndustryRow>> list_industries(Conn& c);
Result<std::int64_t> count_rows(Conn& c, std::string_view table);

// ---- units (名录库) ---------------------------------------------------------------------------
struct UnitRow {
  std::int64_t id = 0;
  std::string uscc, uscc_note, name, region, industry;
  int size = 3;
  std::string status = "active";
  json attributes = json::object();
  std::string created_at, updated_at;
};
struct UnitFilter {
  std::string q;         // name or USCC substring
  std::string region;    // region prefix (significant digits)
  std::string industry;  // industry code prefix, or a section letter
  int limit = 50;
  std::int64_t after_id = 0;  // cursor
};
Result<std::int64_t> insert_unit(Conn& c, const UnitRow& u);
Result<std::optional<UnitRow>> find_unit(Conn& c, const domain::Scope& scope, std::int64_t id);
Result<std::optional<UnitRow>> find_unit_by_uscc(Conn& c, std::string_view uscc);
Result<std::vector<UnitRow>> list_units(Conn& c, const domain::Scope& scope, const UnitFilter& f);
// All units in scope, ordered by id (bulk work: tasks, demo, aggregation).
Result<std::vector<UnitRow>> all_units(Conn& c, const domain::Scope& scope);
Status update_unit(Conn& c, const UnitRow& u);
struct UnitChange {
  std::string at, actor, field, old_value, new_value;
};
Status add_unit_history(Conn& c, std::int64_t unit_id, const UnitChange& ch);
Result<std::vector<UnitChange>> unit_history(Conn& c, std::int64_t unit_id);
// The changes of region, industry, size class and status recorded after `at` (UTC ISO 8601), newest
// first: undone in this order on today's rows, they give the directory as it stood at `at`.
struct UnitFieldChange {
  std::int64_t unit_id = 0;
  std::string field, old_value;
};
Result<std::vector<UnitFieldChange>> unit_changes_after(Conn& c, const std::string& at);

// ---- forms ----------------------------------------------------------------------------------
struct FormRow {
  std::string code;
  int version = 0;
  json definition;
  std::string created_at, created_by;
};
Status insert_form(Conn& c, const FormRow& f);
// version 0 = latest
Result<std::optional<FormRow>> find_form(Conn& c, std::string_view code, int version = 0);
Result<std::vector<FormRow>> latest_forms(Conn& c);
// The newest version number of a form, without its definition; nullopt if there is no such form.
Result<std::optional<int>> latest_form_version(Conn& c, std::string_view code);

// ---- submissions ----------------------------------------------------------------------------
struct SubmissionRow {
  std::int64_t id = 0;
  std::int64_t unit_id = 0;
  std::string form_code;
  int form_version = 0;
  std::string period, region, state;
  int version = 0;
  json values = json::object(), explanations = json::object(), results = json::array();
  std::string updated_at;
  std::int64_t seq = 0;
  std::string first_submitted_at;  // empty until first sent; on-time figures use it
};
struct VersionRow {
  int version = 0;
  std::string state;
  json values, explanations;
  std::string created_at, actor;
};
struct EventRow {
  std::string at, actor, action, from_state, to_state, reason;
};
Result<std::optional<SubmissionRow>> find_submission(Conn& c, const domain::Scope& scope,
                                                     std::int64_t unit_id, std::string_view form,
                                                     std::string_view period);
// The same row without its three JSON documents (values, explanations and results left empty):
// for a write that replaces them all, so the single writer thread does not parse what it throws
// away (issue #6).
Result<std::optional<SubmissionRow>> find_submission_head(Conn& c, const domain::Scope& scope,
                                                          std::int64_t unit_id, std::string_view form,
                                                          std::string_view period);
// What a request on one submission reads first, in one statement (issue #6: on PostgreSQL each
// statement is a round trip and a server transaction; this replaced five): the unit in scope, the
// form's latest version, and the unit's rows of that form for the given periods that are in scope
// (current, previous, same period last year). `unit` empty: no such unit in scope (then nothing
// else is read). `latest_form_version` empty: no such form. The unit comes without its attributes
// (left an empty object).
struct UnitSubmissions {
  std::optional<UnitRow> unit;
  std::optional<int> latest_form_version;
  std::vector<SubmissionRow> submissions;  // at most one per period, in no particular order
};
Result<UnitSubmissions> find_unit_submissions(Conn& c, const domain::Scope& scope, std::int64_t unit_id,
                                              std::string_view form, const std::array<std::string, 3>& periods);
// A row's three JSON documents in their stored text (compact nlohmann dump()). save_submission can
// hand them out so that the version row written next stores the same text without dumping it
// again, or take them ready-made (issue #6: a submit prints its documents once, on the thread that
// checked them, not on the writer's).
struct DocumentTexts {
  std::string values, explanations, results;
  bool ready = false;  // set: these are the row's documents, printed
};
// Insert or update the current row (id 0 = insert); returns the id. Bumps the change sequence.
// `texts`: if ready, the text written for the row's documents (its JSON documents are not read);
// otherwise, if given, it receives the text written.
Result<std::int64_t> save_submission(Conn& c, SubmissionRow& s, DocumentTexts* texts = nullptr);
// A version as given (the demo's history, whose version state differs from the row's).
Status add_version(Conn& c, std::int64_t submission_id, const VersionRow& v);
// The version of a row save_submission just wrote (its id, version and state), from the texts it
// handed out.
Status add_version(Conn& c, const SubmissionRow& s, const DocumentTexts& texts, std::string_view created_at,
                   std::string_view actor);
Status add_event(Conn& c, std::int64_t submission_id, const EventRow& e);
Result<std::vector<VersionRow>> list_versions(Conn& c, std::int64_t submission_id);
Result<std::vector<EventRow>> list_events(Conn& c, std::int64_t submission_id);
// Submissions of a set of units for one form and period (tasks list, bulk checks).
Result<std::vector<SubmissionRow>> submissions_for_units(Conn& c, const std::vector<std::int64_t>& unit_ids,
                                                         std::string_view form);

// State of every submission of a form and period inside the scope (monitoring, queues).
struct SubmissionState {
  std::int64_t unit_id = 0;
  std::string region;  // the unit's region when the submission was last written
  std::string state;
  int version = 0;
  std::string first_submitted_at, updated_at;
  int errors = 0, warnings = 0;  // failed rules stored with the current version
};
Result<std::vector<SubmissionState>> submission_states(Conn& c, const domain::Scope& scope,
                                                       std::string_view form, std::string_view period);
// Every submission of a form and period inside the scope (aggregation).
Result<std::vector<SubmissionRow>> submissions_for_period(Conn& c, const domain::Scope& scope,
                                                          std::string_view form, std::string_view period);
// Submissions changed after `seq` (live feeds), oldest first: everything but the JSON documents
// (values, explanations and results stay empty).
Result<std::vector<SubmissionRow>> submissions_since(Conn& c, std::int64_t seq, int limit);
Result<std::int64_t> current_seq(Conn& c);

// ---- reminders, outbox, notices, jobs ------------------------------------------------------
struct ReminderRow {
  std::int64_t id = 0;
  std::string at, actor, form_code, period, region, message;
  int count = 0;
};
struct OutboxRow {
  std::int64_t id = 0;
  std::optional<std::int64_t> reminder_id;
  std::int64_t unit_id = 0;
  std::string channel, recipient, subject, body, status = "pending";
  int attempts = 0;
  std::string next_attempt_at, last_error, created_at, sent_at;
};
struct NoticeRow {
  std::int64_t id = 0;
  std::int64_t unit_id = 0;
  std::string at, kind, form_code, period, title, body;
  bool read = false;
};
struct JobRow {
  std::int64_t id = 0;
  std::string kind, state;
  int done = 0, total = 0;
  json result = json::object();
  std::string actor, created_at, updated_at;
};
Result<std::int64_t> insert_reminder(Conn& c, const ReminderRow& r);
Result<std::vector<ReminderRow>> list_reminders(Conn& c, const domain::Scope& scope, std::string_view form,
                                                std::string_view period);
Result<std::optional<ReminderRow>> find_reminder(Conn& c, std::int64_t id);
Result<std::int64_t> insert_outbox(Conn& c, const OutboxRow& o);
Result<std::vector<OutboxRow>> outbox_for_reminder(Conn& c, std::int64_t reminder_id);
Result<std::vector<OutboxRow>> due_outbox(Conn& c, std::string_view now, int limit);
// Claims up to `limit` due rows for one sender: moves their next attempt to `lease_until` and
// returns them (RETURNING). Two senders (threads or processes) never get the same row; a sender
// that dies holding a claim leaves the row due again at `lease_until`.
Result<std::vector<OutboxRow>> claim_due_outbox(Conn& c, std::string_view now, std::string_view lease_until, int limit);
Status update_outbox_attempt(Conn& c, const OutboxRow& o, bool ok, std::string_view at);
Result<std::int64_t> insert_notice(Conn& c, const NoticeRow& n);
Result<std::vector<NoticeRow>> list_notices(Conn& c, std::int64_t unit_id, int limit);
Result<std::int64_t> insert_job(Conn& c, const JobRow& j);
Status update_job(Conn& c, const JobRow& j);
Result<std::optional<JobRow>> find_job(Conn& c, std::int64_t id);

// ---- users and sessions ---------------------------------------------------------------------
struct UserRow {
  domain::User user;
  std::string password_hash;
};
Result<std::int64_t> insert_user(Conn& c, const UserRow& u, std::string_view now);
Result<std::optional<UserRow>> find_user_by_login(Conn& c, std::string_view login);
Result<std::optional<UserRow>> find_user(Conn& c, std::int64_t id);
Status set_password_hash(Conn& c, std::int64_t user_id, std::string_view hash);
Status set_user_disabled(Conn& c, std::int64_t user_id, bool disabled);

struct SessionRow {
  std::string token_hash;
  std::int64_t user_id = 0;
  std::string csrf_token, created_at, expires_at;
  std::string last_seen;
};
Status insert_session(Conn& c, const SessionRow& s);
// The session and its user in one statement (every authenticated request, issue #6). `user` is
// empty if the session's user row is gone.
struct SessionUser {
  SessionRow session;
  std::optional<UserRow> user;
};
Result<std::optional<SessionUser>> find_session_user(Conn& c, std::string_view token_hash);
Status delete_session(Conn& c, std::string_view token_hash);
Status touch_session(Conn& c, std::string_view token_hash, std::string_view now);
Status delete_user_sessions(Conn& c, std::int64_t user_id);

Status record_login_failure(Conn& c, std::string_view login, std::string_view at);
Result<int> count_login_failures(Conn& c, std::string_view login, std::string_view since);
Status clear_login_failures(Conn& c, std::string_view login);

// ---- idempotency ----------------------------------------------------------------------------
struct IdempotencyRow {
  std::string request_hash;
  int status = 200;
  std::string response;
};
Result<std::optional<IdempotencyRow>> find_idempotency(Conn& c, std::int64_t user_id, std::string_view key);
Status insert_idempotency(Conn& c, std::int64_t user_id, std::string_view key, const IdempotencyRow& r,
                          std::string_view now);

// ---- audit chain ----------------------------------------------------------------------------
struct AuditRow {
  std::int64_t id = 0;
  std::string at, actor, action, object, detail, prev_hash, hash;
};
// Appends an entry whose hash covers the previous entry's hash (a hash chain).
Status append_audit(Conn& c, std::string_view at, std::string_view actor, std::string_view action,
                    std::string_view object, const json& detail);
Result<std::vector<AuditRow>> list_audit(Conn& c);
std::string audit_hash(const AuditRow& r);

// ==== releases and documents (publication, docs/publication.md section 5) ====================
struct ReleaseRow {
  std::string id, title_zh, title_en;
  std::string release_at;  // UTC to the minute, "...:00Z"
  std::string form_code, period;
  json tables = json::array();
  std::string notes_zh, notes_en, city, state = "planned";
  std::string created_at, created_by, updated_at, prepared_at, signed_at, signed_by;
  std::optional<std::int64_t> package_sequence;
  std::string package_name;
};
Status insert_release(Conn& c, const ReleaseRow& r);
// Everything but id and created_*.
Status update_release(Conn& c, const ReleaseRow& r);
Result<std::optional<ReleaseRow>> find_release(Conn& c, std::string_view id);
Result<std::vector<ReleaseRow>> list_releases(Conn& c);  // by release_at, then id
Status set_release_package(Conn& c, std::string_view id, std::string_view bytes);
Result<std::optional<std::string>> release_package(Conn& c, std::string_view id);
Status set_prerelease(Conn& c, std::string_view release_id, const std::vector<std::int64_t>& user_ids);
Result<std::vector<std::int64_t>> prerelease_users(Conn& c, std::string_view release_id);
struct ReleaseDatasetRow {
  std::string dataset_id;
  json body;
};
Status replace_release_datasets(Conn& c, std::string_view release_id, const std::vector<ReleaseDatasetRow>& ds);
Result<std::vector<ReleaseDatasetRow>> release_datasets(Conn& c, std::string_view release_id);
// The agency's next package number (stored): the caller's transaction owns it.
Result<std::int64_t> next_package_sequence(Conn& c, std::string_view agency);

struct DocumentRow {
  std::string index_no, title, category, publisher, date, body;
  std::string created_at, created_by, updated_at, updated_by;
  std::optional<std::int64_t> published_sequence;  // none: changed since the last package
};
struct DocumentFileRow {
  std::string name, data;
};
Status insert_document(Conn& c, const DocumentRow& d);
// Updates the text fields and clears published_sequence (the document rides in the next package).
Status update_document(Conn& c, const DocumentRow& d);
Result<std::optional<DocumentRow>> find_document(Conn& c, std::string_view index_no);
// q: substring of title, body or index_no; category: exact; both optional.
Result<std::vector<DocumentRow>> list_documents(Conn& c, std::string_view q, std::string_view category);
Result<std::vector<DocumentRow>> unpublished_documents(Conn& c);
Status mark_document_published(Conn& c, std::string_view index_no, std::int64_t sequence);
Status replace_document_files(Conn& c, std::string_view index_no, const std::vector<DocumentFileRow>& files);
Result<std::vector<DocumentFileRow>> document_files(Conn& c, std::string_view index_no);

// ==== e-signatures and TOTP (issue #7; migration V005) =======================================
struct UnitKeyRow {
  std::string key_id;
  std::int64_t unit_id = 0;
  std::string public_key;  // base64 of the raw 32 bytes
  std::string label, created_at, created_by, revoked_at, revoked_by;  // revoked_at empty = live
};
Status insert_unit_key(Conn& c, const UnitKeyRow& k);
Result<std::optional<UnitKeyRow>> find_unit_key(Conn& c, std::string_view key_id);
Result<std::vector<UnitKeyRow>> list_unit_keys(Conn& c, std::int64_t unit_id);
Status revoke_unit_key(Conn& c, std::string_view key_id, std::string_view at, std::string_view by);

struct SignatureRow {
  std::int64_t submission_id = 0;
  int version = 0;
  std::string key_id, signature, payload_sha256, signed_at, signed_by;
};
Status insert_signature(Conn& c, const SignatureRow& s);
Result<std::optional<SignatureRow>> find_signature(Conn& c, std::int64_t submission_id, int version);
Result<std::vector<SignatureRow>> list_signatures(Conn& c, std::int64_t submission_id);
// By id, without a scope: the caller checks the row's unit and region against the user itself.
Result<std::optional<SubmissionRow>> find_submission_by_id(Conn& c, std::int64_t id);

struct TotpRow {
  std::int64_t user_id = 0;
  std::string secret;  // base32, or sealed with the server's --totp-key (security/sealed.hpp)
  bool enabled = false;
  std::string created_at, confirmed_at;
  std::int64_t last_step = -1;
};
// Replaces any earlier (pending or enabled) enrolment.
Status upsert_totp(Conn& c, const TotpRow& t);
Result<std::optional<TotpRow>> find_totp(Conn& c, std::int64_t user_id);
Status update_totp(Conn& c, const TotpRow& t);  // enabled, confirmed_at, last_step
Status delete_totp(Conn& c, std::int64_t user_id);
Result<std::vector<TotpRow>> list_totp(Conn& c);  // by user id
// ==== end e-signatures and TOTP ===============================================================

}  // namespace statgov::store
