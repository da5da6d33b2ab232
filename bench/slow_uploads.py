"""Slow uploads beside fast requests: the Procfile's gunicorn alone, then behind the recipe's nginx.

Phones on Slow 3G (50 kB/s) send large bodies while a desk client asks ``/healthz`` again
and again. Each configuration runs the same load, in the same run, on the same machine:

* **gunicorn alone** (the baseline): the Procfile's web command, 2 sync workers, ``--timeout 60``;
* **behind nginx**: the same gunicorn behind ``deploy/nginx/portal-proxy.conf``.

The slow bodies are multipart POSTs to the login form with a CSRF cookie and no token
field: Django reads and parses the whole body to look for the token (as the filing
reads its photos), then answers 403. That needs no data, so the bench runs on an empty
SQLite database of its own and measures what it is about: how long the slow bodies hold
the server, not what the portal does with them.

    python bench/slow_uploads.py                     # 4 uploads of 1 MB at 50 kB/s
    python bench/slow_uploads.py --uploads 8 --size-kb 2048 --rate-kb 50

Prints, per configuration: the fast requests' count and latency (median, p95, max) while
the uploads run, and the uploads' answers and durations.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PROXY_CONF = BASE_DIR / "deploy" / "nginx" / "portal-proxy.conf"
CSRF_COOKIE = "a" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server on port {port} did not start") from None
            time.sleep(0.1)


def start_gunicorn(var: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    line = next(ln for ln in (BASE_DIR / "Procfile").read_text().splitlines() if ln.startswith("web:"))
    values = {"WEB_BIND": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2"}
    argv = shlex.split(re.sub(r"\$\{(\w+):-[^}]*\}", lambda m: values[m.group(1)], line.removeprefix("web:")))
    argv = [a for a in argv if a not in ("--access-logfile", "-")]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="governance.settings", LOG_LEVEL="WARNING")
    process = subprocess.Popen([sys.executable, "-m", *argv], cwd=BASE_DIR, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process, port


def start_nginx(prefix: Path, upstream: int) -> tuple[subprocess.Popen, int]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix.mkdir()
    port = free_port()
    temp = "\n".join(f"{k}_temp_path {prefix / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (prefix / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    {temp}
    upstream portal_web {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{ listen 127.0.0.1:{port}; server_name localhost; include {PROXY_CONF}; }}
}}""")
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process, port


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def slow_upload(port: int, size: int, rate: int, results: list) -> None:
    boundary = "benchboundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="p.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n").encode() + os.urandom(size) + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /accounts/login/ HTTP/1.1\r\nHost: localhost\r\nCookie: csrftoken={CSRF_COOKIE}\r\n"
            f"Referer: http://localhost/accounts/login/\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    chunk = 4096
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=300) as conn:
            conn.sendall(head)
            for n, start in enumerate(range(0, len(body), chunk), start=1):
                conn.sendall(body[start:start + chunk])
                lag = started + n * chunk / rate - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
            answer = conn.recv(64)
        status = int(answer.split()[1]) if answer.startswith(b"HTTP/") else None
    except OSError:
        status = None
    results.append((status, time.monotonic() - started))


def fast_requests(port: int, stop_at: threading.Event, latencies: list) -> None:
    while not stop_at.is_set():
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=300) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            conn.recv(64)
        latencies.append(time.monotonic() - started)
        time.sleep(0.05)


def idle_median(port: int) -> float:
    """/healthz with nothing else going on: the figure the loaded ones compare to."""
    warm = threading.Event()
    threading.Timer(1.0, warm.set).start()
    fast_requests(port, warm, [])  # every worker has imported the portal
    latencies: list[float] = []
    done = threading.Event()
    timer = threading.Timer(2.0, done.set)
    timer.start()
    fast_requests(port, done, latencies)
    return statistics.median(latencies)


def run(label: str, port: int, args) -> None:
    idle = idle_median(port)
    uploads: list = []
    latencies: list[float] = []
    done = threading.Event()
    phones = [threading.Thread(target=slow_upload, args=(port, args.size_kb * 1024, args.rate_kb * 1000, uploads))
              for _ in range(args.uploads)]
    desk = threading.Thread(target=fast_requests, args=(port, done, latencies))
    for phone in phones:
        phone.start()
    time.sleep(0.5)  # the uploads have started and hold whatever they hold
    desk.start()
    for phone in phones:
        phone.join()
    done.set()
    desk.join()
    lat = sorted(latencies)
    p95 = lat[max(0, int(round(0.95 * len(lat))) - 1)]
    print(f"{label:<16} /healthz idle: median {idle * 1000:.0f} ms; while the uploads ran: {len(lat)} answers, "
          f"median {statistics.median(lat) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
    answers = sorted(str(s) for s, _ in uploads)
    took = [d for _, d in uploads]
    print(f"{'':<16} uploads: answers {answers}, {min(took):.1f}-{max(took):.1f} s each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=4, help="concurrent slow uploads (default 4)")
    parser.add_argument("--size-kb", type=int, default=1024, help="size of each upload in KiB (default 1024)")
    parser.add_argument("--rate-kb", type=int, default=50, help="kB/s of each upload: Slow 3G is 50 (default)")
    args = parser.parse_args()
    print(f"{args.uploads} uploads of {args.size_kb} KiB at {args.rate_kb} kB/s each, 2 gunicorn sync workers")
    with tempfile.TemporaryDirectory(prefix="bench-slow-uploads-") as tmp:
        gunicorn, gunicorn_port = start_gunicorn(Path(tmp) / "var")
        try:
            run("gunicorn alone", gunicorn_port, args)
            nginx, nginx_port = start_nginx(Path(tmp) / "nginx", gunicorn_port)
            try:
                run("behind nginx", nginx_port, args)
            finally:
                stop(nginx)
        finally:
            stop(gunicorn)


if __name__ == "__main__":
    main()
