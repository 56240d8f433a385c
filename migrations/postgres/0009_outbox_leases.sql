-- Outbox for several adapter workers: an action is leased to one worker
-- until `leased_until`, redelivered after it with one more attempt, and set
-- aside (`dead_at`) after too many attempts.
ALTER TABLE outbox ADD COLUMN leased_until BIGINT;
ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN dead_at BIGINT;
