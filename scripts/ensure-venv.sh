#!/usr/bin/env bash
# Create the project's virtual environment if it is missing:
# `scripts/ensure-venv.sh PYTHON VENV_DIR`, e.g. `scripts/ensure-venv.sh python3.11 .venv`.
# Debian ships `venv` without ensurepip in a separate package (python3.11-venv);
# install it when it is missing.
set -euo pipefail

python="${1:-python3.11}"
venv="${2:-.venv}"
here="$(cd "$(dirname "$0")" && pwd)"

if [ -x "$venv/bin/python" ]; then
    exit 0
fi
if ! command -v "$python" >/dev/null 2>&1; then
    echo "$0: $python not found; the portal needs Python 3.11 (Debian 12: apt-get install python3.11)." >&2
    exit 1
fi
if ! "$python" -c "import ensurepip, venv" >/dev/null 2>&1; then
    "$here/apt-install.sh" "$(basename "$python")-venv"
fi
echo "Creating $venv with $("$python" --version)"
"$python" -m venv "$venv"
