-- statgov schema version 1 (SQLite). Times are UTC ISO 8601 text so that they sort.
CREATE TABLE regions (
  code        TEXT PRIMARY KEY,          -- 12-digit 统计用区划代码
  name        TEXT NOT NULL,
  level       INTEGER NOT NULL,          -- 1 province .. 4 township
  parent      TEXT,
  vintage     TEXT NOT NULL,             -- code list the code comes from
  replaced_by TEXT                       -- newer code when the division was renamed or merged
);
CREATE INDEX regions_parent ON regions(parent);

CREATE TABLE industries (
  code        TEXT PRIMARY KEY,          -- GB/T 4754-2017: A-T, 2, 3 or 4 digits
  level       INTEGER NOT NULL,          -- 1 门类 .. 4 小类
  name        TEXT NOT NULL,
  section     TEXT NOT NULL,
  parent      TEXT,
  description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE units (
  id          INTEGER PRIMARY KEY,
  uscc        TEXT NOT NULL UNIQUE,
  uscc_note   TEXT NOT NULL DEFAULT '',  -- e.g. pilot-era code accepted with a warning
  name        TEXT NOT NULL,
  region      TEXT NOT NULL REFERENCES regions(code),
  industry    TEXT NOT NULL REFERENCES industries(code),
  size        INTEGER NOT NULL CHECK (size BETWEEN 1 AND 4),
  status      TEXT NOT NULL DEFAULT 'active',
  attributes  TEXT NOT NULL DEFAULT '{}',
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX units_region ON units(region);
CREATE INDEX units_industry ON units(industry);

CREATE TABLE unit_history (
  id          INTEGER PRIMARY KEY,
  unit_id     INTEGER NOT NULL REFERENCES units(id),
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,
  field       TEXT NOT NULL,
  old_value   TEXT,
  new_value   TEXT
);
CREATE INDEX unit_history_unit ON unit_history(unit_id);

CREATE TABLE forms (
  code        TEXT NOT NULL,
  version     INTEGER NOT NULL,
  definition  TEXT NOT NULL,             -- the form definition JSON
  created_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  PRIMARY KEY (code, version)
);

CREATE TABLE submissions (
  id           INTEGER PRIMARY KEY,
  unit_id      INTEGER NOT NULL REFERENCES units(id),
  form_code    TEXT NOT NULL,
  form_version INTEGER NOT NULL,
  period       TEXT NOT NULL,
  region       TEXT NOT NULL,            -- the unit's region when last written, for scope filters
  state        TEXT NOT NULL,
  version      INTEGER NOT NULL,
  vals         TEXT NOT NULL,            -- one JSON document per version (DESIGN.md section 6)
  explanations TEXT NOT NULL DEFAULT '{}',
  results      TEXT NOT NULL DEFAULT '[]',
  updated_at   TEXT NOT NULL,
  seq          INTEGER NOT NULL,         -- change sequence, increases with every write
  UNIQUE (unit_id, form_code, period)
);
CREATE INDEX submissions_form_period ON submissions(form_code, period);
CREATE INDEX submissions_seq ON submissions(seq);

CREATE TABLE submission_versions (
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  version       INTEGER NOT NULL,
  state         TEXT NOT NULL,
  vals          TEXT NOT NULL,
  explanations  TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  actor         TEXT NOT NULL,
  PRIMARY KEY (submission_id, version)
);

CREATE TABLE submission_events (
  id            INTEGER PRIMARY KEY,
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  at            TEXT NOT NULL,
  actor         TEXT NOT NULL,
  action        TEXT NOT NULL,
  from_state    TEXT NOT NULL,
  to_state      TEXT NOT NULL,
  reason        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX submission_events_sub ON submission_events(submission_id);

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  login         TEXT NOT NULL UNIQUE,
  name          TEXT NOT NULL,
  role          TEXT NOT NULL,
  region        TEXT NOT NULL,
  unit_id       INTEGER REFERENCES units(id),
  password_hash TEXT NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
  token_hash  TEXT PRIMARY KEY,          -- SHA-256 of the cookie value; the token itself is never stored
  user_id     INTEGER NOT NULL REFERENCES users(id),
  csrf_token  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_failures (
  login       TEXT NOT NULL,
  at          TEXT NOT NULL
);
CREATE INDEX login_failures_login ON login_failures(login, at);

CREATE TABLE idempotency (
  user_id      INTEGER NOT NULL,
  key          TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status       INTEGER NOT NULL,
  response     TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  PRIMARY KEY (user_id, key)
);

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  object      TEXT NOT NULL,
  detail      TEXT NOT NULL,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);

CREATE TABLE change_seq (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
);
INSERT INTO change_seq (id, value) VALUES (1, 0);
