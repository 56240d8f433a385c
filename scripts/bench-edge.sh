#!/usr/bin/env bash
# The network edge under attack (see docs/benchmarks.md §6, docs/security.md):
#
#   bash scripts/bench-edge.sh [flood|slowloris|both]
#
# Starts `kith serve` (KITH_BIN, default target/release/kith, built if
# missing) on a free loopback port with a temp SQLite data dir and its
# default edge limits (extra serve flags in SERVE_ARGS), then runs
# scripts/bench_edge.py: /healthz and POST /v1/groups latency before and
# during the attack. flood: CONNS (default 20000) idle connections, reopened
# whenever the server closes them, from two client processes (each under
# the per-process descriptor limit). slowloris: CONNS (default 2000)
# connections sending their headers a byte a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
KITH="${KITH_BIN:-$ROOT/target/release/kith}"
MODE="${1:-both}"
if [[ ! -x "$KITH" ]]; then
    cargo build --release -p kith
fi
ulimit -n "$(ulimit -Hn)"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# shellcheck disable=SC2086
RUST_LOG="${RUST_LOG:-error}" "$KITH" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" \
    ${SERVE_ARGS:-} >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
    grep -q listening "$WORK/server.log" && break
    sleep 0.1
done
grep listening "$WORK/server.log"

# run MODE CONNS: probes before, then with the attack running (after it
# has ramped up, and 12 s later: past the header timeout).
run() {
    local mode="$1" conns="$2" pids=()
    python3 scripts/bench_edge.py "$PORT" probe "before-$mode"
    if [[ "$mode" == flood ]]; then
        # Two processes: one cannot hold 20,000 sockets under a 20,000 descriptor limit.
        python3 scripts/bench_edge.py "$PORT" attack flood "$((conns / 2))" 40 &
        pids+=($!)
        python3 scripts/bench_edge.py "$PORT" attack flood "$((conns - conns / 2))" 40 &
        pids+=($!)
    else
        python3 scripts/bench_edge.py "$PORT" attack "$mode" "$conns" 40 &
        pids+=($!)
    fi
    sleep 15
    python3 scripts/bench_edge.py "$PORT" probe "$mode"
    echo "server: $(ps -o rss= -p "$SERVER_PID") KiB RSS, $(ls /proc/"$SERVER_PID"/fd | wc -l) descriptors"
    sleep 12
    python3 scripts/bench_edge.py "$PORT" probe "$mode-later"
    wait "${pids[@]}"
}

case "$MODE" in
flood) run flood "${CONNS:-20000}" ;;
slowloris) run slowloris "${CONNS:-2000}" ;;
both)
    run flood "${CONNS:-20000}"
    run slowloris "${SLOW_CONNS:-2000}"
    ;;
*)
    echo "usage: $0 [flood|slowloris|both]" >&2
    exit 2
    ;;
esac
