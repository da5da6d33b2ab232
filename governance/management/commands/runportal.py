"""Run the whole portal on one machine: web server, Celery worker and Celery beat.

``make run`` ends here. The three processes are children of this command, which
supervises them like a tiny process manager:

* each child runs in a process group of its own, so a Ctrl-C in the terminal
  reaches only this command, which then stops the children in order;
* stopping sends SIGTERM to each child's own pid -- never to its process group,
  because a prefork Celery worker whose pool children get the signal too can
  hang -- waits up to ``--stop-timeout`` seconds, then sends SIGKILL;
* a second Ctrl-C kills what is still running at once;
* when one child dies on its own, the command says so and starts it again
  (the others keep running): a worker killed by the kernel or by a fault of its
  own costs the portal a few seconds of background work, not the whole portal;
* a child that dies within ``--start-seconds`` of being started has failed to
  start; after ``--start-retries`` such failures in a row (a port already taken,
  a broken configuration) the command stops the others and exits non-zero, so a
  portal that cannot run never looks healthy;
* on Linux each child is also told to die with this command (PR_SET_PDEATHSIG),
  so even a SIGKILL of the supervisor leaves no orphan worker behind.

Every line a child prints is shown with its name in front (``web    | ...``).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.client import HTTPConnection

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance.celery import ensure_broker_folders

PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    reader: threading.Thread | None = None
    env: dict[str, str] | None = None  # on top of the supervisor's environment
    started_at: float = 0.0  # time.monotonic() of the last start
    failed_starts: int = 0  # exits within --start-seconds of a start, in a row
    restart_at: float | None = None  # when a child that exited is started again

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _die_with_parent(parent_pid: int):
    """preexec_fn: ask the kernel to SIGTERM the child when the supervisor dies (Linux)."""

    def preexec() -> None:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):  # not Linux: the supervisor's own handlers must do
            return
        if os.getppid() != parent_pid:  # the supervisor died before prctl took effect
            os._exit(1)

    return preexec


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together, and stop them together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
        parser.add_argument(
            "--server",
            choices=["runserver", "gunicorn"],
            default="gunicorn" if settings.PRODUCTION else "runserver",
            help="Web server: Django's runserver (embedded default) or gunicorn (default in production).",
        )
        parser.add_argument(
            "--stop-timeout", type=float, default=10.0,
            help="Seconds to wait for each child after SIGTERM before SIGKILL (default 10).",
        )
        parser.add_argument(
            "--ready-timeout", type=float, default=120.0,
            help="Seconds to wait for the web server to answer /healthz before saying so (default 120).",
        )
        parser.add_argument(
            "--start-seconds", type=float, default=30.0,
            help="A child that exits sooner than this after starting has failed to start (default 30).",
        )
        parser.add_argument(
            "--start-retries", type=int, default=3,
            help="Failed starts in a row after which everything is stopped (default 3).",
        )

    # --- entry point ---------------------------------------------------------

    def handle(self, *args, host: str, port: int, server: str, stop_timeout: float, ready_timeout: float,
               start_seconds: float, start_retries: int, **options):
        self._signals: list[int] = []
        self._out_lock = threading.Lock()

        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        ensure_broker_folders()

        children = self._children(host, port, server)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        failed: Child | None = None
        try:
            for child in children:
                self._start(child)

            url = f"http://{self._display_host(host)}:{port}/"
            ready_deadline = time.monotonic() + ready_timeout
            announced = False
            while not self._signals:
                failed = self._look_after(children, start_seconds, start_retries)
                if failed is not None:
                    break
                if not announced:
                    status = self._probe(host, port)
                    if status is not None:
                        announced = True
                        if status != 200:
                            self._say(f"{url}healthz answers HTTP {status}", error=True)
                        self._banner(url, children)
                    elif time.monotonic() > ready_deadline:
                        announced = True
                        self._say(f"the web server does not answer {url}healthz after {ready_timeout:.0f} s; "
                                  "still waiting for it", error=True)
                time.sleep(0.25 if not announced else 0.5)

            if failed is not None:
                self._say(f"{failed.name} failed to start {failed.failed_starts} times in a row "
                          f"(last exit code {failed.process.returncode}); stopping the others", error=True)
            else:
                self._say(f"received {signal.Signals(self._signals[0]).name}; stopping web, worker and beat")
            self._stop(children, stop_timeout)
        except BaseException:
            # Never leave children behind, whatever went wrong in the supervisor itself.
            self._stop(children, stop_timeout)
            raise
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for child in children:
                if child.reader is not None:
                    child.reader.join(timeout=2)

        if failed is not None:
            raise CommandError(f"{failed.name} could not be started (exit code {failed.process.returncode}); "
                               "the portal was stopped.", returncode=1)
        self._say("stopped.")

    def _look_after(self, children: list[Child], start_seconds: float, start_retries: int) -> Child | None:
        """Start again each child that exited; answer the child that keeps failing to start, if any."""
        now = time.monotonic()
        for child in children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restart_at = None
                    self._start(child)
                continue
            if child.running():
                if child.failed_starts and now - child.started_at >= start_seconds:
                    child.failed_starts = 0  # it started after all
                continue
            code = child.process.returncode
            if now - child.started_at < start_seconds:
                child.failed_starts += 1
                if child.failed_starts >= start_retries:
                    return child
                delay = min(2.0 ** (child.failed_starts - 1), 10.0)
                self._say(f"{child.name} (pid {child.pid}) exited with code {code} "
                          f"{now - child.started_at:.1f} s after starting; starting it again in {delay:.0f} s",
                          error=True)
            else:
                child.failed_starts = 0
                delay = 0.0
                self._say(f"{child.name} (pid {child.pid}) exited with code {code}; starting it again "
                          "(the others keep running)", error=True)
            child.restart_at = now + delay
        return None

    # --- the three children --------------------------------------------------

    def _children(self, host: str, port: int, server: str) -> list[Child]:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        web_env = None
        if server == "gunicorn":
            web = [python, "-m", "gunicorn", "governance.wsgi", "--bind", bind,
                   "--workers", os.environ.get("WEB_CONCURRENCY", "2"), "--graceful-timeout", "5",
                   "--access-logfile", "-"]
        else:
            web = [python, manage, "runserver", "--noreload", bind]
            # runserver answers each request in a new thread: a connection kept for "the next
            # request" of a thread that is gone only lingers, one per request (23-37 seen after a
            # short session on PostgreSQL). Close each at the end of its request instead.
            web_env = {"DATABASE_CONN_MAX_AGE": "0"}
        celery = [python, "-m", "celery", "-A", "governance"]
        return [
            Child("web", web, env=web_env),
            # One solo-pool process: the embedded default runs on a small machine with SQLite,
            # where more concurrency only means more lock waits.
            Child("worker", [*celery, "worker", "--pool", "solo", "--loglevel", "INFO"]),
            Child("beat", [*celery, "beat", "--loglevel", "INFO",
                           "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]),
        ]

    def _start(self, child: Child) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(child.env or {})}
        child.process = subprocess.Popen(
            child.argv,
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,  # Ctrl-C in the terminal reaches the supervisor only
            preexec_fn=_die_with_parent(os.getpid()),
        )
        child.started_at = time.monotonic()
        child.reader = threading.Thread(target=self._relay, args=(child,), name=f"relay-{child.name}", daemon=True)
        child.reader.start()
        self._say(f"started {child.name} (pid {child.pid}): {' '.join(child.argv[1:])}")

    def _relay(self, child: Child) -> None:
        assert child.process is not None and child.process.stdout is not None
        for raw in iter(child.process.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self._write(f"{child.name:<6} | {line}")
        child.process.stdout.close()

    # --- stopping --------------------------------------------------------------

    def _on_signal(self, signum, frame) -> None:
        self._signals.append(signum)

    def _stop(self, children: list[Child], timeout: float) -> None:
        signals_before = len(self._signals)
        for child in children:
            if child.running():
                try:
                    os.kill(child.pid, signal.SIGTERM)  # the child's own pid, not its group
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        while any(c.running() for c in children) and time.monotonic() < deadline:
            if len(self._signals) > signals_before:
                self._say("second stop signal: killing what is still running")
                break
            time.sleep(0.1)
        for child in children:
            if child.running():
                self._say(f"{child.name} (pid {child.pid}) still running; sending SIGKILL", error=True)
                child.process.kill()
            if child.process is not None:
                child.process.wait()

    # --- output ----------------------------------------------------------------

    def _banner(self, url: str, children: list[Child]) -> None:
        pids = ", ".join(f"{c.name} pid {c.pid}" for c in children)
        self._write("")
        self._write(self.style.SUCCESS(f"The portal is running at {url}"))
        self._write("demo logins: see above / docs/demo.md")
        self._write(f"({pids}; press Ctrl-C to stop them all)")
        self._write("")

    def _say(self, message: str, *, error: bool = False) -> None:
        text = f"runportal | {message}"
        self._write(self.style.ERROR(text) if error else text)

    def _write(self, text: str) -> None:
        with self._out_lock:
            self.stdout.write(text)
            self.stdout.flush()

    # --- health --------------------------------------------------------------

    @staticmethod
    def _display_host(host: str) -> str:
        if host in {"0.0.0.0", ""}:
            return "127.0.0.1"
        if host == "::":
            return "[::1]"
        return f"[{host}]" if ":" in host else host

    def _probe(self, host: str, port: int) -> int | None:
        """The HTTP status of /healthz, or None while nothing answers. No proxy, no redirects."""
        connect_to = self._display_host(host).strip("[]")
        connection = HTTPConnection(connect_to, port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status
        except OSError:
            return None
        finally:
            connection.close()
