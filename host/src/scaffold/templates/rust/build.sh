#!/usr/bin/env bash
# Builds my-plugin.wasm: a core module carrying wit-bindgen's component-type
# section, which `kith test` and the host accept as it is.
# Uses Debian's rustc-web toolchain (apt-get install rustc-web cargo-web
# rust-web-src lld), because rustup cannot add wasm32 targets offline.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
PATH="/usr/bin:$PATH" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld RUSTC_BOOTSTRAP=1 \
    cargo build --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
cp "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/my_plugin.wasm" my-plugin.wasm
echo "built my-plugin.wasm; now: kith test my-plugin.wasm --scenarios scenarios"
