-- Referral codes issued by the host (issue 22.6): one per member and group,
-- the same every time it is asked for. A join request attributes its member
-- only through a code found here, so a referrer can no longer be forged by
-- naming a member id.
CREATE TABLE referral_codes (
    group_id TEXT NOT NULL,
    code TEXT NOT NULL,
    member_id TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    -- The plugin that asked for it in an event; NULL: through the API. A
    -- replay re-issues the plugins' codes from their events and copies
    -- the API's, which no event records.
    plugin TEXT,
    PRIMARY KEY (group_id, code),
    UNIQUE (group_id, member_id)
);
