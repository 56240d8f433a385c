-- Event ids are unique per group: adapters use per-chat message ids, and
-- two groups' events with the same id are two events.
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD PRIMARY KEY (group_id, id);

-- A payment's transfers are found by their ids (`<payment>:in`, refunds).
CREATE INDEX ledger_transfer ON ledger_entries(group_id, transfer_id);
