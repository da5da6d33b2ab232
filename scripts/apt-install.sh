#!/usr/bin/env bash
# Install Debian packages, non-interactively: `scripts/apt-install.sh PACKAGE...`.
# Runs `apt-get update` first (a fresh machine has no package lists), and uses
# sudo only when not already root. Used by the Makefile and .ci/run.
#
# Another program may hold the dpkg lock (unattended-upgrades on a fresh machine, a
# package manager in another terminal): apt-get waits for it, up to
# APT_LOCK_TIMEOUT seconds (default 600), instead of failing at once.
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
WAIT_FOR_LOCK=(-o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-600}")
echo "Installing Debian packages: $*"
"${SUDO[@]}" apt-get "${WAIT_FOR_LOCK[@]}" update -qq
"${SUDO[@]}" apt-get "${WAIT_FOR_LOCK[@]}" install -y -qq --no-install-recommends "$@"
