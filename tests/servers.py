"""Real servers for fault tests: a private Redis to stop or freeze, and a server that never answers.

* ``RedisProcess``: Debian's ``redis-server`` on a free port of its own, so a test may stop it
  (clients then get "connection refused", as when Redis is down) or freeze it with SIGSTOP
  (the kernel still accepts connections, nothing ever answers) without touching the Redis
  the rest of the suite uses.
* ``SilentServer``: accepts every connection and reads what it is sent, never answering;
  it counts connections and bytes, so a test can tell how often a client asked.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REDIS_SERVER = shutil.which("redis-server")


class RedisProcess:
    def __init__(self, tmp_path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def freeze(self) -> None:
        """Silent from now on: connections are accepted by the kernel, nothing answers."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class SilentServer:
    """A TCP server that accepts and reads, and never writes a byte back."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self.port = self._socket.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.connections = 0
        self.received = bytearray()
        self._open: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _addr = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            while chunk := conn.recv(65536):
                self.received.extend(chunk)
        except OSError:
            pass

    def commands(self, name: bytes) -> int:
        """How many times a RESP command named ``name`` (e.g. b"GET") was sent."""
        return self.received.count(b"\r\n" + name + b"\r\n")

    def close(self) -> None:
        self._closed.set()
        self._socket.close()
        for conn in self._open:
            conn.close()


def database_url() -> str:
    """The test database as a DATABASE_URL a subprocess can use (PostgreSQL: the same database)."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("an in-memory SQLite test database cannot be shared with another process")
    auth = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryWorker:
    """A real Celery worker (solo pool, as `runportal` runs it) on a queue of its own, logging to a file."""

    def __init__(self, tmp_path, *, queue: str, env: dict[str, str] | None = None):
        import sys

        from django.conf import settings

        self.log_path = tmp_path / f"worker-{queue}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "governance", "worker", "--pool", "solo", "-Q", queue,
             "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info"],
            cwd=settings.BASE_DIR, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                 "DJANGO_SETTINGS_MODULE": "governance.settings", "EMAIL_URL": "consolemail://", **(env or {})},
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log:
            assert self.process.poll() is None, f"the worker exited (code {self.process.returncode}):\n{self.log}"
            assert time.monotonic() < deadline, f"no {text!r} in the worker's log after {timeout:.0f} s:\n{self.log}"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the main pid only: a solo worker stops cleanly
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class S3Server:
    """An S3-compatible server in this process (moto's ``ThreadedMotoServer``) on a free port.

    It speaks S3 over HTTP like MinIO or a city's object store: the portal reaches it through
    django-storages and boto3, a worker in another process as well. Any credentials are accepted.
    """

    ACCESS_KEY = SECRET_KEY = "testing"
    REGION = "us-east-1"

    def __init__(self):
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.url, aws_access_key_id=self.ACCESS_KEY,
                            aws_secret_access_key=self.SECRET_KEY, region_name=self.REGION)

    def new_bucket(self) -> str:
        import uuid

        name = f"portal-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def environment(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """The settings' variables that point a process (a worker) at this server's ``bucket``."""
        return {"FILE_STORAGE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": self.url, "S3_PREFIX": prefix,
                "S3_ACCESS_KEY_ID": self.ACCESS_KEY, "S3_SECRET_ACCESS_KEY": self.SECRET_KEY,
                "S3_REGION": self.REGION}

    def stop(self) -> None:
        self._server.stop()
