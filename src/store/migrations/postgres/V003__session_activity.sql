-- Idle session timeout (issue #7): when the session was last used.
ALTER TABLE sessions ADD COLUMN last_seen TEXT;
UPDATE sessions SET last_seen = created_at;
