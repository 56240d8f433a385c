-- What operators (and the host) changed on a group, when and with which
-- token. Append-only: rows are inserted, never updated.
CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    group_id TEXT NOT NULL,
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    token_id TEXT,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX audit_log_group ON audit_log(group_id, id);

-- Where a disabled plugin ran, so that enabling it again puts it back there.
CREATE TABLE plugin_places (
    group_id TEXT NOT NULL,
    plugin   TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (group_id, plugin)
);
