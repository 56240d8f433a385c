#!/usr/bin/env bash
# Installs what is missing, builds the plugins and runs every test:
# the plugins' own unit tests, then the host's unit, store, runtime and
# end-to-end tests on SQLite and on Postgres (required here, not skipped).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/build-plugins.sh

echo "== plugin unit tests (native)"
(cd plugins/rust && PATH="/usr/bin:$PATH" CARGO_TARGET_DIR="$ROOT/plugins/rust/target" cargo test --locked --quiet)

echo "== kith test: every bundled plugin against the conformance suite"
cargo build --locked -p kith
mkdir -p target/conformance
for wasm in target/plugins/*.wasm; do
    name="$(basename "$wasm" .wasm)"
    args=(--junit "target/conformance/$name.xml")
    if [[ -d "plugins/rust/$name/scenarios" ]]; then
        args+=(--scenarios "plugins/rust/$name/scenarios")
    fi
    target/debug/kith test "$wasm" "${args[@]}"
done

bash scripts/ensure-postgres.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export KITH_REQUIRE_POSTGRES=1

echo "== host tests (SQLite and Postgres: $DATABASE_URL)"
cargo test --workspace --locked --no-fail-fast
