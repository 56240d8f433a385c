-- API tokens may expire: Unix epoch milliseconds, NULL for never.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
