-- When kith processed an event (its clock), beside `received_at`, which is
-- the event's own time (an adapter may send old events, or retry one).
-- Retention prunes by this: an event processed today is kept its whole
-- window, however old its own time, so a retry of it is still recognised.
-- Rows from before this have none; retention falls back to received_at.
ALTER TABLE events ADD COLUMN processed_at BIGINT;
CREATE INDEX events_processed ON events(processed_at);
-- The same for invocations: kept their window from when they ran.
ALTER TABLE invocations ADD COLUMN processed_at BIGINT;
CREATE INDEX invocations_processed ON invocations(processed_at);
-- And for shadow runs.
ALTER TABLE shadow_runs ADD COLUMN processed_at BIGINT;
CREATE INDEX shadow_runs_processed ON shadow_runs(processed_at);
