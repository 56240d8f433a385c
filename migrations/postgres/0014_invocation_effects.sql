-- A group's history can be replayed: each invocation keeps the version
-- that ran (`sha256`) and the effects it asked for (JSON; empty when it
-- failed and its effects were discarded). Rows from before this are NULL.
ALTER TABLE invocations ADD COLUMN sha256 TEXT;
ALTER TABLE invocations ADD COLUMN effects TEXT;
-- The order in which a group's events were processed, for replays (events
-- of one group commit one at a time, so their numbers rise in that order;
-- SQLite orders by rowid).
ALTER TABLE events ADD COLUMN seq BIGSERIAL;
