#!/usr/bin/env bash
# What the browser tests need from Debian: Chromium (driven by Playwright with
# executable_path, so no `playwright install`) and a CJK font, without which
# Chinese text renders as boxes in screenshots. Installs only what is missing.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)

if [ "${#missing[@]}" -gt 0 ]; then
    "$here/apt-install.sh" "${missing[@]}"
fi
