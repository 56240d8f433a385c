-- Several kith processes poll the same due timers: a process claims an
-- occurrence until `claimed_until` (kith's clock, epoch ms) before running
-- it, so each runs once; a claim left by a process that died runs out and
-- another process takes the occurrence over.
ALTER TABLE timers ADD COLUMN claimed_until BIGINT;
