-- Monitoring asks which units changed region, industry, size or status after a period ended
-- (store::unit_changes_after, once per monitoring request): by time, not by a scan of the history.
CREATE INDEX unit_history_at ON unit_history(at);
