#!/usr/bin/env bash
# Builds the Rust plugins to wasm core modules in target/plugins/<name>.wasm.
#
# The modules carry wit-bindgen's component-type section; the host turns
# them into components when a plugin is installed, so no wasm-tools here.
# rustup cannot add wasm32 targets on our machines, so this uses Debian's
# rustc-web toolchain and rebuilds std for wasm32 (-Zbuild-std), see
# shared/TOOLCHAINS.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORKSPACE="$ROOT/plugins/rust"
OUT="$ROOT/target/plugins"
PACKAGES=(rustc-web cargo-web rust-web-src lld)
# wit-bindgen 0.63 pulls in wit-parser, whose MSRV is 1.88. Bookworm's main
# archive only has rustc-web 1.85; bookworm-security carries the newer one.
MIN_RUSTC_WEB=1.88

outdated() {
    local v
    v="$(dpkg-query -W -f='${Version}' rustc-web 2>/dev/null)" || return 0
    dpkg --compare-versions "$v" lt "$MIN_RUSTC_WEB"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})) || outdated; then
    if ((EUID != 0)); then
        echo "error: need root to install ${PACKAGES[*]}" >&2
        exit 1
    fi
    echo "installing ${PACKAGES[*]}" >&2
    # Only refresh the index when something must be installed: it is slow
    # and needs the network.
    apt-get update -qq
    # All four, not just the missing ones, so an old rustc-web is upgraded
    # together with its matching cargo-web and rust-web-src.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PACKAGES[@]}"
    if outdated; then
        echo "error: rustc-web >= $MIN_RUSTC_WEB is needed; enable bookworm-security in apt sources" >&2
        exit 1
    fi
fi

# /usr/bin first so Debian's cargo/rustc win over rustup's (which builds the
# host and cannot target wasm32 here). RUSTC_BOOTSTRAP unlocks -Zbuild-std
# on this stable toolchain. Debian's rustc ships no rust-lld, hence the
# system wasm-ld.
export PATH="/usr/bin:$PATH"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld
export RUSTC_BOOTSTRAP=1
# One target dir for every plugin workspace: std built for wasm by Debian's
# rustc is compiled once and never meets the host's rustup artifacts.
export CARGO_TARGET_DIR="$ROOT/plugins/rust/target"

# build_workspace DIR OUT: builds every cdylib crate of the cargo workspace
# DIR to OUT/<crate>.wasm.
build_workspace() {
    local workspace="$1" out="$2" name
    local plugins=() packages=()
    # The workspace's members that build a cdylib (crates still being
    # written, not yet members, are left alone).
    mapfile -t plugins < <(cd "$workspace" && cargo metadata --no-deps --format-version 1 --offline 2>/dev/null \
        | python3 -c 'import json,sys; [print(p["name"]) for p in json.load(sys.stdin)["packages"] if any("cdylib" in t["crate_types"] for t in p["targets"])]')
    for name in "${plugins[@]}"; do
        packages+=(-p "$name")
    done
    (cd "$workspace" && cargo build --release --locked --target wasm32-unknown-unknown \
        -Zbuild-std=std,panic_abort "${packages[@]}")
    mkdir -p "$out"
    for name in "${plugins[@]}"; do
        # Cargo names cdylib outputs after the crate, with dashes as underscores.
        cp "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/${name//-/_}.wasm" "$out/$name.wasm"
        printf '%-20s %7d bytes  %s\n' "$name" "$(stat -c %s "$out/$name.wasm")" "${out#"$ROOT"/}/$name.wasm"
    done
}

# The bundled plugins, then the broken and hostile ones the tests use.
build_workspace "$WORKSPACE" "$OUT"
build_workspace "$ROOT/tests/plugins" "$ROOT/target/test-plugins"
