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
# Every crate of the workspace that builds a cdylib is a plugin.
PLUGINS=()
for manifest in "$WORKSPACE"/*/Cargo.toml; do
    if grep -q 'cdylib' "$manifest"; then
        PLUGINS+=("$(basename "$(dirname "$manifest")")")
    fi
done
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
# Its own target dir: std built for wasm by Debian's rustc must never meet
# the host's rustup artifacts, and one workspace-wide build compiles std once.
export CARGO_TARGET_DIR="$WORKSPACE/target"

packages=()
for name in "${PLUGINS[@]}"; do
    packages+=(-p "$name")
done

cd "$WORKSPACE"
cargo build --release --locked --target wasm32-unknown-unknown \
    -Zbuild-std=std,panic_abort "${packages[@]}"

mkdir -p "$OUT"
for name in "${PLUGINS[@]}"; do
    # Cargo names cdylib outputs after the crate, with dashes as underscores.
    src="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/${name//-/_}.wasm"
    cp "$src" "$OUT/$name.wasm"
    printf '%-18s %7d bytes  target/plugins/%s.wasm\n' \
        "$name" "$(stat -c %s "$OUT/$name.wasm")" "$name"
done
