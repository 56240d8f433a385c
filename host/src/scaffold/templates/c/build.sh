#!/usr/bin/env bash
# Builds my-plugin.wasm: a core module carrying wit-bindgen's component-type
# section, which `kith test` and the host accept as it is.
# Needs wit-bindgen-cli 0.63.0 (cargo install wit-bindgen-cli --version 0.63.0
# --locked) and clang-14 with wasi-libc (apt-get install clang-14 wasi-libc
# libclang-rt-14-dev-wasm32); override with WIT_BINDGEN, CLANG, WASI_SYSROOT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PATH="$PATH:$HOME/.cargo/bin"
WIT_BINDGEN="${WIT_BINDGEN:-wit-bindgen}"
CLANG="${CLANG:-clang-14}"
WASI_SYSROOT="${WASI_SYSROOT:-/usr}"
gen=target/bindings
rm -rf "$gen"
mkdir -p "$gen"
if ! "$WIT_BINDGEN" c wit --world my-world --out-dir "$gen" >target/bindings.log 2>&1; then
    cat target/bindings.log >&2
    exit 1
fi
"$CLANG" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" -mexec-model=reactor -Os -Wall -Werror \
    -Wl,--strip-all -Wl,--gc-sections -I "$gen" \
    -o my-plugin.wasm plugin.c "$gen/my_world.c" "$gen/my_world_component_type.o"
# The host gives core modules no WASI: stdio (printf...) would need it.
if grep -q wasi_snapshot_preview1 my-plugin.wasm; then
    echo "error: my-plugin.wasm imports wasi_snapshot_preview1 (stdio?); use kith_plugin_log_log" >&2
    exit 1
fi
echo "built my-plugin.wasm; now: kith test my-plugin.wasm --scenarios scenarios"
