#!/usr/bin/env bash
# Builds my-plugin.wasm from plugin.zig: a core module carrying wit-bindgen's
# component-type section, which `kith test` and the host accept as it is.
# Needs wit-bindgen-cli 0.63.0 (cargo install wit-bindgen-cli --version 0.63.0
# --locked) and Zig 0.17.1 from PyPI (pip install ziglang==0.17.1). The zig
# used: $ZIG (a command, e.g. "python3 -m ziglang"), else the ziglang package
# of the venv $KITH_PY, else `zig` on PATH, else `python3 -m ziglang`. In a
# kith checkout, `bash scripts/build-lang-plugins.sh` installs it in
# target/toolchains/py: KITH_PY=<kith>/target/toolchains/py.
# Zig's first run builds its cache (~/.cache/zig: translate-c, libc), a few
# minutes; later builds take seconds.
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
gen=target/bindings
rm -rf "$gen"
mkdir -p "$gen"
if ! "$WIT_BINDGEN" c wit --world my-world --out-dir "$gen" >target/bindings.log 2>&1; then
    cat target/bindings.log >&2
    exit 1
fi
# The generated header, as a Zig module (plugin.zig imports it as "bindings").
"${zig[@]}" translate-c -target wasm32-wasi -lc -I "$gen" "$gen/my_world.h" >"$gen/bindings.zig"
# Reactor: no main, no _start; the generated my_world.c exports the handlers
# (export_name attributes) and cabi_realloc; wasi-libc gives malloc and free.
"${zig[@]}" build-exe -target wasm32-wasi -mexec-model=reactor -fno-entry -O ReleaseSmall -fstrip -lc --stack 65536 \
    --dep bindings -I "$gen" "$gen/my_world.c" "$gen/my_world_component_type.o" -Mroot=plugin.zig \
    -Mbindings="$gen/bindings.zig" -femit-bin=my-plugin.wasm
# The host gives core modules no WASI: std.debug.print, std.fs... would need it.
if grep -q wasi_snapshot_preview1 my-plugin.wasm; then
    echo "error: my-plugin.wasm imports wasi_snapshot_preview1 (stdio?); use c.kith_plugin_log_log" >&2
    exit 1
fi
echo "built my-plugin.wasm; now: kith test my-plugin.wasm --scenarios scenarios"
