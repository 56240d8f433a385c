-- kith schema. Times are Unix epoch milliseconds, amounts integer minor units,
-- JSON is stored as text so that the same queries run on SQLite and Postgres.

CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    positioning TEXT NOT NULL,
    category    TEXT NOT NULL,
    region      TEXT,
    capacity    BIGINT NOT NULL,
    parent      TEXT REFERENCES groups(id),
    timezone    TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX groups_parent ON groups(parent);

CREATE TABLE members (
    group_id         TEXT NOT NULL REFERENCES groups(id),
    member_id        TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    role             TEXT NOT NULL,
    status           TEXT NOT NULL,
    inviter          TEXT,
    joined_at        BIGINT,
    last_active_at   BIGINT,
    paid_tier        TEXT,
    paid_until       BIGINT,
    restricted_until BIGINT,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX members_status ON members(group_id, status);

CREATE TABLE member_tags (
    group_id  TEXT NOT NULL,
    member_id TEXT NOT NULL,
    tag       TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id, tag)
);
CREATE INDEX member_tags_tag ON member_tags(group_id, tag);

CREATE TABLE join_requests (
    id             TEXT PRIMARY KEY,
    group_id       TEXT NOT NULL REFERENCES groups(id),
    member_id      TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    invite_code    TEXT,
    referrer       TEXT,
    answer         TEXT,
    payload        TEXT NOT NULL,
    status         TEXT NOT NULL,
    reason         TEXT,
    redirect_to    TEXT,
    pending_plugin TEXT,
    requested_at   BIGINT NOT NULL,
    decided_at     BIGINT
);
CREATE INDEX join_requests_member ON join_requests(group_id, member_id, status);

CREATE TABLE messages (
    group_id      TEXT NOT NULL REFERENCES groups(id),
    id            TEXT NOT NULL,
    sender        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    text          TEXT NOT NULL,
    mentions      TEXT NOT NULL,
    reply_to      TEXT,
    links         TEXT NOT NULL,
    sent_at       BIGINT NOT NULL,
    deleted       BIGINT NOT NULL DEFAULT 0,
    delete_reason TEXT,
    PRIMARY KEY (group_id, id)
);
CREATE INDEX messages_time ON messages(group_id, sent_at);

CREATE TABLE plugins (
    name         TEXT PRIMARY KEY,
    version      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    wasm_sha256  TEXT NOT NULL,
    wasm         BYTEA NOT NULL,
    installed_at BIGINT NOT NULL
);

CREATE TABLE enablements (
    group_id             TEXT NOT NULL REFERENCES groups(id),
    plugin               TEXT NOT NULL REFERENCES plugins(name),
    position             BIGINT NOT NULL,
    config               TEXT NOT NULL,
    capabilities         TEXT NOT NULL,
    limits               TEXT NOT NULL,
    enabled_at           BIGINT NOT NULL,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    last_error           TEXT,
    PRIMARY KEY (group_id, plugin)
);

CREATE TABLE plugin_storage (
    plugin   TEXT NOT NULL,
    group_id TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    BYTEA NOT NULL,
    PRIMARY KEY (plugin, group_id, key)
);

CREATE TABLE ledger_entries (
    id          BIGSERIAL PRIMARY KEY,
    group_id    TEXT NOT NULL,
    transfer_id TEXT NOT NULL,
    account     TEXT NOT NULL,
    asset       TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    memo        TEXT NOT NULL,
    plugin      TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX ledger_account ON ledger_entries(group_id, account, asset);

CREATE TABLE timers (
    plugin    TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    name      TEXT NOT NULL,
    due_at    BIGINT NOT NULL,
    period_ms BIGINT,
    payload   TEXT NOT NULL,
    PRIMARY KEY (plugin, group_id, name)
);
CREATE INDEX timers_due ON timers(due_at);

-- One row per ingested event: the idempotency key and the processing record,
-- written in the same transaction as the event's effects.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    group_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

-- Every plugin invocation, ok or not, with its figures and logs.
CREATE TABLE invocations (
    id          BIGSERIAL PRIMARY KEY,
    event_id    TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    plugin      TEXT NOT NULL,
    handler     TEXT NOT NULL,
    ok          BIGINT NOT NULL,
    error       TEXT,
    fuel_used   BIGINT NOT NULL,
    duration_us BIGINT NOT NULL,
    logs        TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX invocations_group ON invocations(group_id, plugin, id);

-- Actions for the chat adapter, delivered in id order and acknowledged.
CREATE TABLE outbox (
    id         BIGSERIAL PRIMARY KEY,
    group_id   TEXT NOT NULL,
    action     TEXT NOT NULL,
    payload    TEXT NOT NULL,
    plugin     TEXT,
    created_at BIGINT NOT NULL,
    acked_at   BIGINT
);
CREATE INDEX outbox_pending ON outbox(acked_at, id);
