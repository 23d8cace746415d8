-- E-signatures (电子签章) and the staff TOTP second factor (issue #7).

-- Ed25519 public keys a unit registered. A revoked key stays: signatures made before revocation
-- must still verify later.
CREATE TABLE unit_keys (
  key_id      TEXT PRIMARY KEY,          -- first 16 hex digits of SHA-256 over the raw public key
  unit_id     BIGINT NOT NULL REFERENCES units(id),
  public_key  TEXT NOT NULL,             -- base64 of the 32 raw bytes
  label       TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  revoked_at  TEXT,
  revoked_by  TEXT
);
CREATE INDEX unit_keys_unit ON unit_keys(unit_id);

-- One signature per submitted version; the payload hash is of the canonical bytes signed
-- (docs/signatures.md), so a later re-verification can tell which side changed.
CREATE TABLE submission_signatures (
  submission_id  BIGINT NOT NULL REFERENCES submissions(id),
  version        INTEGER NOT NULL,
  key_id         TEXT NOT NULL REFERENCES unit_keys(key_id),
  signature      TEXT NOT NULL,          -- base64 of the 64-byte Ed25519 signature
  payload_sha256 TEXT NOT NULL,
  signed_at      TEXT NOT NULL,
  signed_by      TEXT NOT NULL,
  PRIMARY KEY (submission_id, version)
);

-- TOTP (RFC 6238) for staff accounts. The secret is written at enrolment and never returned
-- afterwards; `enabled` turns on once the user confirmed a code. last_step stops a code from
-- being used twice.
CREATE TABLE user_totp (
  user_id      BIGINT PRIMARY KEY REFERENCES users(id),
  secret       TEXT NOT NULL,            -- base32
  enabled      INTEGER NOT NULL DEFAULT 0,
  created_at   TEXT NOT NULL,
  confirmed_at TEXT,
  last_step    BIGINT NOT NULL DEFAULT -1
);
