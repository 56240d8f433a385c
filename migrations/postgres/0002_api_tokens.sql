-- API tokens: only a hash of the secret is kept.
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scope      TEXT NOT NULL,
    groups     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
