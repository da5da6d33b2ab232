#!/usr/bin/env bash
# What the tests need from Debian, installed only when missing:
# * Chromium (driven by Playwright with executable_path, so no `playwright install`) and a CJK
#   font, without which Chinese text renders as boxes in screenshots: the browser tests;
# * nginx: tests/deploy runs the production recipe's proxy (deploy/nginx/) in front of gunicorn;
# * poppler-utils and zbar-tools: tests/intake renders a printed sign (pdftoppm) and reads its QR
#   code back (zbarimg), as a resident's phone would; the ledger browser test renders the exported
#   PDF's pages as pictures (pdftoppm).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/pdftoppm ] || missing+=(poppler-utils)
[ -x /usr/bin/zbarimg ] || missing+=(zbar-tools)

if [ "${#missing[@]}" -gt 0 ]; then
    "$here/apt-install.sh" "${missing[@]}"
fi
