-- An archived group is read-only: no events, no plugin runs; its data stays.
ALTER TABLE groups ADD COLUMN archived_at BIGINT;
-- Where an operator token's alerts (e.g. a plugin switched off) are POSTed.
ALTER TABLE api_tokens ADD COLUMN webhook_url TEXT;
