#!/usr/bin/env bash
# Cold and warm start of `kith serve`: a fresh data dir with the 16 bundled
# Rust plugins given to --install, then a restart on the same data dir.
# Prints, for each, when the server answered /healthz (listening) and when it
# said "plugins":"ready" (every plugin installed and compiled), in ms from
# the process start. KITH=path picks the binary (default: a release build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -z "${KITH:-}" ]]; then
    cargo build --release --locked -p kith
    KITH="$ROOT/target/release/kith"
fi
[[ -n "$(ls target/plugins/*.wasm 2>/dev/null)" ]] || bash scripts/build-plugins.sh
WORK="$(mktemp -d)"
trap 'pkill -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/plugins"
for f in plugins/rust/*/Cargo.toml; do
    name="$(basename "$(dirname "$f")")"
    [[ -f "target/plugins/$name.wasm" ]] && cp "target/plugins/$name.wasm" "$WORK/plugins/"
done
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

start() { # start LABEL [serve args…]
    local label="$1" t0 listening
    shift
    t0=$(date +%s%N)
    "$KITH" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" "$@" >"$WORK/$label.log" 2>&1 &
    local pid=$!
    until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 0.01; done
    listening=$(ms "$t0")
    until curl -sf "http://127.0.0.1:$PORT/healthz" | grep -q '"plugins":"ready"'; do sleep 0.01; done
    echo "RESULT start=$label plugins=$(ls "$WORK/plugins" | wc -l) listening_ms=$listening ready_ms=$(ms "$t0")"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

start cold --install "$WORK/plugins"
start warm
