#!/usr/bin/env bash
# Drops the kith_test_* databases that test runs left in the shared Postgres
# (each test drops its own; a run killed midway cannot).
set -euo pipefail
URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
left=$(psql "$URL" -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'kith\_test\_%'")
for name in $left; do
    psql "$URL" -q -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
done
echo "test databases left behind and dropped: $(echo "$left" | grep -c . || true)"
