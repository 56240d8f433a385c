-- Event ids are unique per group: adapters use per-chat message ids, and
-- two groups' events with the same id are two events. SQLite cannot change
-- a primary key in place, so the table is rebuilt.
CREATE TABLE events_per_group (
    group_id    TEXT NOT NULL,
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, id)
);
INSERT INTO events_per_group (group_id, id, kind, body, outcome, received_at)
    SELECT group_id, id, kind, body, outcome, received_at FROM events;
DROP TABLE events;
ALTER TABLE events_per_group RENAME TO events;

-- A payment's transfers are found by their ids (`<payment>:in`, refunds).
CREATE INDEX ledger_transfer ON ledger_entries(group_id, transfer_id);
