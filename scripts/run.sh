#!/usr/bin/env bash
# Installs what is missing, builds the host and the bundled plugins, and
# starts kith on its embedded SQLite default with those plugins installed.
# Extra arguments go to `kith serve` (e.g. --listen 0.0.0.0:8080).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/build-plugins.sh
cargo build --release --locked -p kith
exec "$ROOT/target/release/kith" serve --data-dir "$ROOT/kith-data" --install "$ROOT/target/plugins" "$@"
