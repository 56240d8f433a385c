#!/usr/bin/env bash
# Makes sure a Postgres answers on 127.0.0.1:5432 for the tests: machines of
# this kind start one before a session; if it is down, start it again, and
# if there is none, install Debian's.
set -euo pipefail

ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1; then
    echo "installing postgresql" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if ready; then
    exit 0
fi
for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
done
for _ in $(seq 1 30); do
    ready && exit 0
    sleep 1
done
echo "error: Postgres is not answering on 127.0.0.1:5432" >&2
exit 1
