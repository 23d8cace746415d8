-- Review workflow, monitoring, reminders (issue #3).
ALTER TABLE submissions ADD COLUMN first_submitted_at TEXT;
UPDATE submissions SET first_submitted_at = (
  SELECT MIN(at) FROM submission_events e WHERE e.submission_id = submissions.id AND e.action = 'submit');

CREATE TABLE reminders (
  id          INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,
  form_code   TEXT NOT NULL,
  period      TEXT NOT NULL,
  region      TEXT NOT NULL,
  message     TEXT NOT NULL,
  count       INTEGER NOT NULL
);

-- One row per message to one unit over one channel; the sender works through the pending ones.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  reminder_id     INTEGER REFERENCES reminders(id),
  unit_id         INTEGER NOT NULL REFERENCES units(id),
  channel         TEXT NOT NULL,         -- inapp | email | sms
  recipient       TEXT NOT NULL,
  subject         TEXT NOT NULL,
  body            TEXT NOT NULL,
  status          TEXT NOT NULL,         -- pending | sent | failed
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  created_at      TEXT NOT NULL,
  sent_at         TEXT
);
CREATE INDEX outbox_pending ON outbox(status, next_attempt_at);
CREATE INDEX outbox_reminder ON outbox(reminder_id);

CREATE TABLE delivery_attempts (
  id         INTEGER PRIMARY KEY,
  outbox_id  INTEGER NOT NULL REFERENCES outbox(id),
  at         TEXT NOT NULL,
  ok         INTEGER NOT NULL,
  error      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE notices (
  id         INTEGER PRIMARY KEY,
  unit_id    INTEGER NOT NULL REFERENCES units(id),
  at         TEXT NOT NULL,
  kind       TEXT NOT NULL,              -- reminder | return
  form_code  TEXT NOT NULL,
  period     TEXT NOT NULL,
  title      TEXT NOT NULL,
  body       TEXT NOT NULL,
  read       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notices_unit ON notices(unit_id, at);

CREATE TABLE jobs (
  id         INTEGER PRIMARY KEY,
  kind       TEXT NOT NULL,
  state      TEXT NOT NULL,              -- running | done | failed
  done       INTEGER NOT NULL DEFAULT 0,
  total      INTEGER NOT NULL DEFAULT 0,
  result     TEXT NOT NULL DEFAULT '{}',
  actor      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
