#!/usr/bin/env bash
# Builds my-plugin.wasm from plugin.zig: a core module carrying wit-bindgen's
# component-type section, which `kith test` and the host accept as it is.
# Needs wit-bindgen-cli 0.63.0 (cargo install wit-bindgen-cli --version 0.63.0
# --locked) and Zig 0.17.1, from PyPI: pip install ziglang==0.17.1 (the zig
# binary in a wheel, run as `python3 -m ziglang`). The zig used: $ZIG (a
# command, e.g. "python3 -m ziglang"), else the ziglang package of the venv
# $KITH_PY, else `zig` on PATH, else `python3 -m ziglang`. In a kith checkout,
# `bash scripts/build-lang-plugins.sh` installs it in target/toolchains/py:
# KITH_PY=<kith>/target/toolchains/py ./build.sh
# Zig's first run fills its cache (~/.cache/zig: its translate-c, wasi-libc),
# a few minutes; later builds take a couple of seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PATH="$PATH:$HOME/.cargo/bin"
WIT_BINDGEN="${WIT_BINDGEN:-wit-bindgen}"
if [[ -n "${ZIG:-}" ]]; then
    read -ra zig <<<"$ZIG"
elif [[ -n "${KITH_PY:-}" ]]; then
    zig=("$KITH_PY/bin/python" -m ziglang)
elif command -v zig >/dev/null; then
    zig=(zig)
else
    zig=(python3 -m ziglang)
fi
if ! "${zig[@]}" version >/dev/null 2>&1; then
    echo "error: no zig at ${zig[*]}: set ZIG or KITH_PY (a venv with pip install ziglang==0.17.1)" >&2
    exit 1
fi
version="$("${zig[@]}" version)"
if [[ "$version" != 0.17.* ]]; then
    echo "warning: zig $version; this skeleton is written for 0.17.1 (Zig's std and flags change between releases)" >&2
fi
gen=target/bindings
rm -rf "$gen"
mkdir -p "$gen"
if ! "$WIT_BINDGEN" c wit --world my-world --out-dir "$gen" >target/bindings.log 2>&1; then
    cat target/bindings.log >&2
    exit 1
fi
# The generated header, as a Zig module (plugin.zig imports it as "bindings"):
# Zig 0.17 has no @cImport, translate-c is its replacement.
"${zig[@]}" translate-c -target wasm32-wasi -lc -I "$gen" "$gen/my_world.h" >"$gen/bindings.zig"
# Reactor: no main, no _start; the generated my_world.c exports the handlers
# (export_name attributes) and cabi_realloc; wasi-libc gives malloc and free.
# A 64 KiB stack, as clang's (Zig's default, 16 MiB, would count against the
# plugin's memory budget on every call): raise it for deep recursion.
"${zig[@]}" build-exe -target wasm32-wasi -mexec-model=reactor -fno-entry -O ReleaseSmall -fstrip -lc --stack 65536 \
    --dep bindings -I "$gen" "$gen/my_world.c" "$gen/my_world_component_type.o" -Mroot=plugin.zig \
    -Mbindings="$gen/bindings.zig" -femit-bin=my-plugin.wasm
# The host gives core modules no WASI: std.debug.print, std.fs... would need it.
if grep -q wasi_snapshot_preview1 my-plugin.wasm; then
    echo "error: my-plugin.wasm imports wasi_snapshot_preview1 (stdio?); use c.kith_plugin_log_log" >&2
    exit 1
fi
echo "built my-plugin.wasm; now: kith test my-plugin.wasm --scenarios scenarios"
