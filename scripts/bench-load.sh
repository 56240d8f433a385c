#!/usr/bin/env bash
# Load benchmarks of a real kith server on loopback (see docs/benchmarks.md).
#
#   bash scripts/bench-load.sh [sqlite|postgres]   throughput at full speed, then p99 at half that rate
#   bash scripts/bench-load.sh scaling [sqlite|postgres]
#                                                  events/s vs plugins per group, groups, connections
#   bash scripts/bench-load.sh rss                 server RSS with 1000 groups x 5 plugins
#   bash scripts/bench-load.sh restart             time to ready on a restart with 20 plugins
#   bash scripts/bench-load.sh processes           events/s with 1, 2 and 3 `kith serve` on one Postgres
#   bash scripts/bench-load.sh hostile [sqlite|postgres]
#                                                  other groups' latency while hostile plugins spin
#   bash scripts/bench-load.sh retention [sqlite|postgres]
#                                                  events/s, p99 and database size over a long paced
#                                                  run (RETENTION_SECS, default 1800) without, then
#                                                  with pruning (short windows)
#
# Builds the release binary once, starts `target/release/kith serve` on a
# free loopback port with a temp data dir (and, for postgres, a fresh
# database created with psql -h 127.0.0.1 -U postgres), runs `kith load`,
# prints the results and stops the server. Knobs (environment): LOAD_GROUPS,
# MEMBERS, EVENTS, CONCURRENCY, PLUGINS, NO_BUILD=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
KITH="$ROOT/target/release/kith"
MODE="${1:-sqlite}"
GROUPS_N="${LOAD_GROUPS:-100}"
MEMBERS="${MEMBERS:-20}"
EVENTS="${EVENTS:-20000}"
CONCURRENCY="${CONCURRENCY:-32}"
PLUGINS="${PLUGINS:-daily-checkin,referral-fission,ad-filter}"

if [[ "${NO_BUILD:-}" != 1 ]]; then
    cargo build --release -p kith
fi
if [[ ! -f target/plugins/daily-checkin.wasm ]]; then
    bash scripts/build-plugins.sh
fi

WORK="$(mktemp -d)"
SERVER_PID=""
PGDB=""
EXTRA_PIDS=()
cleanup() {
    stop_server
    stop_extra_servers
    if [[ -n "$PGDB" ]]; then
        psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server DB [extra serve args…]: starts kith on a fresh port (the data
# dir $WORK/data is kept across calls, so a second start is a restart) and
# waits for its "listening" line, then for its plugins to be compiled
# (/healthz says "plugins":"ready"). Sets PORT, URL, SERVER_PID, READY_MS
# (listening) and PLUGINS_MS (every plugin compiled), both from the start.
start_server() {
    local db="$1"
    shift
    PORT="$(free_port)"
    URL="http://127.0.0.1:$PORT"
    local dbargs=()
    if [[ "$db" == postgres ]]; then
        if [[ -z "$PGDB" ]]; then
            PGDB="kith_bench_$$_$RANDOM"
            psql -h 127.0.0.1 -U postgres -q -c "CREATE DATABASE $PGDB" >/dev/null
        fi
        dbargs=(--database "postgres://postgres@127.0.0.1:5432/$PGDB")
    fi
    : >"$WORK/server.log"
    READY_MS=""
    local t0 t1
    t0=$(date +%s%N)
    RUST_LOG="${RUST_LOG:-warn}" "$KITH" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" \
        "${dbargs[@]}" "$@" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 6000); do
        if [[ -z "${READY_MS:-}" ]] && grep -q "listening" "$WORK/server.log"; then
            t1=$(date +%s%N)
            READY_MS=$(((t1 - t0) / 1000000))
        fi
        if [[ -n "${READY_MS:-}" ]] && curl -sf "$URL/healthz" | grep -q '"plugins":"ready"'; then
            t1=$(date +%s%N)
            PLUGINS_MS=$(((t1 - t0) / 1000000))
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$WORK/server.log" >&2
            echo "error: the server exited" >&2
            exit 1
        fi
        sleep 0.01
    done
    echo "error: the server did not get ready in 60 s" >&2
    exit 1
}

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

load() {
    "$KITH" load --server "$URL" "$@"
}

field() { # field NAME < load output
    grep '^RESULT' | grep -o "$1=[0-9.]*" | head -1 | cut -d= -f2
}

machine() {
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -m | awk '/Mem:/{print $2}') MiB RAM; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

throughput() {
    local db="$1"
    machine
    start_server "$db"
    echo "== $db: the HTTP floor (GET /healthz, $CONCURRENCY connections, $EVENTS requests)"
    load --floor --events "$EVENTS" --concurrency "$CONCURRENCY" | grep RESULT
    echo "== $db: full speed (groups $GROUPS_N x members $MEMBERS, plugins $PLUGINS, $CONCURRENCY connections, $EVENTS events)"
    local out eps half paced_events
    out="$(load --groups "$GROUPS_N" --members "$MEMBERS" --events "$EVENTS" --concurrency "$CONCURRENCY" --plugins "$PLUGINS")"
    echo "$out"
    eps="$(echo "$out" | field events_per_sec)"
    half=$((${eps%.*} / 2))
    ((half > 0)) || half=1
    # About 10 s of paced events (at least 2000).
    paced_events=$((half * 10))
    ((paced_events >= 2000)) || paced_events=2000
    echo "== $db: paced at half the max rate ($half events/s, $paced_events events)"
    load --groups "$GROUPS_N" --members "$MEMBERS" --events "$paced_events" --concurrency "$CONCURRENCY" \
        --plugins "$PLUGINS" --rate "$half" --skip-setup
    echo "server RSS after the runs: $(ps -o rss= -p "$SERVER_PID") KiB"
    stop_server
}

scaling() {
    local db="$1" n="${EVENTS_SCALING:-5000}" out
    machine
    start_server "$db"
    echo "== $db: plugins per group (100 groups x 20 members, 32 connections, $n events)"
    local p1="daily-checkin" p3="daily-checkin,referral-fission,ad-filter"
    local p5="daily-checkin,referral-fission,ad-filter,points-levels,welcome-ritual"
    local p0="" i=0
    for plugins in NONE "$p1" "$p3" "$p5"; do
        i=$((i + 1))
        if [[ "$plugins" == NONE ]]; then p0=""; else p0="$plugins"; fi
        out="$(load --group-prefix "p$i" --groups 100 --members 20 --events "$n" --concurrency 32 --plugins "$p0")"
        echo "plugins=[${p0}] $(echo "$out" | grep RESULT)"
    done
    echo "== $db: groups (3 plugins, 20 members, 32 connections, $n events)"
    for g in 1 10 100 1000; do
        out="$(load --group-prefix "g$g" --groups "$g" --members 20 --events "$n" --concurrency 32 --plugins "$p3")"
        echo "groups=$g $(echo "$out" | grep RESULT)"
    done
    echo "== $db: connections (100 groups x 20 members, 3 plugins, $n events)"
    load --group-prefix c --groups 100 --members 20 --events 1 --concurrency 32 --plugins "$p3" >/dev/null
    for c in 1 4 16 32 64 128; do
        out="$(load --group-prefix c --groups 100 --members 20 --events "$n" --concurrency "$c" --plugins "$p3" --skip-setup)"
        echo "connections=$c $(echo "$out" | grep RESULT)"
    done
    stop_server
}

rss() {
    machine
    start_server sqlite
    echo "RSS at start: $(ps -o rss= -p "$SERVER_PID") KiB"
    local plugins="ad-filter,daily-checkin,referral-fission,points-levels,welcome-ritual"
    # 1000 groups x 5 plugins; then events reaching every group, so every
    # plugin has been instantiated and every group's state touched.
    load --groups 1000 --members 5 --events 10000 --concurrency 32 --plugins "$plugins"
    echo "RSS with 1000 groups x 5 plugins, after 10000 events: $(ps -o rss= -p "$SERVER_PID") KiB"
    stop_server
}

restart() {
    machine
    # First start: install the bundled plugins, then test plugins up to 20.
    start_server sqlite --install target/plugins
    local n
    for f in target/test-plugins/*.wasm; do
        n="$(curl -s "$URL/v1/plugins" | python3 -c 'import json,sys; v=json.load(sys.stdin); print(len(v["plugins"] if isinstance(v,dict) else v))')"
        ((n >= 20)) && break
        curl -s -o /dev/null -w "install $(basename "$f"): %{http_code}\n" -H 'content-type: application/wasm' \
            --data-binary "@$f" "$URL/v1/plugins"
    done
    n="$(curl -s "$URL/v1/plugins" | python3 -c 'import json,sys; v=json.load(sys.stdin); print(len(v["plugins"] if isinstance(v,dict) else v))')"
    echo "installed plugins: $n; first start: listening after ${READY_MS} ms, bundled plugins installed and compiled after ${PLUGINS_MS} ms"
    stop_server
    echo "compiled cache: $(ls "$WORK/data/cache" | wc -l) files, $(du -sh "$WORK/data/cache" | cut -f1)"
    for i in 1 2 3; do
        start_server sqlite
        echo "restart $i: listening after ${READY_MS} ms, all plugins ready after ${PLUGINS_MS} ms, RSS $(ps -o rss= -p "$SERVER_PID") KiB"
        stop_server
    done
}

# Paced load on normal groups, first alone, then while HOSTILE_GROUPS other
# groups run the hostile test plugin's infinite loop back to back. The worst
# case: its fuel is unlimited (HOSTILE_FUEL=2000000000 for the default), so
# every invocation spins for its whole 1 s budget before it is stopped, and
# auto-disable is off so it keeps spinning.
# Shows what a misbehaving plugin costs everyone else.
hostile() {
    local db="$1" rate="${RATE:-200}" hg="${HOSTILE_GROUPS:-1}" secs="${SECONDS_PER_RUN:-15}"
    local n=$((rate * secs)) i
    machine
    start_server "$db"
    [[ -f target/test-plugins/hostile.wasm ]] || bash scripts/build-plugins.sh
    load --groups "$GROUPS_N" --members "$MEMBERS" --events 0 --plugins "$PLUGINS" >/dev/null
    load --group-prefix hostile --groups "$hg" --members 2 --events 0 --plugins hostile \
        --plugin-dir target/test-plugins >/dev/null
    for i in $(seq 0 $((hg - 1))); do
        curl -sf -o /dev/null -X PUT -H 'content-type: application/json' \
            -d "{\"config\": {}, \"policy\": {\"disable_after\": null}, \"limits\": {\"fuel\": ${HOSTILE_FUEL:-1000000000000000}, \"timeout_ms\": 1000}}" \
            "$URL/v1/groups/hostile-$i/plugins/hostile"
    done
    echo "== $db: $GROUPS_N groups, plugins $PLUGINS, paced at $rate events/s, $n events: undisturbed"
    load --groups "$GROUPS_N" --members "$MEMBERS" --events "$n" --concurrency "$CONCURRENCY" \
        --plugins "$PLUGINS" --rate "$rate" --skip-setup
    echo "== the same, while $hg hostile group(s) send \"loop\" back to back"
    load --group-prefix hostile --groups "$hg" --members 2 --events 1000000 --concurrency "$hg" \
        --plugins hostile --skip-setup --text loop >/dev/null &
    local hostile_pid=$!
    sleep 2
    load --groups "$GROUPS_N" --members "$MEMBERS" --events "$n" --concurrency "$CONCURRENCY" \
        --plugins "$PLUGINS" --rate "$rate" --skip-setup
    kill "$hostile_pid" 2>/dev/null || true
    wait "$hostile_pid" 2>/dev/null || true
    echo "-- meanwhile in the hostile groups (last invocations):"
    for i in $(seq 0 $((hg - 1))); do
        curl -s "$URL/v1/groups/hostile-$i/invocations?limit=1000" | python3 -c '
import json, sys
inv = json.load(sys.stdin)["invocations"]
loops = [i for i in inv if i["handler"] == "on-message"]
ms = sorted(i["duration_us"] / 1000 for i in loops)
print(f"hostile-'"$i"': {len(loops)} loop invocations, each stopped after {ms[0]:.0f}-{ms[-1]:.0f} ms;",
      "errors:", sorted({i["error"] for i in loops}))'
    done
    stop_server
}

# start_extra_server N: another kith process on the same Postgres database,
# with a data dir of its own; its URL is appended to URLS.
start_extra_server() {
    local n="$1" port
    port="$(free_port)"
    RUST_LOG="${RUST_LOG:-warn}" "$KITH" serve --listen "127.0.0.1:$port" --data-dir "$WORK/data$n" \
        --database "postgres://postgres@127.0.0.1:5432/$PGDB" >"$WORK/server$n.log" 2>&1 &
    EXTRA_PIDS+=($!)
    for _ in $(seq 1 6000); do
        if curl -sf "http://127.0.0.1:$port/healthz" | grep -q '"plugins":"ready"'; then
            URLS="$URLS,http://127.0.0.1:$port"
            return 0
        fi
        sleep 0.01
    done
    cat "$WORK/server$n.log" >&2
    echo "error: kith process $n did not get ready in 60 s" >&2
    exit 1
}

stop_extra_servers() {
    local pid
    for pid in "${EXTRA_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    EXTRA_PIDS=()
}

# The standard load against 1, 2 and 3 processes on one Postgres, each beside
# the HTTP floor of the same processes (connections spread over them).
processes() {
    local n out
    machine
    start_server postgres
    URLS="$URL"
    "$KITH" load --server "$URLS" --groups "$GROUPS_N" --members "$MEMBERS" --events 0 --plugins "$PLUGINS" >/dev/null
    for n in 1 2 3; do
        ((n == 1)) || start_extra_server "$n"
        echo "== $n process(es): the HTTP floor"
        "$KITH" load --server "$URLS" --floor --events "$EVENTS" --concurrency "$CONCURRENCY" | grep RESULT
        echo "== $n process(es): groups $GROUPS_N x members $MEMBERS, plugins $PLUGINS, $CONCURRENCY connections, $EVENTS events"
        out="$("$KITH" load --server "$URLS" --groups "$GROUPS_N" --members "$MEMBERS" --events "$EVENTS" \
            --concurrency "$CONCURRENCY" --plugins "$PLUGINS" --skip-setup)"
        echo "$out" | grep -E 'RESULT|errors'
    done
    stop_extra_servers
    stop_server
}

# An adapter stand-in: leases and acknowledges outbox actions until killed,
# so that acknowledged actions exist to prune.
acker() {
    python3 - "$URL" <<'PY'
import json, sys, time, urllib.request
url = sys.argv[1]
def post(path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
while True:
    try:
        actions = post("/v1/outbox/lease", {"limit": 1000, "lease_ms": 60000})["actions"]
        if actions:
            post("/v1/outbox/ack", {"ids": [a["id"] for a in actions]})
        else:
            time.sleep(0.2)
    except Exception as e:
        print("acker:", e, file=sys.stderr)
        time.sleep(1)
PY
}

# The size lines the server logged (`kith serve` logs the database size and
# row counts every --size-log-every-secs), as seconds since the first.
size_log() {
    grep 'kith::retention.*database' "$WORK/server.log" | sed 's/\x1b\[[0-9;]*m//g' |
        python3 -c '
import sys, datetime
t0 = None
for line in sys.stdin:
    ts = datetime.datetime.fromisoformat(line.split()[0].rstrip("Z")[:26])
    t0 = t0 or ts
    print("  t=%4ds %s" % ((ts - t0).total_seconds(), line.split("kith::retention: ", 1)[-1].strip()))'
}

# retention DB: the standard load (groups x members x 3 plugins) paced at half
# the max rate for RETENTION_SECS, with an adapter acknowledging the outbox,
# twice on a fresh database: with the default windows (30 d: nothing is old
# enough to prune in the run) and with short ones, so that pruning runs all
# along (events and messages 60 s, invocations and acknowledged actions 30 s,
# a pass every 5 s); then a full-speed run on the pruned database. Prints
# each run's figures and the database size every SAMPLE_SECS.
retention() {
    local db="$1" secs="${RETENTION_SECS:-1800}" sample="${SAMPLE_SECS:-30}" out eps half
    machine
    start_server "$db"
    out="$(load --groups "$GROUPS_N" --members "$MEMBERS" --events "$EVENTS" --concurrency "$CONCURRENCY" --plugins "$PLUGINS")"
    eps="$(echo "$out" | field events_per_sec)"
    half="${RATE:-$((${eps%.*} / 2))}"
    echo "== $db: max rate $eps events/s; paced runs at $half events/s for $secs s"
    stop_server
    local short=(--retain-events 60s --replay-window 60s --retain-messages 60s
        --retain-invocations 30s --retain-acked-outbox 30s --prune-every-secs 5)
    for variant in keep prune; do
        rm -rf "$WORK/data"
        if [[ -n "$PGDB" ]]; then
            psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
            PGDB=""
        fi
        local args=(--size-log-every-secs "$sample")
        [[ "$variant" == prune ]] && args+=("${short[@]}")
        RUST_LOG="kith::retention=info,warn" start_server "$db" "${args[@]}"
        load --groups "$GROUPS_N" --members "$MEMBERS" --events 1 --concurrency 1 --plugins "$PLUGINS" >/dev/null
        acker 2>>"$WORK/acker.log" &
        local acker_pid=$!
        echo "== $db, $variant (${args[*]}): paced at $half events/s for $secs s"
        load --groups "$GROUPS_N" --members "$MEMBERS" --events "$((half * secs))" --concurrency "$CONCURRENCY" \
            --plugins "$PLUGINS" --rate "$half" --skip-setup | grep -E 'RESULT|errors'
        echo "== $db, $variant: full speed on that database ($EVENTS events)"
        load --groups "$GROUPS_N" --members "$MEMBERS" --events "$EVENTS" --concurrency "$CONCURRENCY" \
            --plugins "$PLUGINS" --skip-setup | grep -E 'RESULT|errors'
        kill "$acker_pid" 2>/dev/null || true
        wait "$acker_pid" 2>/dev/null || true
        echo "database size and rows, as the server logged them:"
        size_log
        grep 'retention: pruned' "$WORK/server.log" | tail -2 | sed 's/\x1b\[[0-9;]*m//g; s/^/  last passes: /' || true
        stop_server
    done
}

case "$MODE" in
    sqlite | postgres) throughput "$MODE" ;;
    scaling) scaling "${2:-sqlite}" ;;
    rss) rss ;;
    restart) restart ;;
    hostile) hostile "${2:-sqlite}" ;;
    processes) processes ;;
    retention) retention "${2:-sqlite}" ;;
    *)
        echo "usage: $0 [sqlite|postgres|scaling [sqlite|postgres]|rss|restart|processes|hostile [sqlite|postgres]|retention [sqlite|postgres]]" >&2
        exit 2
        ;;
esac
