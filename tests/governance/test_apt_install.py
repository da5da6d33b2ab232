"""`scripts/apt-install.sh` (used by `make test` and .ci/run) waits for the dpkg lock instead of failing.

A fresh machine often runs unattended-upgrades, which holds dpkg's lock for minutes. The test
holds the real lock itself, the way apt and dpkg do (an fcntl write lock on
``/var/lib/dpkg/lock-frontend``), runs the script for a package that is already installed, and
lets the lock go after a few seconds: the script must wait and then succeed.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
DPKG_FRONTEND_LOCK = Path("/var/lib/dpkg/lock-frontend")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not DPKG_FRONTEND_LOCK.exists(),
    reason="needs root on Debian to hold dpkg's lock (as `make test` and .ci/run run)",
)


def test_apt_install_waits_for_the_dpkg_lock_held_by_another_program():
    held_for = 4.0
    released = threading.Event()
    with open(DPKG_FRONTEND_LOCK, "w") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what apt-get and dpkg take

        def release_later():
            time.sleep(held_for)
            released.set()
            fcntl.lockf(lock, fcntl.LOCK_UN)

        releaser = threading.Thread(target=release_later)
        releaser.start()
        try:
            # coreutils is installed on every Debian machine: nothing to download, only the lock to wait for.
            result = subprocess.run([str(BASE_DIR / "scripts" / "apt-install.sh"), "coreutils"],
                                    capture_output=True, text=True, timeout=300, check=False,
                                    env={**os.environ, "APT_LOCK_TIMEOUT": "120"})
        finally:
            releaser.join()
    assert released.is_set()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Could not get lock" not in result.stderr
