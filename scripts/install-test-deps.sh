#!/usr/bin/env bash
# What the tests need from Debian, installed only when missing:
# * Chromium (driven by Playwright with executable_path, so no `playwright install`) and a CJK
#   font, without which Chinese text renders as boxes in screenshots: the browser tests;
# * nginx: tests/deploy runs the production recipe's proxy (deploy/nginx/) in front of gunicorn;
# * poppler-utils (pdftoppm): the ledger browser test renders the exported PDF's pages as pictures.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/pdftoppm ] || missing+=(poppler-utils)

if [ "${#missing[@]}" -gt 0 ]; then
    "$here/apt-install.sh" "${missing[@]}"
fi
