#!/usr/bin/env bash
# Builds my-plugin.wasm with componentize-py 0.25.1: a component bundling CPython
# (~18 MB; a host compiles it once, ~70 s in a debug build, then caches it).
# The componentize-py used: $COMPONENTIZE_PY, else the one in the venv $KITH_PY,
# else the one on PATH. In a kith checkout, `bash scripts/build-lang-plugins.sh`
# installs it in target/toolchains/py: KITH_PY=<kith>/target/toolchains/py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ -z "${COMPONENTIZE_PY:-}" ]]; then
    if [[ -n "${KITH_PY:-}" ]]; then COMPONENTIZE_PY="$KITH_PY/bin/componentize-py"; else COMPONENTIZE_PY=componentize-py; fi
fi
if ! command -v "$COMPONENTIZE_PY" >/dev/null; then
    echo "error: no componentize-py at $COMPONENTIZE_PY: set COMPONENTIZE_PY or KITH_PY (a venv with pip install componentize-py==0.25.1)" >&2
    exit 1
fi
"$COMPONENTIZE_PY" -d wit -w my-world componentize -p . app -o my-plugin.wasm >/dev/null
echo "built my-plugin.wasm; now: kith test my-plugin.wasm --scenarios scenarios"
