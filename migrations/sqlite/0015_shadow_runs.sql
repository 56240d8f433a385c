-- Shadow runs: a candidate version enabled in shadow beside the live one
-- (enablements.shadow: version, config, since, as JSON) sees the same
-- events; what it asked for is recorded here beside what the live version
-- did, never applied.
ALTER TABLE enablements ADD COLUMN shadow TEXT;
CREATE TABLE shadow_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id       TEXT NOT NULL,
    plugin         TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    handler        TEXT NOT NULL,
    live_effects   TEXT NOT NULL,
    shadow_effects TEXT NOT NULL,
    live_error     TEXT,
    shadow_error   TEXT,
    differs        BIGINT NOT NULL,
    at             BIGINT NOT NULL
);
CREATE INDEX shadow_runs_by_plugin ON shadow_runs(group_id, plugin, id);
