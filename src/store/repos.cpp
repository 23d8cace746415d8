#include "store/repos.hpp"

#include "base/crypto.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace statgov::store {

namespace {

json parse_json_column(const std::string& text, json fallback) {
  auto j = json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

// Scope predicate for rows with a region column and a unit id column.
std::string scope_sql(const domain::Scope& s, std::string_view region_col, std::string_view unit_col) {
  std::string sql = fmt::format(" AND substr({}, 1, length(:scope_region)) = :scope_region", region_col);
  if (s.unit_id) sql += fmt::format(" AND {} = :scope_unit", unit_col);
  return sql;
}

// "`param` occurs in `col`", case-sensitive on both backends (SQLite instr, PostgreSQL strpos:
// the same 1-based position or 0). The one place the dialects' SQL differs.
std::string contains_sql(const Conn& c, std::string_view col, std::string_view param) {
  return fmt::format("{}({}, {}) > 0", c.dialect() == Dialect::postgres ? "strpos" : "instr", col, param);
}

// A statement's text followed by its scope condition, for both kinds of scope (scope_sql differs
// only in whether the scope names a unit), built once: for the reads every submit makes.
struct ScopedSql {
  std::string any_unit, one_unit;
  const std::string& operator()(const domain::Scope& s) const {
    return s.unit_id ? one_unit : any_unit;
  }
};
ScopedSql scoped_sql(std::string_view head, std::string_view region_col,
                     std::string_view unit_col) {
  domain::Scope unit;
  unit.unit_id = 0;
  return {std::string(head) + scope_sql(domain::Scope{}, region_col, unit_col),
          std::string(head) + scope_sql(unit, region_col, unit_col)};
}

void bind_scope(Stmt& st, const domain::Scope& s) {
  st.set(":scope_region", s.region_prefix);
  if (s.unit_id) st.set(":scope_unit", *s.unit_id);
}

template <typename Row, typename F>
Result<std::vector<Row>> collect(Stmt& st, F&& make) {
  std::vector<Row> out;
  for (;;) {
    SG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(make(st));
  }
  return out;
}

template <typename Row, typename F>
Result<std::optional<Row>> first(Stmt& st, F&& make) {
  SG_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<Row>();
  return std::optional<Row>(make(st));
}

constexpr const char* kUnitCols =
    "id, uscc, uscc_note, name, region, industry, size, status, attributes, created_at, updated_at";

constexpr int kUnitColCount = 11;

constexpr const char* kUserCols = "id, login, name, role, region, unit_id, password_hash, disabled";

// A column list with each plain column name qualified by `alias` ("id, f(x)" -> "u.id, f(u.x)"):
// names are qualified where they start, outside string literals, when followed by ',', ')' or the end.
std::string qualified(std::string_view cols, std::string_view alias) {
  std::string out;
  std::size_t i = 0;
  while (i < cols.size()) {
    const char ch = cols[i];
    if (ch == '\'') {  // a literal, copied as is
      const std::size_t e = cols.find('\'', i + 1);
      out.append(cols.substr(i, e - i + 1));
      i = e + 1;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(ch)) || ch == '_') {
      std::size_t e = i;
      while (e < cols.size() && (std::isalnum(static_cast<unsigned char>(cols[e])) || cols[e] == '_')) ++e;
      const bool call = e < cols.size() && cols[e] == '(';
      if (!call) out.append(alias).append(".");
      out.append(cols.substr(i, e - i));
      i = e;
      continue;
    }
    out.push_back(ch);
    ++i;
  }
  return out;
}

// The unit whose kUnitCols start at column `base`; attributes = false leaves them empty (not parsed).
UnitRow unit_at(const Stmt& st, int base, bool attributes = true) {
  UnitRow u;
  u.id = st.int64(base + 0);
  u.uscc = st.text(base + 1);
  u.uscc_note = st.text(base + 2);
  u.name = st.text(base + 3);
  u.region = st.text(base + 4);
  u.industry = st.text(base + 5);
  u.size = st.int32(base + 6);
  u.status = st.text(base + 7);
  if (attributes) u.attributes = parse_json_column(st.text(base + 8), json::object());
  u.created_at = st.text(base + 9);
  u.updated_at = st.text(base + 10);
  return u;
}

UnitRow unit_from(const Stmt& st) { return unit_at(st, 0); }

constexpr const char* kSubmissionCols =
    "id, unit_id, form_code, form_version, period, region, state, version, vals, explanations, results, "
    "updated_at, seq, COALESCE(first_submitted_at, '')";
constexpr int kSubmissionColCount = 14;

// The submission whose kSubmissionCols start at column `base`; documents = false: values,
// explanations and results stay empty (find_submission_head).
SubmissionRow submission_row(const Stmt& st, bool documents, int base = 0) {
  SubmissionRow s;
  s.id = st.int64(base + 0);
  s.unit_id = st.int64(base + 1);
  s.form_code = st.text(base + 2);
  s.form_version = st.int32(base + 3);
  s.period = st.text(base + 4);
  s.region = st.text(base + 5);
  s.state = st.text(base + 6);
  s.version = st.int32(base + 7);
  if (documents) {
    s.values = parse_json_column(st.text(base + 8), json::object());
    s.explanations = parse_json_column(st.text(base + 9), json::object());
    s.results = parse_json_column(st.text(base + 10), json::array());
  }
  s.updated_at = st.text(base + 11);
  s.seq = st.int64(base + 12);
  s.first_submitted_at = st.text(base + 13);
  return s;
}

SubmissionRow submission_from(const Stmt& st) { return submission_row(st, true); }

// The user whose columns (id, login, name, role, region, unit_id, password_hash, disabled) start at
// column `base`.
UserRow user_at(const Stmt& st, int base) {
  UserRow u;
  u.user.id = st.int64(base + 0);
  u.user.login = st.text(base + 1);
  u.user.name = st.text(base + 2);
  u.user.role = domain::parse_role(st.text(base + 3)).value_or(domain::Role::enterprise);
  u.user.region = st.text(base + 4);
  u.user.unit_id = st.opt_int64(base + 5);
  u.password_hash = st.text(base + 6);
  u.user.disabled = st.int32(base + 7) != 0;
  return u;
}

UserRow user_from(const Stmt& st) { return user_at(st, 0); }

}  // namespace

// ---- reference data ---------------------------------------------------------------------------

Status upsert_region(Conn& c, const RegionRow& r) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO regions (code, name, level, parent, vintage, replaced_by) "
      "VALUES (:code, :name, :level, :parent, :vintage, :replaced_by) "
      "ON CONFLICT(code) DO UPDATE SET name = excluded.name, level = excluded.level, parent = excluded.parent, "
      "vintage = excluded.vintage, replaced_by = excluded.replaced_by"));
  st.set(":code", r.code).set(":name", r.name).set(":level", r.level).set(":parent", r.parent)
      .set(":vintage", r.vintage).set(":replaced_by", r.replaced_by);
  return st.exec();
}

Status upsert_industry(Conn& c, const IndustryRow& r) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO industries (code, level, name, section, parent, description) "
      "VALUES (:code, :level, :name, :section, :parent, :description) "
      "ON CONFLICT(code) DO UPDATE SET level = excluded.level, name = excluded.name, section = excluded.section, "
      "parent = excluded.parent, description = excluded.description"));
  st.set(":code", r.code).set(":level", r.level).set(":name", r.name).set(":section", r.section)
      .set(":parent", r.parent).set(":description", r.description);
  return st.exec();
}

Result<std::vector<RegionRow>> list_regions(Conn& c) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT code, name, level, COALESCE(parent, ''), vintage, COALESCE(replaced_by, '') FROM regions ORDER BY code"));
  return collect<RegionRow>(st, [](const Stmt& s) {
    return RegionRow{s.text(0), s.text(1), s.int32(2), s.text(3), s.text(4), s.text(5)};
  });
}

Result<std::vector<IndustryRow>> list_industries(Conn& c) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT code, level, name, section, COALESCE(parent, ''), description FROM industries ORDER BY code"));
  return collect<IndustryRow>(st, [](const Stmt& s) {
    return IndustryRow{s.text(0), s.int32(1), s.text(2), s.text(3), s.text(4), s.text(5)};
  });
}

Result<std::int64_t> count_rows(Conn& c, std::string_view table) {
  // NOTE: table names come from code, never from requests.
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT COUNT(*) FROM {}", table)));
  SG_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? st.int64(0) : 0;
}

// ---- units ------------------------------------------------------------------------------------

Result<std::int64_t> insert_unit(Conn& c, const UnitRow& u) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO units (uscc, uscc_note, name, region, industry, size, status, attributes, created_at, updated_at) "
      "VALUES (:uscc, :note, :name, :region, :industry, :size, :status, :attributes, :created_at, :updated_at)"));
  st.set(":uscc", u.uscc).set(":note", u.uscc_note).set(":name", u.name).set(":region", u.region)
      .set(":industry", u.industry).set(":size", u.size).set(":status", u.status)
      .set(":attributes", u.attributes.dump()).set(":created_at", u.created_at).set(":updated_at", u.updated_at);
  SG_TRY(st.exec());
  return c.last_insert_id();
}

Result<std::optional<UnitRow>> find_unit(Conn& c, const domain::Scope& scope, std::int64_t id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM units WHERE id = :id{}", kUnitCols,
                                                     scope_sql(scope, "region", "id"))));
  st.set(":id", id);
  bind_scope(st, scope);
  return first<UnitRow>(st, unit_from);
}

Result<std::optional<UnitRow>> find_unit_by_uscc(Conn& c, std::string_view uscc) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM units WHERE uscc = :uscc", kUnitCols)));
  st.set(":uscc", uscc);
  return first<UnitRow>(st, unit_from);
}

Result<std::vector<UnitRow>> list_units(Conn& c, const domain::Scope& scope, const UnitFilter& f) {
  std::string sql = fmt::format("SELECT {} FROM units WHERE id > :after{}", kUnitCols, scope_sql(scope, "region", "id"));
  if (!f.q.empty()) sql += fmt::format(" AND ({} OR {})", contains_sql(c, "name", ":q"), contains_sql(c, "uscc", "upper(:q)"));
  if (!f.region.empty()) sql += " AND substr(region, 1, length(:region)) = :region";
  if (!f.industry.empty()) {
    sql += " AND (substr(industry, 1, length(:industry)) = :industry OR "
           "(SELECT section FROM industries i WHERE i.code = units.industry) = :industry)";
  }
  sql += " ORDER BY id LIMIT :limit";
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(sql));
  st.set(":after", f.after_id).set(":q", f.q).set(":region", f.region).set(":industry", f.industry).set(":limit", f.limit);
  bind_scope(st, scope);
  return collect<UnitRow>(st, unit_from);
}

Result<std::vector<UnitRow>> all_units(Conn& c, const domain::Scope& scope) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM units WHERE 1 = 1{} ORDER BY id", kUnitCols,
                                                     scope_sql(scope, "region", "id"))));
  bind_scope(st, scope);
  return collect<UnitRow>(st, unit_from);
}

Status update_unit(Conn& c, const UnitRow& u) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "UPDATE units SET uscc = :uscc, uscc_note = :note, name = :name, region = :region, industry = :industry, "
      "size = :size, status = :status, attributes = :attributes, updated_at = :updated_at WHERE id = :id"));
  st.set(":uscc", u.uscc).set(":note", u.uscc_note).set(":name", u.name).set(":region", u.region)
      .set(":industry", u.industry).set(":size", u.size).set(":status", u.status)
      .set(":attributes", u.attributes.dump()).set(":updated_at", u.updated_at).set(":id", u.id);
  return st.exec();
}

Status add_unit_history(Conn& c, std::int64_t unit_id, const UnitChange& ch) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO unit_history (unit_id, at, actor, field, old_value, new_value) "
      "VALUES (:unit, :at, :actor, :field, :old, :new)"));
  st.set(":unit", unit_id).set(":at", ch.at).set(":actor", ch.actor).set(":field", ch.field)
      .set(":old", ch.old_value).set(":new", ch.new_value);
  return st.exec();
}

Result<std::vector<UnitFieldChange>> unit_changes_after(Conn& c, const std::string& at) {
  // "+id": without it SQLite walks the whole table backwards by rowid to skip the sort, instead of
  // taking the few rows after `at` from unit_history_at (V006) and sorting those.
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT unit_id, field, COALESCE(old_value, '') FROM unit_history WHERE at > :at "
      "AND field IN ('region', 'industry', 'size', 'status') ORDER BY +id DESC"));
  st.set(":at", at);
  return collect<UnitFieldChange>(st, [](const Stmt& s) { return UnitFieldChange{s.int64(0), s.text(1), s.text(2)}; });
}

Result<std::vector<UnitChange>> unit_history(Conn& c, std::int64_t unit_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT at, actor, field, COALESCE(old_value, ''), COALESCE(new_value, '') FROM unit_history "
      "WHERE unit_id = :unit ORDER BY id"));
  st.set(":unit", unit_id);
  return collect<UnitChange>(st, [](const Stmt& s) {
    return UnitChange{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)};
  });
}

// ---- forms ------------------------------------------------------------------------------------

Status insert_form(Conn& c, const FormRow& f) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO forms (code, version, definition, created_at, created_by) "
      "VALUES (:code, :version, :definition, :created_at, :created_by)"));
  st.set(":code", f.code).set(":version", f.version).set(":definition", f.definition.dump())
      .set(":created_at", f.created_at).set(":created_by", f.created_by);
  return st.exec();
}

Result<std::optional<FormRow>> find_form(Conn& c, std::string_view code, int version) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      version > 0 ? "SELECT code, version, definition, created_at, created_by FROM forms WHERE code = :code AND version = :version"
                  : "SELECT code, version, definition, created_at, created_by FROM forms WHERE code = :code "
                    "ORDER BY version DESC LIMIT 1"));
  st.set(":code", code).set(":version", version);
  return first<FormRow>(st, [](const Stmt& s) {
    return FormRow{s.text(0), s.int32(1), parse_json_column(s.text(2), json::object()), s.text(3), s.text(4)};
  });
}

Result<std::optional<int>> latest_form_version(Conn& c, std::string_view code) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT MAX(version) FROM forms WHERE code = :code"));
  st.set(":code", code);
  SG_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row || st.is_null(0)) return std::optional<int>();
  return std::optional<int>(st.int32(0));
}

Result<std::vector<FormRow>> latest_forms(Conn& c) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT f.code, f.version, f.definition, f.created_at, f.created_by FROM forms f "
      "WHERE f.version = (SELECT MAX(version) FROM forms g WHERE g.code = f.code) ORDER BY f.code"));
  return collect<FormRow>(st, [](const Stmt& s) {
    return FormRow{s.text(0), s.int32(1), parse_json_column(s.text(2), json::object()), s.text(3), s.text(4)};
  });
}

// ---- submissions ------------------------------------------------------------------------------

namespace {
// The writer's cache of the batch `c` is running in (conn.hpp, WriteCache). The change sequence
// and the audit chain's head are handed out only there: a write outside a batch could not keep
// either in order with the batches of other processes.
Result<WriteCache*> batch_cache(Conn& c, std::string_view what) {
  if (WriteCache* cache = c.write_cache()) return cache;
  return make_error(ErrorKind::internal, "STORAGE", "写入须在数据库写入批次中进行",
                    fmt::format("{} runs only inside a writer batch (Store::write)", what));
}
}  // namespace

namespace {
// A unit's row of a form and period in scope; `documents`: with its three JSON documents parsed.
Result<std::optional<SubmissionRow>> find_submission_row(Conn& c, const domain::Scope& scope, std::int64_t unit_id,
                                                         std::string_view form, std::string_view period,
                                                         bool documents) {
  static const ScopedSql sql =
      scoped_sql(fmt::format("SELECT {} FROM submissions WHERE unit_id = :unit AND form_code = "
                             ":form AND period = :period",
                             kSubmissionCols),
                 "region", "unit_id");
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(sql(scope)));
  st.set(":unit", unit_id).set(":form", form).set(":period", period);
  bind_scope(st, scope);
  return first<SubmissionRow>(st, [documents](const Stmt& s) { return submission_row(s, documents); });
}
}  // namespace

Result<std::optional<SubmissionRow>> find_submission(Conn& c, const domain::Scope& scope,
                                                     std::int64_t unit_id, std::string_view form,
                                                     std::string_view period) {
  return find_submission_row(c, scope, unit_id, form, period, true);
}

Result<std::optional<SubmissionRow>> find_submission_head(Conn& c, const domain::Scope& scope,
                                                          std::int64_t unit_id, std::string_view form,
                                                          std::string_view period) {
  return find_submission_row(c, scope, unit_id, form, period, false);
}

Result<UnitSubmissions> find_unit_submissions(Conn& c, const domain::Scope& scope, std::int64_t unit_id,
                                              std::string_view form, const std::array<std::string, 3>& periods) {
  // One row: each period's submission columns (NULL where there is none), then the unit's. The
  // submissions' scope is on their own region (stamped when written), as in find_submission, not
  // on the unit's region of today. The statement up to its scope condition is built once (it runs
  // on every submit), with each kind of scope condition.
  // NOTE: a join per period, not `s.period IN (:p0, :p1, :p2)`: SQLite runs an IN list through a
  // temporary b-tree, with its own page cache, made and dropped at every execution (issue #6:
  // 518k -> 498k instructions per submit, bench/ir_per_submit.sh).
  static const ScopedSql sql = [] {
    std::string cols, joins;
    for (int i = 0; i < 3; ++i) {
      const std::string s = fmt::format("s{}", i);
      cols += qualified(kSubmissionCols, s) + ", ";
      joins += fmt::format(
          " LEFT JOIN submissions {0} ON {0}.unit_id = u.id AND {0}.form_code = :form"
          " AND {0}.period = :p{1}"
          " AND substr({0}.region, 1, length(:scope_region)) = :scope_region",
          s, i);
    }
    return scoped_sql(fmt::format("SELECT {}{}, (SELECT MAX(version) FROM forms WHERE code = :form)"
                                  " FROM units u{} WHERE u.id = :id",
                                  cols, qualified(kUnitCols, "u"), joins),
                      "u.region", "u.id");
  }();
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(sql(scope)));
  st.set(":id", unit_id).set(":form", form).set(":p0", periods[0]).set(":p1", periods[1]).set(":p2", periods[2]);
  bind_scope(st, scope);
  UnitSubmissions out;
  SG_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return out;
  constexpr int unit_base = 3 * kSubmissionColCount;
  // No caller of this read uses the unit's free-form attributes (contacts); parsing them was most
  // of the unit's cost on every submit (issue #6).
  out.unit = unit_at(st, unit_base, false);
  const int version_col = unit_base + kUnitColCount;
  if (!st.is_null(version_col)) out.latest_form_version = st.int32(version_col);
  for (int i = 0; i < 3; ++i) {
    // A period asked for twice (a year's previous period is also last year's) is read once.
    const bool repeated =
        std::find(periods.begin(), periods.begin() + i, periods[i]) != periods.begin() + i;
    if (!repeated && !st.is_null(i * kSubmissionColCount)) {
      out.submissions.push_back(submission_row(st, true, i * kSubmissionColCount));
    }
  }
  return out;
}

namespace {
// The row's columns, for its INSERT and its UPDATE (a name a statement lacks binds nothing).
void bind_submission(Stmt& st, const SubmissionRow& s, const DocumentTexts& docs) {
  st.set(":id", s.id)
      .set(":unit", s.unit_id)
      .set(":form", s.form_code)
      .set(":form_version", s.form_version)
      .set(":period", s.period)
      .set(":region", s.region)
      .set(":state", s.state)
      .set(":version", s.version)
      .set(":vals", docs.values)
      .set(":explanations", docs.explanations)
      .set(":results", docs.results)
      .set(":updated_at", s.updated_at)
      .set(":seq", s.seq)
      .set(":first", s.first_submitted_at);
}
}  // namespace

Result<std::int64_t> save_submission(Conn& c, SubmissionRow& s, DocumentTexts* texts) {
  SG_ASSIGN_OR_RETURN(WriteCache * cache, batch_cache(c, "save_submission"));
  s.seq = ++cache->seq;  // written back before the batch's COMMIT
  DocumentTexts own;
  DocumentTexts& docs = texts ? *texts : own;
  if (!docs.ready) {
    docs.values = s.values.dump();
    docs.explanations = s.explanations.dump();
    docs.results = s.results.dump();
    docs.ready = true;
  }
  if (s.id == 0) {
    // PostgreSQL: the id comes back with the INSERT's answer (lastval() was one statement more).
    // Both texts built once: this runs for every new submission.
    static const std::string insert =
        "INSERT INTO submissions (unit_id, form_code, form_version, period, region, state, version, vals, "
        "explanations, results, updated_at, seq, first_submitted_at) VALUES (:unit, :form, :form_version, :period, "
        ":region, :state, :version, :vals, :explanations, :results, :updated_at, :seq, NULLIF(:first, ''))";
    static const std::string insert_returning = insert + " RETURNING id";
    const bool returning = c.dialect() == Dialect::postgres;
    SG_ASSIGN_OR_RETURN(auto st, c.prepare(returning ? insert_returning : insert));
    bind_submission(st, s, docs);
    if (returning) {
      SG_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) return make_error(ErrorKind::internal, "STORAGE", "插入未返回编号", "INSERT ... RETURNING id gave no row");
      s.id = st.int64(0);
    } else {
      SG_TRY(st.exec());
      s.id = c.last_insert_id();
    }
    return s.id;
  }
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "UPDATE submissions SET form_version = :form_version, region = :region, state = :state, version = :version, "
      "vals = :vals, explanations = :explanations, results = :results, updated_at = :updated_at, seq = :seq, "
      "first_submitted_at = NULLIF(:first, '') WHERE id = :id"));
  bind_submission(st, s, docs);
  SG_TRY(st.exec());
  return s.id;
}

namespace {
Status insert_version(Conn& c, std::int64_t submission_id, int version, std::string_view state,
                      std::string_view values, std::string_view explanations, std::string_view created_at,
                      std::string_view actor) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO submission_versions (submission_id, version, state, vals, explanations, created_at, actor) "
      "VALUES (:sid, :version, :state, :vals, :explanations, :at, :actor)"));
  st.set(":sid", submission_id).set(":version", version).set(":state", state).set(":vals", values)
      .set(":explanations", explanations).set(":at", created_at).set(":actor", actor);
  return st.exec();
}
}  // namespace

Status add_version(Conn& c, std::int64_t submission_id, const VersionRow& v) {
  return insert_version(c, submission_id, v.version, v.state, v.values.dump(), v.explanations.dump(), v.created_at,
                        v.actor);
}

Status add_version(Conn& c, const SubmissionRow& s, const DocumentTexts& texts, std::string_view created_at,
                   std::string_view actor) {
  return insert_version(c, s.id, s.version, s.state, texts.values, texts.explanations, created_at, actor);
}

Status add_event(Conn& c, std::int64_t submission_id, const EventRow& e) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO submission_events (submission_id, at, actor, action, from_state, to_state, reason) "
      "VALUES (:sid, :at, :actor, :action, :from, :to, :reason)"));
  st.set(":sid", submission_id).set(":at", e.at).set(":actor", e.actor).set(":action", e.action)
      .set(":from", e.from_state).set(":to", e.to_state).set(":reason", e.reason);
  return st.exec();
}

Result<std::vector<VersionRow>> list_versions(Conn& c, std::int64_t submission_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT version, state, vals, explanations, created_at, actor FROM submission_versions "
      "WHERE submission_id = :sid ORDER BY version"));
  st.set(":sid", submission_id);
  return collect<VersionRow>(st, [](const Stmt& s) {
    return VersionRow{s.int32(0), s.text(1), parse_json_column(s.text(2), json::object()),
                      parse_json_column(s.text(3), json::object()), s.text(4), s.text(5)};
  });
}

Result<std::vector<EventRow>> list_events(Conn& c, std::int64_t submission_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT at, actor, action, from_state, to_state, reason FROM submission_events "
      "WHERE submission_id = :sid ORDER BY id"));
  st.set(":sid", submission_id);
  return collect<EventRow>(st, [](const Stmt& s) {
    return EventRow{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5)};
  });
}

Result<std::vector<SubmissionRow>> submissions_for_units(Conn& c, const std::vector<std::int64_t>& unit_ids,
                                                         std::string_view form) {
  // One statement, re-bound per unit: the units table is scoped by the caller already.
  std::vector<SubmissionRow> out;
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format(
      "SELECT {} FROM submissions WHERE unit_id = :unit AND form_code = :form ORDER BY period", kSubmissionCols)));
  for (auto id : unit_ids) {
    st.reset();
    st.set(":unit", id).set(":form", form);
    SG_ASSIGN_OR_RETURN(auto rows, collect<SubmissionRow>(st, submission_from));
    for (auto& r : rows) out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<SubmissionState>> submission_states(Conn& c, const domain::Scope& scope,
                                                       std::string_view form, std::string_view period) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format(
      "SELECT unit_id, state, version, COALESCE(first_submitted_at, ''), updated_at, results, region "
      "FROM submissions WHERE form_code = :form AND period = :period{} ORDER BY unit_id",
      scope_sql(scope, "region", "unit_id"))));
  st.set(":form", form).set(":period", period);
  bind_scope(st, scope);
  return collect<SubmissionState>(st, [](const Stmt& s) {
    // Errors and warnings among the rule results, counted here rather than with each SQL
    // dialect's JSON functions.
    int errors = 0, warnings = 0;
    for (const auto& r : parse_json_column(s.text(5), json::array())) {
      if (!r.is_object()) continue;
      const auto sev = r.find("severity");
      if (sev == r.end() || !sev->is_string()) continue;
      if (*sev == "error") ++errors;
      else if (*sev == "warning") ++warnings;
    }
    return SubmissionState{s.int64(0), s.text(6), s.text(1), s.int32(2), s.text(3), s.text(4), errors, warnings};
  });
}

Result<std::vector<SubmissionRow>> submissions_for_period(Conn& c, const domain::Scope& scope,
                                                          std::string_view form, std::string_view period) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format(
      "SELECT {} FROM submissions WHERE form_code = :form AND period = :period{} ORDER BY unit_id", kSubmissionCols,
      scope_sql(scope, "region", "unit_id"))));
  st.set(":form", form).set(":period", period);
  bind_scope(st, scope);
  return collect<SubmissionRow>(st, submission_from);
}

Result<std::vector<SubmissionRow>> submissions_since(Conn& c, std::int64_t seq, int limit) {
  // NOTE: no JSON columns: the live feed reads back every submitted row, and parsing its three
  // documents there cost as much as a look-up of the submit itself (issue #6 profile).
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT id, unit_id, form_code, form_version, period, region, state, version, updated_at, seq "
      "FROM submissions WHERE seq > :seq ORDER BY seq LIMIT :limit"));
  st.set(":seq", seq).set(":limit", limit);
  return collect<SubmissionRow>(st, [](const Stmt& s) {
    SubmissionRow r;
    r.id = s.int64(0);
    r.unit_id = s.int64(1);
    r.form_code = s.text(2);
    r.form_version = s.int32(3);
    r.period = s.text(4);
    r.region = s.text(5);
    r.state = s.text(6);
    r.version = s.int32(7);
    r.updated_at = s.text(8);
    r.seq = s.int64(9);
    return r;
  });
}

Result<std::int64_t> current_seq(Conn& c) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT value FROM change_seq WHERE id = 1"));
  SG_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? st.int64(0) : 0;
}

// ---- reminders, outbox, notices, jobs ---------------------------------------------------------

Result<std::int64_t> insert_reminder(Conn& c, const ReminderRow& r) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO reminders (at, actor, form_code, period, region, message, count) "
      "VALUES (:at, :actor, :form, :period, :region, :message, :count)"));
  st.set(":at", r.at).set(":actor", r.actor).set(":form", r.form_code).set(":period", r.period)
      .set(":region", r.region).set(":message", r.message).set(":count", r.count);
  SG_TRY(st.exec());
  return c.last_insert_id();
}

Result<std::vector<ReminderRow>> list_reminders(Conn& c, const domain::Scope& scope, std::string_view form,
                                                std::string_view period) {
  // A reminder is visible to staff whose scope covers the region it was sent for.
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT id, at, actor, form_code, period, region, message, count FROM reminders "
      "WHERE form_code = :form AND period = :period AND substr(region, 1, length(:scope_region)) = :scope_region "
      "ORDER BY id DESC"));
  st.set(":form", form).set(":period", period).set(":scope_region", scope.region_prefix);
  return collect<ReminderRow>(st, [](const Stmt& s) {
    return ReminderRow{s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.int32(7)};
  });
}

Result<std::optional<ReminderRow>> find_reminder(Conn& c, std::int64_t id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT id, at, actor, form_code, period, region, message, count FROM reminders WHERE id = :id"));
  st.set(":id", id);
  return first<ReminderRow>(st, [](const Stmt& s) {
    return ReminderRow{s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.int32(7)};
  });
}

namespace {
constexpr const char* kOutboxCols =
    "id, reminder_id, unit_id, channel, recipient, subject, body, status, attempts, next_attempt_at, last_error, "
    "created_at, COALESCE(sent_at, '')";
OutboxRow outbox_from(const Stmt& s) {
  return OutboxRow{s.int64(0), s.opt_int64(1), s.int64(2), s.text(3), s.text(4), s.text(5), s.text(6), s.text(7),
                   s.int32(8), s.text(9), s.text(10), s.text(11), s.text(12)};
}
}  // namespace

Result<std::int64_t> insert_outbox(Conn& c, const OutboxRow& o) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO outbox (reminder_id, unit_id, channel, recipient, subject, body, status, attempts, "
      "next_attempt_at, last_error, created_at) VALUES (:reminder, :unit, :channel, :recipient, :subject, :body, "
      ":status, :attempts, :next, :error, :created)"));
  st.set(":reminder", o.reminder_id).set(":unit", o.unit_id).set(":channel", o.channel)
      .set(":recipient", o.recipient).set(":subject", o.subject).set(":body", o.body).set(":status", o.status)
      .set(":attempts", o.attempts).set(":next", o.next_attempt_at).set(":error", o.last_error)
      .set(":created", o.created_at);
  SG_TRY(st.exec());
  return c.last_insert_id();
}

Result<std::vector<OutboxRow>> outbox_for_reminder(Conn& c, std::int64_t reminder_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM outbox WHERE reminder_id = :r ORDER BY id", kOutboxCols)));
  st.set(":r", reminder_id);
  return collect<OutboxRow>(st, outbox_from);
}

Result<std::vector<OutboxRow>> due_outbox(Conn& c, std::string_view now, int limit) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format(
      "SELECT {} FROM outbox WHERE status = 'pending' AND next_attempt_at <= :now ORDER BY next_attempt_at, id "
      "LIMIT :limit", kOutboxCols)));
  st.set(":now", now).set(":limit", limit);
  return collect<OutboxRow>(st, outbox_from);
}

Result<std::vector<OutboxRow>> claim_due_outbox(Conn& c, std::string_view now, std::string_view lease_until, int limit) {
  // One statement, so the claim is atomic: a row another writer claimed first no longer matches
  // next_attempt_at <= :now (writes are serialized, and PostgreSQL re-checks the WHERE of a row it
  // waited for), and it is returned to one claimer only.
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format(
      "UPDATE outbox SET next_attempt_at = :lease WHERE status = 'pending' AND next_attempt_at <= :now AND id IN ("
      "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= :now ORDER BY next_attempt_at, id "
      "LIMIT :limit) RETURNING {}", kOutboxCols)));
  st.set(":now", now).set(":lease", lease_until).set(":limit", limit);
  SG_ASSIGN_OR_RETURN(auto rows, collect<OutboxRow>(st, outbox_from));
  std::sort(rows.begin(), rows.end(), [](const OutboxRow& a, const OutboxRow& b) { return a.id < b.id; });
  return rows;
}

Status update_outbox_attempt(Conn& c, const OutboxRow& o, bool ok, std::string_view at) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "UPDATE outbox SET status = :status, attempts = :attempts, next_attempt_at = :next, last_error = :error, "
      "sent_at = NULLIF(:sent, '') WHERE id = :id"));
  st.set(":status", o.status).set(":attempts", o.attempts).set(":next", o.next_attempt_at)
      .set(":error", o.last_error).set(":sent", o.sent_at).set(":id", o.id);
  SG_TRY(st.exec());
  SG_ASSIGN_OR_RETURN(auto a, c.prepare(
      "INSERT INTO delivery_attempts (outbox_id, at, ok, error) VALUES (:id, :at, :ok, :error)"));
  a.set(":id", o.id).set(":at", at).set(":ok", ok ? 1 : 0).set(":error", ok ? std::string() : o.last_error);
  return a.exec();
}

Result<std::int64_t> insert_notice(Conn& c, const NoticeRow& n) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO notices (unit_id, at, kind, form_code, period, title, body) "
      "VALUES (:unit, :at, :kind, :form, :period, :title, :body)"));
  st.set(":unit", n.unit_id).set(":at", n.at).set(":kind", n.kind).set(":form", n.form_code)
      .set(":period", n.period).set(":title", n.title).set(":body", n.body);
  SG_TRY(st.exec());
  return c.last_insert_id();
}

Result<std::vector<NoticeRow>> list_notices(Conn& c, std::int64_t unit_id, int limit) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT id, unit_id, at, kind, form_code, period, title, body, read FROM notices WHERE unit_id = :unit "
      "ORDER BY id DESC LIMIT :limit"));
  st.set(":unit", unit_id).set(":limit", limit);
  return collect<NoticeRow>(st, [](const Stmt& s) {
    return NoticeRow{s.int64(0), s.int64(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.text(7),
                     s.int32(8) != 0};
  });
}

Result<std::int64_t> insert_job(Conn& c, const JobRow& j) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO jobs (kind, state, done, total, result, actor, created_at, updated_at) "
      "VALUES (:kind, :state, :done, :total, :result, :actor, :created, :updated)"));
  st.set(":kind", j.kind).set(":state", j.state).set(":done", j.done).set(":total", j.total)
      .set(":result", j.result.dump()).set(":actor", j.actor).set(":created", j.created_at).set(":updated", j.updated_at);
  SG_TRY(st.exec());
  return c.last_insert_id();
}

Status update_job(Conn& c, const JobRow& j) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "UPDATE jobs SET state = :state, done = :done, total = :total, result = :result, updated_at = :updated "
      "WHERE id = :id"));
  st.set(":state", j.state).set(":done", j.done).set(":total", j.total).set(":result", j.result.dump())
      .set(":updated", j.updated_at).set(":id", j.id);
  return st.exec();
}

Result<std::optional<JobRow>> find_job(Conn& c, std::int64_t id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT id, kind, state, done, total, result, actor, created_at, updated_at FROM jobs WHERE id = :id"));
  st.set(":id", id);
  return first<JobRow>(st, [](const Stmt& s) {
    return JobRow{s.int64(0), s.text(1), s.text(2), s.int32(3), s.int32(4), parse_json_column(s.text(5), json::object()),
                  s.text(6), s.text(7), s.text(8)};
  });
}

// ---- users and sessions -----------------------------------------------------------------------

Result<std::int64_t> insert_user(Conn& c, const UserRow& u, std::string_view now) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO users (login, name, role, region, unit_id, password_hash, disabled, created_at) "
      "VALUES (:login, :name, :role, :region, :unit, :hash, :disabled, :at)"));
  st.set(":login", u.user.login).set(":name", u.user.name).set(":role", std::string(domain::role_name(u.user.role)))
      .set(":region", u.user.region).set(":unit", u.user.unit_id).set(":hash", u.password_hash)
      .set(":disabled", u.user.disabled ? 1 : 0).set(":at", now);
  SG_TRY(st.exec());
  return c.last_insert_id();
}

Result<std::optional<UserRow>> find_user_by_login(Conn& c, std::string_view login) {
  static const std::string sql = fmt::format("SELECT {} FROM users WHERE login = :login", kUserCols);
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(sql));
  st.set(":login", login);
  return first<UserRow>(st, user_from);
}

Result<std::optional<UserRow>> find_user(Conn& c, std::int64_t id) {
  static const std::string sql = fmt::format("SELECT {} FROM users WHERE id = :id", kUserCols);
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(sql));
  st.set(":id", id);
  return first<UserRow>(st, user_from);
}

Status set_password_hash(Conn& c, std::int64_t user_id, std::string_view hash) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("UPDATE users SET password_hash = :hash WHERE id = :id"));
  st.set(":hash", hash).set(":id", user_id);
  return st.exec();
}

Status set_user_disabled(Conn& c, std::int64_t user_id, bool disabled) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("UPDATE users SET disabled = :d WHERE id = :id"));
  st.set(":d", disabled ? 1 : 0).set(":id", user_id);
  return st.exec();
}

Status insert_session(Conn& c, const SessionRow& s) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen) "
      "VALUES (:hash, :user, :csrf, :created, :expires, :created)"));
  st.set(":hash", s.token_hash).set(":user", s.user_id).set(":csrf", s.csrf_token).set(":created", s.created_at)
      .set(":expires", s.expires_at);
  return st.exec();
}

Status delete_session(Conn& c, std::string_view token_hash) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("DELETE FROM sessions WHERE token_hash = :hash"));
  st.set(":hash", token_hash);
  return st.exec();
}

Status touch_session(Conn& c, std::string_view token_hash, std::string_view now) {
  // Never back: touches of one session by several processes may commit in any order.
  SG_ASSIGN_OR_RETURN(auto st,
                      c.prepare("UPDATE sessions SET last_seen = :now WHERE token_hash = :hash "
                                "AND (last_seen IS NULL OR last_seen < :now)"));
  st.set(":now", now).set(":hash", token_hash);
  return st.exec();
}

Result<std::optional<SessionUser>> find_session_user(Conn& c, std::string_view token_hash) {
  // Built once: it runs on every authenticated request.
  static const std::string sql = fmt::format(
      "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at, COALESCE(s.last_seen, s.created_at), {} "
      "FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.token_hash = :hash",
      qualified(kUserCols, "u"));
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(sql));
  st.set(":hash", token_hash);
  return first<SessionUser>(st, [](const Stmt& s) {
    SessionUser out{SessionRow{s.text(0), s.int64(1), s.text(2), s.text(3), s.text(4), s.text(5)}, std::nullopt};
    if (!s.is_null(6)) out.user = user_at(s, 6);
    return out;
  });
}

Status delete_user_sessions(Conn& c, std::int64_t user_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("DELETE FROM sessions WHERE user_id = :user"));
  st.set(":user", user_id);
  return st.exec();
}

Status record_login_failure(Conn& c, std::string_view login, std::string_view at) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("INSERT INTO login_failures (login, at) VALUES (:login, :at)"));
  st.set(":login", login).set(":at", at);
  return st.exec();
}

Result<int> count_login_failures(Conn& c, std::string_view login, std::string_view since) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT COUNT(*) FROM login_failures WHERE login = :login AND at >= :since"));
  st.set(":login", login).set(":since", since);
  SG_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? st.int32(0) : 0;
}

Status clear_login_failures(Conn& c, std::string_view login) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("DELETE FROM login_failures WHERE login = :login"));
  st.set(":login", login);
  return st.exec();
}

// ---- idempotency ------------------------------------------------------------------------------

Result<std::optional<IdempotencyRow>> find_idempotency(Conn& c, std::int64_t user_id, std::string_view key) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT request_hash, status, response FROM idempotency WHERE user_id = :user AND key = :key"));
  st.set(":user", user_id).set(":key", key);
  return first<IdempotencyRow>(st, [](const Stmt& s) { return IdempotencyRow{s.text(0), s.int32(1), s.text(2)}; });
}

Status insert_idempotency(Conn& c, std::int64_t user_id, std::string_view key, const IdempotencyRow& r,
                          std::string_view now) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO idempotency (user_id, key, request_hash, status, response, created_at) "
      "VALUES (:user, :key, :hash, :status, :response, :at)"));
  st.set(":user", user_id).set(":key", key).set(":hash", r.request_hash).set(":status", r.status)
      .set(":response", r.response).set(":at", now);
  return st.exec();
}

// ---- audit ------------------------------------------------------------------------------------

std::string audit_hash(const AuditRow& r) {
  // Length-prefixed fields, so that moving text between fields changes the hash.
  std::string buf;
  for (const std::string* f : {&r.prev_hash, &r.at, &r.actor, &r.action, &r.object, &r.detail}) {
    buf += std::to_string(f->size());
    buf += ':';
    buf += *f;
  }
  return sha256_hex(buf);
}

Status append_audit(Conn& c, std::string_view at, std::string_view actor, std::string_view action,
                    std::string_view object, const json& detail) {
  SG_ASSIGN_OR_RETURN(WriteCache * cache, batch_cache(c, "append_audit"));
  AuditRow r;
  r.prev_hash = cache->audit_head;  // read under the batch's lock, kept by the entries since
  r.at = at;
  r.actor = actor;
  r.action = action;
  r.object = object;
  r.detail = detail.dump();
  r.hash = audit_hash(r);
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO audit_log (at, actor, action, object, detail, prev_hash, hash) "
      "VALUES (:at, :actor, :action, :object, :detail, :prev, :hash)"));
  st.set(":at", r.at).set(":actor", r.actor).set(":action", r.action).set(":object", r.object)
      .set(":detail", r.detail).set(":prev", r.prev_hash).set(":hash", r.hash);
  SG_TRY(st.exec());
  // NOTE: if this INSERT fails (its error may come later, pipelined), the job is rolled back and
  // the writer puts the head of its savepoint back.
  cache->audit_head = std::move(r.hash);
  return Ok{};
}

Result<std::vector<AuditRow>> list_audit(Conn& c) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT id, at, actor, action, object, detail, prev_hash, hash FROM audit_log ORDER BY id"));
  return collect<AuditRow>(st, [](const Stmt& s) {
    return AuditRow{s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.text(7)};
  });
}

// ==== releases and documents (publication) ====================================================

namespace {

constexpr const char* kReleaseCols =
    "id, title_zh, title_en, release_at, form_code, period, tables, notes_zh, notes_en, city, state, created_at, "
    "created_by, updated_at, COALESCE(prepared_at, ''), COALESCE(signed_at, ''), COALESCE(signed_by, ''), "
    "package_sequence, COALESCE(package_name, '')";

ReleaseRow release_from(const Stmt& st) {
  ReleaseRow r;
  r.id = st.text(0);
  r.title_zh = st.text(1);
  r.title_en = st.text(2);
  r.release_at = st.text(3);
  r.form_code = st.text(4);
  r.period = st.text(5);
  r.tables = parse_json_column(st.text(6), json::array());
  r.notes_zh = st.text(7);
  r.notes_en = st.text(8);
  r.city = st.text(9);
  r.state = st.text(10);
  r.created_at = st.text(11);
  r.created_by = st.text(12);
  r.updated_at = st.text(13);
  r.prepared_at = st.text(14);
  r.signed_at = st.text(15);
  r.signed_by = st.text(16);
  r.package_sequence = st.opt_int64(17);
  r.package_name = st.text(18);
  return r;
}

void bind_release(Stmt& st, const ReleaseRow& r) {
  auto opt = [](const std::string& s) { return s.empty() ? std::optional<std::string>() : std::optional(s); };
  st.set(":id", r.id).set(":title_zh", r.title_zh).set(":title_en", r.title_en).set(":release_at", r.release_at)
      .set(":form", r.form_code).set(":period", r.period).set(":tables", r.tables.dump()).set(":notes_zh", r.notes_zh)
      .set(":notes_en", r.notes_en).set(":city", r.city).set(":state", r.state).set(":created_at", r.created_at)
      .set(":created_by", r.created_by).set(":updated_at", r.updated_at).set(":prepared_at", opt(r.prepared_at))
      .set(":signed_at", opt(r.signed_at)).set(":signed_by", opt(r.signed_by)).set(":seq", r.package_sequence)
      .set(":package_name", opt(r.package_name));
}

constexpr const char* kDocumentCols =
    "index_no, title, category, publisher, date, body, created_at, created_by, updated_at, updated_by, "
    "published_sequence";

DocumentRow document_from(const Stmt& st) {
  DocumentRow d;
  d.index_no = st.text(0);
  d.title = st.text(1);
  d.category = st.text(2);
  d.publisher = st.text(3);
  d.date = st.text(4);
  d.body = st.text(5);
  d.created_at = st.text(6);
  d.created_by = st.text(7);
  d.updated_at = st.text(8);
  d.updated_by = st.text(9);
  d.published_sequence = st.opt_int64(10);
  return d;
}

}  // namespace

Status insert_release(Conn& c, const ReleaseRow& r) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO releases (id, title_zh, title_en, release_at, form_code, period, tables, notes_zh, notes_en, city, "
      "state, created_at, created_by, updated_at, prepared_at, signed_at, signed_by, package_sequence, package_name) "
      "VALUES (:id, :title_zh, :title_en, :release_at, :form, :period, :tables, :notes_zh, :notes_en, :city, :state, "
      ":created_at, :created_by, :updated_at, :prepared_at, :signed_at, :signed_by, :seq, :package_name)"));
  bind_release(st, r);
  return st.exec();
}

Status update_release(Conn& c, const ReleaseRow& r) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "UPDATE releases SET title_zh = :title_zh, title_en = :title_en, release_at = :release_at, form_code = :form, "
      "period = :period, tables = :tables, notes_zh = :notes_zh, notes_en = :notes_en, city = :city, state = :state, "
      "updated_at = :updated_at, prepared_at = :prepared_at, signed_at = :signed_at, signed_by = :signed_by, "
      "package_sequence = :seq, package_name = :package_name WHERE id = :id"));
  bind_release(st, r);
  return st.exec();
}

Result<std::optional<ReleaseRow>> find_release(Conn& c, std::string_view id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM releases WHERE id = :id", kReleaseCols)));
  st.set(":id", id);
  return first<ReleaseRow>(st, release_from);
}

Result<std::vector<ReleaseRow>> list_releases(Conn& c) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM releases ORDER BY release_at, id", kReleaseCols)));
  return collect<ReleaseRow>(st, release_from);
}

Status set_release_package(Conn& c, std::string_view id, std::string_view bytes) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("UPDATE releases SET package = :bytes WHERE id = :id"));
  st.set_blob(":bytes", bytes).set(":id", id);
  return st.exec();
}

Result<std::optional<std::string>> release_package(Conn& c, std::string_view id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT package FROM releases WHERE id = :id AND package IS NOT NULL"));
  st.set(":id", id);
  return first<std::string>(st, [](const Stmt& s) { return s.text(0); });
}

Status set_prerelease(Conn& c, std::string_view release_id, const std::vector<std::int64_t>& user_ids) {
  {
    SG_ASSIGN_OR_RETURN(auto st, c.prepare("DELETE FROM release_prerelease WHERE release_id = :id"));
    st.set(":id", release_id);
    SG_TRY(st.exec());
  }
  for (auto u : user_ids) {
    SG_ASSIGN_OR_RETURN(auto st, c.prepare(
        "INSERT INTO release_prerelease (release_id, user_id) VALUES (:id, :user) ON CONFLICT DO NOTHING"));
    st.set(":id", release_id).set(":user", u);
    SG_TRY(st.exec());
  }
  return Ok{};
}

Result<std::vector<std::int64_t>> prerelease_users(Conn& c, std::string_view release_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT user_id FROM release_prerelease WHERE release_id = :id ORDER BY user_id"));
  st.set(":id", release_id);
  return collect<std::int64_t>(st, [](const Stmt& s) { return s.int64(0); });
}

Status replace_release_datasets(Conn& c, std::string_view release_id, const std::vector<ReleaseDatasetRow>& ds) {
  {
    SG_ASSIGN_OR_RETURN(auto st, c.prepare("DELETE FROM release_datasets WHERE release_id = :id"));
    st.set(":id", release_id);
    SG_TRY(st.exec());
  }
  int pos = 0;
  for (const auto& d : ds) {
    SG_ASSIGN_OR_RETURN(auto st, c.prepare(
        "INSERT INTO release_datasets (release_id, position, dataset_id, body) VALUES (:id, :pos, :ds, :body)"));
    st.set(":id", release_id).set(":pos", pos++).set(":ds", d.dataset_id).set(":body", d.body.dump());
    SG_TRY(st.exec());
  }
  return Ok{};
}

Result<std::vector<ReleaseDatasetRow>> release_datasets(Conn& c, std::string_view release_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT dataset_id, body FROM release_datasets WHERE release_id = :id ORDER BY position"));
  st.set(":id", release_id);
  return collect<ReleaseDatasetRow>(st, [](const Stmt& s) {
    return ReleaseDatasetRow{s.text(0), parse_json_column(s.text(1), json::object())};
  });
}

Result<std::int64_t> next_package_sequence(Conn& c, std::string_view agency) {
  {
    SG_ASSIGN_OR_RETURN(auto st, c.prepare(
        "INSERT INTO package_sequence (agency, value) VALUES (:agency, 1) "
        "ON CONFLICT (agency) DO UPDATE SET value = package_sequence.value + 1"));
    st.set(":agency", agency);
    SG_TRY(st.exec());
  }
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("SELECT value FROM package_sequence WHERE agency = :agency"));
  st.set(":agency", agency);
  SG_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return make_error(ErrorKind::internal, "SEQUENCE", "发布包序号缺失", "package sequence missing");
  return st.int64(0);
}

Status insert_document(Conn& c, const DocumentRow& d) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO documents (index_no, title, category, publisher, date, body, created_at, created_by, updated_at, "
      "updated_by, published_sequence) VALUES (:index_no, :title, :category, :publisher, :date, :body, :created_at, "
      ":created_by, :updated_at, :updated_by, NULL)"));
  st.set(":index_no", d.index_no).set(":title", d.title).set(":category", d.category).set(":publisher", d.publisher)
      .set(":date", d.date).set(":body", d.body).set(":created_at", d.created_at).set(":created_by", d.created_by)
      .set(":updated_at", d.updated_at).set(":updated_by", d.updated_by);
  return st.exec();
}

Status update_document(Conn& c, const DocumentRow& d) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "UPDATE documents SET title = :title, category = :category, publisher = :publisher, date = :date, body = :body, "
      "updated_at = :updated_at, updated_by = :updated_by, published_sequence = NULL WHERE index_no = :index_no"));
  st.set(":index_no", d.index_no).set(":title", d.title).set(":category", d.category).set(":publisher", d.publisher)
      .set(":date", d.date).set(":body", d.body).set(":updated_at", d.updated_at).set(":updated_by", d.updated_by);
  return st.exec();
}

Result<std::optional<DocumentRow>> find_document(Conn& c, std::string_view index_no) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM documents WHERE index_no = :index_no", kDocumentCols)));
  st.set(":index_no", index_no);
  return first<DocumentRow>(st, document_from);
}

Result<std::vector<DocumentRow>> list_documents(Conn& c, std::string_view q, std::string_view category) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format(
      "SELECT {} FROM documents WHERE (:q = '' OR {} OR {} OR {}) "
      "AND (:category = '' OR category = :category) ORDER BY date DESC, index_no", kDocumentCols,
      contains_sql(c, "title", ":q"), contains_sql(c, "body", ":q"), contains_sql(c, "index_no", ":q"))));
  st.set(":q", q).set(":category", category);
  return collect<DocumentRow>(st, document_from);
}

Result<std::vector<DocumentRow>> unpublished_documents(Conn& c) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format(
      "SELECT {} FROM documents WHERE published_sequence IS NULL ORDER BY index_no", kDocumentCols)));
  return collect<DocumentRow>(st, document_from);
}

Status mark_document_published(Conn& c, std::string_view index_no, std::int64_t sequence) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "UPDATE documents SET published_sequence = :seq WHERE index_no = :index_no"));
  st.set(":seq", sequence).set(":index_no", index_no);
  return st.exec();
}

Status replace_document_files(Conn& c, std::string_view index_no, const std::vector<DocumentFileRow>& files) {
  {
    SG_ASSIGN_OR_RETURN(auto st, c.prepare("DELETE FROM document_files WHERE index_no = :index_no"));
    st.set(":index_no", index_no);
    SG_TRY(st.exec());
  }
  for (const auto& f : files) {
    SG_ASSIGN_OR_RETURN(auto st, c.prepare(
        "INSERT INTO document_files (index_no, name, data) VALUES (:index_no, :name, :data)"));
    st.set(":index_no", index_no).set(":name", f.name).set_blob(":data", f.data);
    SG_TRY(st.exec());
  }
  return Ok{};
}

Result<std::vector<DocumentFileRow>> document_files(Conn& c, std::string_view index_no) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "SELECT name, data FROM document_files WHERE index_no = :index_no ORDER BY name"));
  st.set(":index_no", index_no);
  return collect<DocumentFileRow>(st, [](const Stmt& s) { return DocumentFileRow{s.text(0), s.text(1)}; });
}

// ==== e-signatures and TOTP (issue #7; migration V005) =======================================

namespace {
UnitKeyRow unit_key_from(const Stmt& s) {
  return UnitKeyRow{s.text(0), s.int64(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.text(7)};
}
constexpr const char* kUnitKeyCols =
    "key_id, unit_id, public_key, label, created_at, created_by, COALESCE(revoked_at, ''), COALESCE(revoked_by, '')";
SignatureRow signature_from(const Stmt& s) {
  return SignatureRow{s.int64(0), s.int32(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6)};
}
constexpr const char* kSignatureCols = "submission_id, version, key_id, signature, payload_sha256, signed_at, signed_by";
}  // namespace

Status insert_unit_key(Conn& c, const UnitKeyRow& k) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO unit_keys (key_id, unit_id, public_key, label, created_at, created_by) "
      "VALUES (:key, :unit, :pub, :label, :at, :by)"));
  st.set(":key", k.key_id).set(":unit", k.unit_id).set(":pub", k.public_key).set(":label", k.label)
      .set(":at", k.created_at).set(":by", k.created_by);
  return st.exec();
}

Result<std::optional<UnitKeyRow>> find_unit_key(Conn& c, std::string_view key_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM unit_keys WHERE key_id = :key", kUnitKeyCols)));
  st.set(":key", key_id);
  return first<UnitKeyRow>(st, unit_key_from);
}

Result<std::vector<UnitKeyRow>> list_unit_keys(Conn& c, std::int64_t unit_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format(
      "SELECT {} FROM unit_keys WHERE unit_id = :unit ORDER BY created_at, key_id", kUnitKeyCols)));
  st.set(":unit", unit_id);
  return collect<UnitKeyRow>(st, unit_key_from);
}

Status revoke_unit_key(Conn& c, std::string_view key_id, std::string_view at, std::string_view by) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "UPDATE unit_keys SET revoked_at = :at, revoked_by = :by WHERE key_id = :key AND revoked_at IS NULL"));
  st.set(":key", key_id).set(":at", at).set(":by", by);
  return st.exec();
}

Status insert_signature(Conn& c, const SignatureRow& s) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO submission_signatures (submission_id, version, key_id, signature, payload_sha256, "
      "signed_at, signed_by) VALUES (:sub, :version, :key, :sig, :hash, :at, :by) "
      "ON CONFLICT (submission_id, version) DO UPDATE SET key_id = excluded.key_id, signature = excluded.signature, "
      "payload_sha256 = excluded.payload_sha256, signed_at = excluded.signed_at, signed_by = excluded.signed_by"));
  st.set(":sub", s.submission_id).set(":version", s.version).set(":key", s.key_id).set(":sig", s.signature)
      .set(":hash", s.payload_sha256).set(":at", s.signed_at).set(":by", s.signed_by);
  return st.exec();
}

Result<std::optional<SignatureRow>> find_signature(Conn& c, std::int64_t submission_id, int version) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format(
      "SELECT {} FROM submission_signatures WHERE submission_id = :sub AND version = :version", kSignatureCols)));
  st.set(":sub", submission_id).set(":version", version);
  return first<SignatureRow>(st, signature_from);
}

Result<std::vector<SignatureRow>> list_signatures(Conn& c, std::int64_t submission_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format(
      "SELECT {} FROM submission_signatures WHERE submission_id = :sub ORDER BY version", kSignatureCols)));
  st.set(":sub", submission_id);
  return collect<SignatureRow>(st, signature_from);
}

Result<std::optional<SubmissionRow>> find_submission_by_id(Conn& c, std::int64_t id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM submissions WHERE id = :id", kSubmissionCols)));
  st.set(":id", id);
  return first<SubmissionRow>(st, submission_from);
}

Status upsert_totp(Conn& c, const TotpRow& t) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "INSERT INTO user_totp (user_id, secret, enabled, created_at, confirmed_at, last_step) "
      "VALUES (:user, :secret, :enabled, :at, NULLIF(:confirmed, ''), :step) "
      "ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, enabled = excluded.enabled, "
      "created_at = excluded.created_at, confirmed_at = excluded.confirmed_at, last_step = excluded.last_step"));
  st.set(":user", t.user_id).set(":secret", t.secret).set(":enabled", t.enabled ? 1 : 0).set(":at", t.created_at)
      .set(":confirmed", t.confirmed_at).set(":step", t.last_step);
  return st.exec();
}

namespace {
constexpr const char* kTotpCols = "user_id, secret, enabled, created_at, COALESCE(confirmed_at, ''), last_step";
TotpRow totp_from(const Stmt& s) {
  return TotpRow{s.int64(0), s.text(1), s.int32(2) != 0, s.text(3), s.text(4), s.int64(5)};
}
}  // namespace

Result<std::optional<TotpRow>> find_totp(Conn& c, std::int64_t user_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM user_totp WHERE user_id = :user", kTotpCols)));
  st.set(":user", user_id);
  return first<TotpRow>(st, totp_from);
}

Result<std::vector<TotpRow>> list_totp(Conn& c) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(fmt::format("SELECT {} FROM user_totp ORDER BY user_id", kTotpCols)));
  return collect<TotpRow>(st, totp_from);
}

Status update_totp(Conn& c, const TotpRow& t) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare(
      "UPDATE user_totp SET enabled = :enabled, confirmed_at = NULLIF(:confirmed, ''), last_step = :step "
      "WHERE user_id = :user"));
  st.set(":user", t.user_id).set(":enabled", t.enabled ? 1 : 0).set(":confirmed", t.confirmed_at)
      .set(":step", t.last_step);
  return st.exec();
}

Status delete_totp(Conn& c, std::int64_t user_id) {
  SG_ASSIGN_OR_RETURN(auto st, c.prepare("DELETE FROM user_totp WHERE user_id = :user"));
  st.set(":user", user_id);
  return st.exec();
}
// ==== end e-signatures and TOTP ===============================================================

}  // namespace statgov::store
