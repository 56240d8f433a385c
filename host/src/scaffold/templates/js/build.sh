#!/usr/bin/env bash
# Builds my-plugin.wasm with componentize-qjs 0.4.5 (QuickJS; WASI stubbed out,
# so the component imports only kith:plugin).
# KITH_JS_MODULES: a node_modules folder holding componentize-qjs; by default
# ./node_modules (npm install --save-dev componentize-qjs@0.4.5). In a kith
# checkout, `bash scripts/build-lang-plugins.sh` installs it in plugins/js/node_modules.
# The tool reads only files under its working folder: this one, with wit/ in it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
MODULES="${KITH_JS_MODULES:-node_modules}"
if [[ ! -x "$MODULES/.bin/componentize-qjs" ]]; then
    echo "error: no componentize-qjs in $MODULES: set KITH_JS_MODULES, or npm install --save-dev componentize-qjs@0.4.5" >&2
    exit 1
fi
"$MODULES/.bin/componentize-qjs" -w wit -j plugin.js -n my-world --sync --stub-wasi -o my-plugin.wasm >/dev/null
echo "built my-plugin.wasm; now: kith test my-plugin.wasm --scenarios scenarios"
