#!/usr/bin/env bash
# Checks formatting and clippy (warnings are errors), installs what is
# missing, builds the plugins and runs every test:
# the plugins' own unit tests, then the host's unit, store, runtime and
# end-to-end tests on SQLite and on Postgres (required here, not skipped),
# the Matrix adapter against a real Synapse it starts on loopback, and the
# web console in a headless Chromium (tests/console).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Style first: cheap, and a failure here needs no plugin build to show.
echo "== cargo fmt --check (host workspace, plugin workspaces)"
cargo fmt --all --check
(cd plugins/rust && cargo fmt --all --check)
(cd tests/plugins && cargo fmt --all --check)

echo "== cargo clippy --all-targets -D warnings (missing docs included)"
cargo clippy --workspace --all-targets --locked -- -D warnings

bash scripts/build-plugins.sh
bash scripts/build-lang-plugins.sh

echo "== plugin unit tests (native)"
(cd plugins/rust && PATH="/usr/bin:$PATH" CARGO_TARGET_DIR="$ROOT/plugins/rust/target" cargo test --locked --quiet)

echo "== kith test: every bundled plugin against the conformance suite, with its scenarios"
cargo build --locked -p kith
mkdir -p target/conformance
# Compiled code is kept between runs: Python and JS components take a while.
export KITH_CACHE_DIR="$ROOT/target/kith-cache"
for wasm in target/plugins/*.wasm; do
    name="$(basename "$wasm" .wasm)"
    scenarios="$(ls -d plugins/*/"$name"/scenarios 2>/dev/null | head -n 1)"
    if [[ -z "$scenarios" ]]; then
        echo "error: plugin $name ships no scenarios (plugins/<lang>/$name/scenarios)" >&2
        exit 1
    fi
    target/debug/kith test "$wasm" --scenarios "$scenarios" --junit "target/conformance/$name.xml"
done

echo "== python plugin unit tests"
python3 -m unittest discover -s plugins/python/daily-checkin-py

echo "== Synapse for the Matrix adapter's end-to-end test (pinned, from PyPI, into target/)"
bash scripts/synapse.sh install

bash scripts/ensure-postgres.sh
# Debian's chromium and chromedriver for the console's browser test.
bash scripts/ensure-browser.sh
export KITH_REQUIRE_BROWSER=1
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export KITH_REQUIRE_POSTGRES=1

echo "== API fuzzing against /openapi.json (schemathesis): no 5xx, responses as documented"
for db in sqlite postgres; do bash scripts/fuzz-api.sh "$db"; done

echo "== host tests (SQLite and Postgres: $DATABASE_URL)"
mkdir -p target
set +e
cargo test --workspace --locked --no-fail-fast 2>&1 | tee target/cargo-test.log
status=${PIPESTATUS[0]}
set -e
# Each test drops its Postgres database; a run killed midway leaves some.
bash scripts/drop-test-databases.sh
# One closing line for the whole run: cargo prints a line per test binary.
passed=$(grep -oE '^test result: [A-Za-z]+\. [0-9]+ passed' target/cargo-test.log | awk '{s += $4} END {print s + 0}')
failed=$(grep -oE '^test result: .*; [0-9]+ failed' target/cargo-test.log | grep -oE '[0-9]+ failed' | awk '{s += $1} END {print s + 0}')
echo "tests: $passed passed, $failed failed"
exit "$status"
