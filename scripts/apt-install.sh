#!/usr/bin/env bash
# Install Debian packages, non-interactively: `scripts/apt-install.sh PACKAGE...`.
# Runs `apt-get update` first (a fresh machine has no package lists), and uses
# sudo only when not already root. Used by the Makefile and .ci/run.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 PACKAGE..." >&2
    exit 2
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "$0: need root or sudo to install: $*" >&2
        exit 1
    fi
    SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
echo "Installing Debian packages: $*"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@"
