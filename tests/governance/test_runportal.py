"""`manage.py runportal` (the end of `make run`) starts web, worker and beat, and stops them all.

A real smoke test: the command runs in a subprocess on the embedded default
(SQLite and the filesystem broker in a temporary VAR_DIR), whatever database the
rest of the suite uses.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest
from django.db import connection

from tests.servers import database_url

BASE_DIR = Path(__file__).resolve().parents[2]
EMBEDDED_ONLY = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_BROKER_DIR", "DJANGO_ENV", "DEBUG",
                 "SECRET_KEY", "ALLOWED_HOSTS", "STATIC_ROOT", "MEDIA_ROOT", "DJANGO_ALLOW_ASYNC_UNSAFE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def healthz(port: int) -> int | None:
    connection = HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


class Output:
    """Collects a process's output lines in a thread, so the test can wait for a line."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process):
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, deadline: float) -> re.Match:
        while time.monotonic() < deadline:
            match = re.search(pattern, self.text, re.MULTILINE)
            if match:
                return match
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r} in time; output so far:\n{self.text}")


def test_runportal_serves_runs_worker_and_beat_and_stops_them_all_on_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in EMBEDDED_ONLY}
    env.update(VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="governance.settings", PYTHONUNBUFFERED="1")
    (tmp_path / "var").mkdir()
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    migrate = subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert migrate.returncode == 0, migrate.stderr

    port = free_port()
    portal = subprocess.Popen([*manage, "runportal", "--port", str(port), "--stop-timeout", "10"], cwd=BASE_DIR,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    output = Output(portal)
    pids: dict[str, int] = {}
    try:
        deadline = time.monotonic() + 90  # generous: CI machines can be busy
        banner = output.wait_for(r"^The portal is running at (\S+)", deadline)
        assert banner.group(1) == f"http://127.0.0.1:{port}/"
        assert "demo logins: see above / docs/demo.md" in output.text
        for name in ("web", "worker", "beat"):
            pids[name] = int(output.wait_for(rf"started {name} \(pid (\d+)\)", deadline).group(1))
        assert healthz(port) == 200

        # The worker really connected to the filesystem broker, and beat really started.
        output.wait_for(r"^worker +\| .*celery@\S+ ready\.", deadline)
        output.wait_for(r"^beat +\| .*beat: Starting\.\.\.", deadline)
        assert all(alive(pid) for pid in pids.values()), pids
        assert (tmp_path / "var" / "broker" / "queue").is_dir()

        portal.send_signal(signal.SIGTERM)
        assert portal.wait(timeout=20) == 0, output.text
        stopped_by = time.monotonic() + 2
        while any(alive(pid) for pid in pids.values()) and time.monotonic() < stopped_by:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in pids.values()), f"left running: {pids}\n{output.text}"
        assert "received SIGTERM; stopping web, worker and beat" in output.text
        assert healthz(port) is None
    finally:
        if portal.poll() is None:
            os.killpg(portal.pid, signal.SIGKILL)
        for pid in pids.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def embedded_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in EMBEDDED_ONLY}
    env.update(VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="governance.settings", PYTHONUNBUFFERED="1")
    (tmp_path / "var").mkdir(exist_ok=True)
    return env


def migrate(env) -> None:
    done = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "migrate", "--noinput", "-v", "0"],
                          cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr


def started_pids(output: Output, name: str) -> list[int]:
    return [int(p) for p in re.findall(rf"started {name} \(pid (\d+)\)", output.text)]


def test_runportal_starts_a_child_that_dies_again_and_keeps_the_others(tmp_path):
    env = embedded_env(tmp_path)
    migrate(env)
    port = free_port()
    # Started means running for a second: the worker is killed well after that (once it is consuming).
    portal = subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "runportal", "--port", str(port),
                               "--start-seconds", "1"],
                              cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    output = Output(portal)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 90
        output.wait_for(r"^worker +\| .*celery@\S+ ready\.", deadline)
        output.wait_for(r"^The portal is running at", deadline)
        web, worker, beat = (started_pids(output, name)[0] for name in ("web", "worker", "beat"))
        pids += [web, worker, beat]

        os.kill(worker, signal.SIGKILL)  # the kernel's OOM killer, or a fault of the worker's own
        output.wait_for(rf"worker \(pid {worker}\) exited with code -9; starting it again", deadline)
        output.wait_for(r"(?s)exited with code -9.*started worker \(pid \d+\)", deadline)
        (again,) = started_pids(output, "worker")[1:]
        pids.append(again)
        output.wait_for(r"(?s)exited with code -9.*celery@\S+ ready\.", deadline)  # the new one is consuming
        assert alive(again) and alive(web) and alive(beat)
        assert started_pids(output, "web") == [web] and started_pids(output, "beat") == [beat]
        assert healthz(port) == 200
        assert portal.poll() is None

        portal.send_signal(signal.SIGTERM)
        assert portal.wait(timeout=30) == 0, output.text
        stopped_by = time.monotonic() + 2
        while any(alive(pid) for pid in pids) and time.monotonic() < stopped_by:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in pids), output.text
    finally:
        if portal.poll() is None:
            os.killpg(portal.pid, signal.SIGKILL)
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_runportal_stops_everything_and_fails_when_a_child_cannot_start(tmp_path):
    env = embedded_env(tmp_path)
    # A port already taken: the web server cannot start, so the portal must not pretend to run.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        portal = subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "runportal", "--port", str(port)],
                                  cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True)
        output = Output(portal)
        try:
            assert portal.wait(timeout=120) == 1, output.text
        finally:
            if portal.poll() is None:
                os.killpg(portal.pid, signal.SIGKILL)
    time.sleep(0.2)  # let the reader thread drain the pipe
    # Tried again (a second's pause, then two), then given up on.
    assert len(re.findall(r"web \(pid \d+\) exited with code \d+ [\d.]+ s after starting; starting it again",
                          output.text)) == 2, output.text
    assert re.search(r"web failed to start 3 times in a row \(last exit code \d+\); stopping the others",
                     output.text), output.text
    pids = [int(p) for p in re.findall(r"started \w+ \(pid (\d+)\)", output.text)]
    assert len(started_pids(output, "web")) == 3
    assert not any(alive(pid) for pid in pids)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL; runs in .ci/run")
@pytest.mark.parametrize("server, web_connections", [("runserver", 0), ("gunicorn", 2)])
def test_the_portal_keeps_its_database_connections_bounded(server, web_connections, transactional_db, tmp_path):
    """Forty requests leave at most one connection per web process, plus the worker's and beat's."""
    env = embedded_env(tmp_path)
    env.update(DATABASE_URL=database_url(), WEB_CONCURRENCY="2")
    port = free_port()
    portal = subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "runportal", "--port", str(port),
                               "--server", server], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = Output(portal)
    try:
        deadline = time.monotonic() + 90
        output.wait_for(r"^The portal is running at", deadline)
        output.wait_for(r"^worker +\| .*celery@\S+ ready\.", deadline)
        for _ in range(40):
            assert healthz(port) == 200  # each reads the database
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            (others,) = cursor.fetchone()
        # web: none kept under runserver (a thread per request), one per gunicorn worker;
        # the worker and beat: one each, and the worker's pool may hold one more.
        assert others <= web_connections + 3, output.text[-3000:]
    finally:
        portal.send_signal(signal.SIGTERM)
        try:
            portal.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(portal.pid, signal.SIGKILL)
