-- Several versions of a plugin side by side. Each installed file is a
-- version (its content hash); `plugins` keeps one row per name pointing at
-- the latest installed version (what a new enablement runs). Each
-- enablement is pinned to a version (`sha256`, always written) and
-- remembers what it ran before its last upgrade (`previous`: version,
-- config and grant as JSON), for a one-call rollback.
CREATE TABLE plugin_versions (
    name         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    version      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    wasm         BLOB NOT NULL,
    installed_at BIGINT NOT NULL,
    PRIMARY KEY (name, sha256)
);
INSERT INTO plugin_versions (name, sha256, version, kind, metadata, wasm, installed_at)
    SELECT name, wasm_sha256, version, kind, metadata, wasm, installed_at FROM plugins;
-- The component lives in plugin_versions now.
UPDATE plugins SET wasm = X'';
ALTER TABLE enablements ADD COLUMN sha256 TEXT;
UPDATE enablements SET sha256 = (SELECT p.wasm_sha256 FROM plugins p WHERE p.name = enablements.plugin);
ALTER TABLE enablements ADD COLUMN previous TEXT;
