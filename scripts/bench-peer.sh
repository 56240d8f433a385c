#!/usr/bin/env bash
# Extism beside kith and bare wasmtime, in one criterion run
# (bench/extism-peer, docs/benchmarks.md §1). The peer is its own cargo
# workspace, outside the root one, so the test command never builds its
# second wasmtime; it builds into the repository's target dir.
#
#   bash scripts/bench-peer.sh                      # default: 1 s warm-up, 4 s per benchmark
#   bash scripts/bench-peer.sh -- extism            # extra criterion arguments after --
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ ! -f target/plugins/daily-checkin.wasm ]]; then
    bash scripts/build-plugins.sh
fi
[[ "${1:-}" == "--" ]] && shift
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
cd bench/extism-peer
cargo bench --locked --bench peer -- --warm-up-time 1 --measurement-time 4 "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
