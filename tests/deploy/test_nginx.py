"""The production recipe's nginx (deploy/nginx/portal-proxy.conf), run for real in front of the Procfile's gunicorn.

A phone on a slow network sends its photos for longer than gunicorn's ``--timeout``:
straight to gunicorn, the sync worker reading the body is killed mid-upload and the
filing is lost, and every other request waits behind it. Through nginx, the body is
read whole first, gunicorn gets it in one go, and ``/healthz`` answers meanwhile.
The test scales the times down (gunicorn ``--timeout 2``, an upload of about 5 s).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from PIL import Image

from incidents.services import MAX_PHOTOS
from tests.factories import point
from tests.incidents.conftest import categories, road  # noqa: F401  (fixtures)
from tests.servers import database_url, free_port

BASE_DIR = Path(settings.BASE_DIR)
PROXY_CONF = BASE_DIR / "deploy" / "nginx" / "portal-proxy.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def directive(name: str) -> str:
    match = re.search(rf"^\s*{name}\s+([^;]+);", PROXY_CONF.read_text(), re.MULTILINE)
    assert match, f"{name} is missing from {PROXY_CONF}"
    return match.group(1).strip()


def seconds(value: str) -> int:
    return int(value.removesuffix("s"))


def procfile_web(port: int, workers: int) -> list[str]:
    """The Procfile's web command, with its variables filled in."""
    line = next(line for line in (BASE_DIR / "Procfile").read_text().splitlines() if line.startswith("web:"))
    values = {"WEB_BIND": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    line = re.sub(r"\$\{(\w+):-[^}]*\}", lambda m: values[m.group(1)], line.removeprefix("web:"))
    return shlex.split(line)


def test_the_page_nginx_and_gunicorn_agree_on_how_long_an_upload_may_take():
    gunicorn = procfile_web(8000, 2)
    gunicorn_timeout = int(gunicorn[gunicorn.index("--timeout") + 1])
    # The page gives up after UPLOAD_IDLE_SECONDS without a byte sent: nginx waits as long between reads.
    assert seconds(directive("client_body_timeout")) == settings.UPLOAD_IDLE_SECONDS
    # After the last byte the page waits UPLOAD_ANSWER_SECONDS: nginx as long, and longer than gunicorn,
    # so that a slow request is ended by gunicorn's timeout and answered, never dropped by the proxy.
    assert seconds(directive("proxy_read_timeout")) == settings.UPLOAD_ANSWER_SECONDS > gunicorn_timeout
    assert directive("proxy_request_buffering") == "on" and directive("proxy_buffering") == "on"
    # Nine photos of the largest size the portal accepts, and the form, fit in one request.
    largest_filing = MAX_PHOTOS * settings.INCIDENT_PHOTO_MAX_BYTES
    assert int(directive("client_max_body_size").removesuffix("m")) * 2**20 > largest_filing
    # The page reads its limits from the settings.
    page = (BASE_DIR / "templates" / "incidents" / "file.html").read_text()
    assert 'data-upload-idle-seconds="{{ upload_idle_seconds }}"' in page


# --- nginx and gunicorn, for real ---------------------------------------------------------------------

def start_nginx(tmp_path: Path, upstream_port: int) -> tuple[subprocess.Popen, int]:
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    port = free_port()
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                             "scgi"))
    (prefix / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 256; }}
http {{
    access_log off;
{temp}
    upstream portal_web {{ server 127.0.0.1:{upstream_port}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        include {PROXY_CONF};
    }}
}}
""")
    process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_for_port(port, process, prefix / "error.log")
    return process, port


def start_gunicorn(tmp_path: Path, *, timeout: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    argv = procfile_web(port, workers=1)
    argv[argv.index("--timeout") + 1] = str(timeout)
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115  (the process owns it until it ends)
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "governance.settings",
           "VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "-m", *argv], cwd=BASE_DIR, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    wait_for_port(port, process, tmp_path / "gunicorn.log")
    return process, port


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert process.poll() is None, log.read_text() if log.exists() else "exited"
            assert time.monotonic() < deadline, "never listened"
            time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(port: int, path: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        return int(conn.recv(64).split()[1])


def wait_until_healthy(port: int, seconds: float = 30) -> int:
    """The readiness probe a load balancer runs: /healthz until it answers 200 (a loaded machine starts slowly)."""
    deadline = time.monotonic() + seconds
    status = get(port, "/healthz")
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        status = get(port, "/healthz")
    return status


def filing_body(category_id: int, lat: float, lng: float) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    image = Image.effect_noise((640, 480), 60).convert("RGB")
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=95)
    parts = []
    for name, value in {"category": category_id, "title": "路面塌陷", "lat": lat, "lng": lng}.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for n in range(3):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="p{n}.jpg"\r\n'
                     f"Content-Type: image/jpeg\r\n\r\n".encode() + jpeg.getvalue() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def slow_filing(port: int, token: str, body: bytes, content_type: str, *, seconds_: float,
                progress: threading.Event) -> int | None:
    """POST the filing at about len(body)/seconds_ bytes a second; the HTTP status, or None if cut off."""
    head = (f"POST /api/v1/incidents/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Token {token}\r\n"
            f"Idempotency-Key: {uuid.uuid4()}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    chunk = 4096
    pause = seconds_ / (len(body) / chunk)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            conn.sendall(head)
            for start in range(0, len(body), chunk):
                conn.sendall(body[start:start + chunk])
                if start > len(body) // 4:
                    progress.set()  # a quarter is out: the upload is under way
                time.sleep(pause)
            answer = conn.recv(64)
    except OSError:
        return None
    return int(answer.split()[1]) if answer.startswith(b"HTTP/") else None


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="gunicorn shares the test database: PostgreSQL; "
                                                              "runs in .ci/run")
@pytest.mark.skipif(NGINX is None, reason="needs Debian's nginx (make test installs it)")
@pytest.mark.parametrize("behind_nginx", [False, True], ids=["gunicorn-alone", "behind-nginx"])
def test_a_slow_upload_holds_no_worker_and_gets_through_behind_nginx(behind_nginx, transactional_db, city, people,
                                                                      road, tmp_path):  # noqa: F811
    from rest_framework.authtoken.models import Token

    from incidents.models import Incident

    token = Token.objects.create(user=people.worker_g1111).key
    body, content_type = filing_body(road.pk, *point(1, 2))
    gunicorn, gunicorn_port = start_gunicorn(tmp_path, timeout=2)
    processes = [gunicorn]
    try:
        port = gunicorn_port
        if behind_nginx:
            nginx, port = start_nginx(tmp_path, gunicorn_port)
            processes.append(nginx)
        assert wait_until_healthy(port) == 200
        uploading = threading.Event()
        answer: list[int | None] = []
        phone = threading.Thread(target=lambda: answer.append(
            slow_filing(port, token, body, content_type, seconds_=5, progress=uploading)))
        phone.start()
        assert uploading.wait(timeout=30)
        healthz = get(port, "/healthz")  # the one worker is free while the phone is still sending?
        still_sending = phone.is_alive()
        phone.join(timeout=120)
    finally:
        for process in processes:
            stop(process)

    if behind_nginx:
        assert healthz == 200 and still_sending  # answered while the upload went on
        assert answer == [201], (tmp_path / "gunicorn.log").read_text()[-3000:]
        assert Incident.objects.get().attachments.count() == 3
    else:
        # The fault, as the field saw it: the worker reading the body is killed mid-upload, the filing is lost.
        assert answer != [201]
        assert "WORKER TIMEOUT" in (tmp_path / "gunicorn.log").read_text()
        assert not Incident.objects.exists()
