#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver for the console's browser
# test (tests/console), if they are missing. Idempotent: installed packages
# are left alone, and apt's index is refreshed only when one must be
# installed. Nothing downloads a browser of its own.
set -euo pipefail

# A CJK font, or the Chinese labels render as boxes in screenshots.
BROWSER_PACKAGES=(chromium chromium-driver fonts-wqy-microhei)
apt_missing=()
for pkg in "${BROWSER_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || apt_missing+=("$pkg")
done
if ((${#apt_missing[@]})); then
    if ((EUID != 0)); then
        echo "error: need root to install ${apt_missing[*]}" >&2
        exit 1
    fi
    echo "installing ${apt_missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}"
fi
for bin in /usr/bin/chromium /usr/bin/chromedriver; do
    [[ -x "$bin" ]] || { echo "error: $bin missing after install" >&2; exit 1; }
done
