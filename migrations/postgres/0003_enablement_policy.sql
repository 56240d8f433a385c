-- What happens when a plugin fails, and why it was switched off.
ALTER TABLE enablements ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE enablements ADD COLUMN disabled_reason TEXT;
