#!/usr/bin/env bash
# Builds the plugins written in Python, JavaScript and C to wasm components in
# target/plugins/<name>.wasm, installing each toolchain from the package
# registries when it is missing (see shared/TOOLCHAINS.md and docs/languages.md):
#   - Python: componentize-py (PyPI) in a venv under target/toolchains/py;
#   - JavaScript: componentize-qjs (npm), pinned in plugins/js/package.json and
#     package-lock.json, installed with `npm ci` into plugins/js/node_modules;
#   - C: wit-bindgen-cli (crates.io) and clang-14 + wasi-libc (Debian);
#   - Zig (for `kith plugin new --lang zig`; no bundled plugin): ziglang (PyPI,
#     the zig binary in a wheel) in the same venv, target/toolchains/py.
# Idempotent: what is installed is left alone, and apt's index is refreshed
# only when a package must be installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/target/plugins"
BUILD="$ROOT/target/lang-build"
mkdir -p "$OUT" "$BUILD"

COMPONENTIZE_PY_VERSION=0.25.1
WIT_BINDGEN_VERSION=0.63.0
ZIGLANG_VERSION=0.17.1
C_PACKAGES=(clang-14 wasi-libc libclang-rt-14-dev-wasm32)

report() {
    local name="$1"
    printf '%-24s %9d bytes  %s\n' "$name" "$(stat -c %s "$OUT/$name.wasm")" "target/plugins/$name.wasm"
}

# ---- toolchains ---------------------------------------------------------------

# Debian packages: clang and wasi-libc for C, and on a bare machine node/npm
# and the venv module (Debian splits it out of python3).
apt_missing=()
for pkg in "${C_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || apt_missing+=("$pkg")
done
command -v node >/dev/null 2>&1 || apt_missing+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_missing+=(npm)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || apt_missing+=(python3-venv)
if ((${#apt_missing[@]})); then
    if ((EUID != 0)); then
        echo "error: need root to install ${apt_missing[*]}" >&2
        exit 1
    fi
    echo "installing ${apt_missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}"
fi

PY="$ROOT/target/toolchains/py"
if [[ "$("$PY/bin/componentize-py" --version 2>/dev/null || true)" != *"$COMPONENTIZE_PY_VERSION"* ]]; then
    echo "installing componentize-py==$COMPONENTIZE_PY_VERSION into ${PY#"$ROOT"/}" >&2
    python3 -m venv "$PY"
    "$PY/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION"
fi
if [[ "$("$PY/bin/python" -m ziglang version 2>/dev/null || true)" != "$ZIGLANG_VERSION" ]]; then
    echo "installing ziglang==$ZIGLANG_VERSION into ${PY#"$ROOT"/}" >&2
    "$PY/bin/python" -m pip install --quiet --disable-pip-version-check "ziglang==$ZIGLANG_VERSION"
fi

# `npm ci` installs exactly what package-lock.json pins; skipped while the
# installed componentize-qjs is the pinned one and loads.
js_pinned="$(cd plugins/js && node -p 'require("./package.json").devDependencies["componentize-qjs"]')"
js_installed="$(cd plugins/js && node -p 'require("componentize-qjs"); require("componentize-qjs/package.json").version' 2>/dev/null || true)"
if [[ "$js_installed" != "$js_pinned" ]]; then
    echo "installing componentize-qjs $js_pinned (npm ci in plugins/js)" >&2
    (cd plugins/js && npm ci --no-audit --no-fund --loglevel=error)
fi

export PATH="$HOME/.cargo/bin:$PATH"
if [[ "$(wit-bindgen --version 2>/dev/null || true)" != "wit-bindgen-cli $WIT_BINDGEN_VERSION"* ]]; then
    echo "installing wit-bindgen-cli $WIT_BINDGEN_VERSION (cargo install: a few minutes)" >&2
    cargo install wit-bindgen-cli --version "$WIT_BINDGEN_VERSION" --locked --quiet
fi

# ---- plugins --------------------------------------------------------------------

# build_python DIR WORLD: DIR/app.py (and its modules) to target/plugins/<basename DIR>.wasm
build_python() {
    local dir="$1" world="$2" name
    name="$(basename "$dir")"
    "$PY/bin/componentize-py" -d wit/0.1.0 -w "$world" componentize -p "$dir" app -o "$OUT/$name.wasm" >/dev/null
    report "$name"
}

# build_js DIR WORLD WIT: DIR/plugin.js to target/plugins/<basename DIR>.wasm,
# against the contract in folder WIT (wit for the current one, wit/0.1.0).
# componentize-qjs cannot read ../wit, so the contract's files are copied
# (uncommitted, see .gitignore) under plugins/js/.build, the tool's folder.
build_js() {
    local dir="$1" world="$2" wit="$3" name
    name="$(basename "$dir")"
    rm -rf plugins/js/.build/wit
    mkdir -p plugins/js/.build/wit
    cp "$wit"/*.wit plugins/js/.build/wit/
    (cd plugins/js && node_modules/.bin/componentize-qjs -w .build/wit -j "$name/plugin.js" -n "$world" \
        --sync --stub-wasi -o "$OUT/$name.wasm" >/dev/null)
    report "$name"
}

# build_c DIR WORLD: DIR/plugin.c to target/plugins/<basename DIR>.wasm, a core
# module carrying wit-bindgen's component-type section: the host componentizes
# it at install (it imports nothing from WASI: no stdio), so no wasm-tools here.
build_c() {
    local dir="$1" world="$2" name gen
    name="$(basename "$dir")"
    gen="$BUILD/c/$name"
    rm -rf "$gen"
    mkdir -p "$gen"
    if ! wit-bindgen c wit/0.1.0 --world "$world" --out-dir "$gen" >"$gen.log" 2>&1; then
        cat "$gen.log" >&2
        exit 1
    fi
    clang-14 --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -Os -Wall -Werror \
        -Wl,--strip-all -Wl,--gc-sections -I "$gen" \
        -o "$OUT/$name.wasm" "$dir/plugin.c" "$gen/${world//-/_}.c" "$gen/${world//-/_}_component_type.o"
    if grep -q wasi_snapshot_preview1 "$OUT/$name.wasm"; then
        echo "error: $name imports wasi_snapshot_preview1 (stdio?); the host would need the reactor adapter" >&2
        exit 1
    fi
    report "$name"
}

build_python plugins/python/daily-checkin-py activity-game
build_js plugins/js/referral-fission-js plugin wit
build_c plugins/c/capacity-overflow-c entry-gate
