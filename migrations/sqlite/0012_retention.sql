-- Retention (host/src/retention.rs): old rows are found by their time and
-- deleted in small batches, which needs these indexes. Acknowledged outbox
-- actions already have one (outbox_pending: acked_at, id).
CREATE INDEX events_received ON events(received_at);
CREATE INDEX invocations_at ON invocations(at);
-- Messages are pruned only if the operator sets a window (--retain-messages).
CREATE INDEX messages_sent ON messages(sent_at);
