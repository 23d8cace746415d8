-- Publication (docs/publication.md section 5): the release calendar, prepared datasets, the
-- 政务公开 document catalogue and the agency's package counter.
CREATE TABLE releases (
  id               TEXT PRIMARY KEY,       -- the release code, e.g. 2026-11-B204-1
  title_zh         TEXT NOT NULL,
  title_en         TEXT NOT NULL,
  release_at       TEXT NOT NULL,          -- UTC, to the minute: 2026-12-15T01:30:00Z
  form_code        TEXT NOT NULL,
  period           TEXT NOT NULL,
  tables           TEXT NOT NULL,          -- JSON [{by, indicators}]
  notes_zh         TEXT NOT NULL DEFAULT '',
  notes_en         TEXT NOT NULL DEFAULT '',
  city             TEXT NOT NULL,          -- 12-digit code of the city that publishes
  state            TEXT NOT NULL,          -- planned | prepared | signed | cancelled
  created_at       TEXT NOT NULL,
  created_by       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  prepared_at      TEXT,
  signed_at        TEXT,
  signed_by        TEXT,
  package_sequence BIGINT,
  package_name     TEXT,
  package          BYTEA                    -- the signed .sgpkg as exported
);
CREATE INDEX releases_at ON releases(release_at);

-- Users allowed to read a release before its minute (pre-release access, 预发布名单).
CREATE TABLE release_prerelease (
  release_id  TEXT NOT NULL REFERENCES releases(id),
  user_id     BIGINT NOT NULL REFERENCES users(id),
  PRIMARY KEY (release_id, user_id)
);

-- The datasets a prepare step built: exactly what the package will carry.
CREATE TABLE release_datasets (
  release_id  TEXT NOT NULL REFERENCES releases(id),
  position    INTEGER NOT NULL,
  dataset_id  TEXT NOT NULL,
  body        TEXT NOT NULL,               -- dataset JSON (docs/publication.md section 3)
  PRIMARY KEY (release_id, dataset_id)
);

CREATE TABLE documents (
  index_no            TEXT PRIMARY KEY,    -- 索引号, e.g. 430200-2026-000123
  title               TEXT NOT NULL,
  category            TEXT NOT NULL,
  publisher           TEXT NOT NULL,
  date                TEXT NOT NULL,       -- YYYY-MM-DD
  body                TEXT NOT NULL,
  created_at          TEXT NOT NULL,
  created_by          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  updated_by          TEXT NOT NULL,
  published_sequence  BIGINT              -- the package that carries the current text; NULL = not yet
);

CREATE TABLE document_files (
  index_no    TEXT NOT NULL REFERENCES documents(index_no),
  name        TEXT NOT NULL,
  data        BYTEA NOT NULL,
  PRIMARY KEY (index_no, name)
);

-- The agency's package counter: the next package takes value + 1 in the transaction that signs.
CREATE TABLE package_sequence (
  agency      TEXT PRIMARY KEY,
  value       BIGINT NOT NULL
);
