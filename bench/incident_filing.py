"""Filing incidents through the API under load, beside the bare SQL rate of the same rows, and the triage queue.

    python bench/incident_filing.py                    # set up once (minutes), then measure (about a minute)
    python bench/incident_filing.py --rate 250 --clients 16 --duration 20
    python bench/incident_filing.py --setup-only       # only build the database
    python bench/incident_filing.py --fresh            # drop the database and build it again

What it builds (once; later runs find it and skip this):

* PostgreSQL database ``bench_incidents`` (``--postgres``), migrated;
* the demo city (``seed_demo``: 1,200 grids, their grid workers, units, demo logins);
* 100,000 incidents (``--preload``) over the last 90 days, bulk-loaded by
  ``incidents.demo.seed_incidents`` with their timelines and unit tasks;
* API tokens for the grid workers who file and for the command-centre logins;
* the static files (``collectstatic`` into ``var/bench/static``), as production serves them.

What it runs: ``gunicorn governance.wsgi -w 4`` on 127.0.0.1 with production settings
(``DJANGO_ENV=production``, ``DEBUG`` off, a random ``SECRET_KEY`` kept in ``var/bench``, ``ALLOWED_HOSTS=127.0.0.1``,
``SECURE_SSL_REDIRECT=false`` because the bench talks plain HTTP on loopback).

What it measures, in this order, in one run:

1. **bare SQL**: one client (psycopg2) inserting an incident row and its timeline row
   in a transaction per incident, for ``--sql-seconds``: the floor the API is compared with;
2. **filing, closed loop**: ``--clients`` threads, each a grid worker filing into their own
   grid through ``POST /api/v1/incidents/`` with token authentication, back to back;
3. **filing, open loop**: requests sent at a fixed ``--rate`` per second whatever the answers
   take (latency counted from the scheduled send, so queueing shows);
4. **triage queue, first page**: ``GET /api/v1/incidents/?open=true`` as a district and as
   the city command centre, and the HTML page ``/incidents/queue/`` as the district's staff,
   one request at a time.

Incidents filed by the bench (idempotency key ``bench-…``) and the bare-SQL rows are deleted
at the end, so every run starts from the same 100,000. Needs nothing beyond requirements.txt
(the HTTP client is the standard library's ``http.client``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_incidents"
BENCH_KEY = "bench-"
SQL_NUMBER_PREFIX = "BSQL"
VAR = ROOT / "var" / "bench"


# --- Setup (Django in this process, development settings, the bench database) ---------------------


def bench_secret_key() -> str:
    """One random key per bench folder: the session made at setup must be valid in the server."""
    path = VAR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["SECRET_KEY"] = bench_secret_key()
    os.environ["DJANGO_ENV"] = "development"
    os.environ["VAR_DIR"] = str(VAR / "var")
    os.environ["STATIC_ROOT"] = str(VAR / "static")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()


def _ensure_database(database_url: str, *, fresh: bool) -> None:
    import psycopg2

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cur:
        if fresh:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    admin.close()


@dataclass
class World:
    """What the clients need, read from the bench database."""

    workers: list[dict]  # token, grid points
    categories: list[str]
    command_tokens: dict[str, str]  # persona -> token
    queue_cookie: str  # "name=value" of a session of the district's command staff
    preloaded: int


def setup(database_url: str, *, preload: int, clients: int, fresh: bool) -> World:
    _ensure_database(database_url, fresh=fresh)
    _django(database_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from grids.demo import DEMO_CITY_CODE
    from grids.models import Region
    from incidents.models import Incident

    if not Region.objects.filter(code=DEMO_CITY_CODE).exists():
        started = time.monotonic()
        with open(os.devnull, "w") as quiet:
            call_command("seed_demo", no_progress=True, stdout=quiet)
        print(f"seeded the demo city in {time.monotonic() - started:.0f} s")
    have = Incident.objects.count()
    if have < preload:
        from django.db import transaction

        from governance.core.demo import DEFAULT_SEED, DemoContext
        from grids.demo import TerritorySize
        from incidents.demo import seed_incidents

        started = time.monotonic()
        ctx = DemoContext(seed=DEFAULT_SEED + 1, size=TerritorySize(), city_code=DEMO_CITY_CODE, city_name="",
                          log=lambda line: None)
        ctx.city = Region.objects.get(code=DEMO_CITY_CODE)
        with transaction.atomic():
            seed_incidents(ctx, count=preload - have, chunk=5000, key_prefix="preload-")
        print(f"bulk-loaded {preload - have:,} incidents in {time.monotonic() - started:.0f} s")
    _analyze(database_url)
    world = _world(clients)
    world.preloaded = Incident.objects.count()
    connection.close()
    return world


def _analyze(database_url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()


def _world(clients: int) -> World:
    """Tokens and points for the clients: each files as the worker of its own grid, at points inside it."""
    import shapely
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from governance.access.models import Role, RoleAssignment
    from grids import geometry
    from incidents.models import Category

    rng = random.Random(7)
    assignments = list(RoleAssignment.objects.active().filter(role=Role.GRID_WORKER, user__username__startswith="gw_")
                       .select_related("user", "region").order_by("region__path")[:2000])
    picked = rng.sample(assignments, min(clients * 4, len(assignments)))
    workers = []
    for assignment in picked:
        geom = geometry.parse_boundary(assignment.region.boundary)
        min_x, min_y, max_x, max_y = geom.bounds
        points = []
        while len(points) < 200:
            x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
            if shapely.contains_xy(geom, x, y):
                points.append((round(y, 7), round(x, 7)))
        token, _ = Token.objects.get_or_create(user=assignment.user)
        workers.append({"token": token.key, "points": points, "grid": assignment.region.code})
    User = get_user_model()
    command_tokens = {}
    for username in ("district_command", "city_command", "street_command"):
        user = User.objects.get(username=username)
        command_tokens[username] = Token.objects.get_or_create(user=user)[0].key
    client = Client()
    client.force_login(User.objects.get(username="district_command"))
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True).values_list("code", flat=True))
    return World(workers, categories, command_tokens, cookie, 0)


# --- Bare SQL --------------------------------------------------------------------------------------


def bare_sql_rate(database_url: str, seconds: float) -> tuple[float, int]:
    """Incidents per second inserting an incident row and its timeline row, one transaction each."""
    import psycopg2

    conn = psycopg2.connect(database_url)
    with conn.cursor() as cur:
        cur.execute("SELECT id, path FROM grids_region WHERE level = 5 ORDER BY path LIMIT 1")
        grid_id, path = cur.fetchone()
        cur.execute("SELECT id FROM grids_region WHERE path = %s", [path[:16]])
        community_id = cur.fetchone()[0]
        cur.execute("SELECT id FROM incidents_category WHERE parent_id IS NOT NULL ORDER BY code LIMIT 1")
        category_id = cur.fetchone()[0]
        cur.execute("SELECT user_id FROM governance_roleassignment WHERE region_id = %s LIMIT 1", [grid_id])
        row = cur.fetchone()
        reporter_id = row[0] if row else None
    conn.commit()
    insert_incident = """
        INSERT INTO incidents_incident (number, title, description, category_id, severity, status, source, lat, lng,
            address, grid_id, responsible_region_id, responsible_level, reporter_id, reporter_name, reporter_phone,
            idempotency_key, reported_at, accept_due_at, deadline_note, escalation_count, version, updated_at)
        VALUES (%s, %s, '', %s, 'normal', 'reported', 'api', 23.3, 116.7, '', %s, %s, 4, %s, '', '', %s, now(),
            now() + interval '2 hours', '', 0, 1, now())
        RETURNING id"""
    insert_event = """
        INSERT INTO incidents_event (incident_id, action, from_status, to_status, actor_id, at, note, data)
        VALUES (%s, 'report', '', 'reported', %s, now(), '', '{}')"""
    run = uuid.uuid4().hex[:8]
    n = 0
    started = time.perf_counter()
    deadline = started + seconds
    with conn.cursor() as cur:
        while time.perf_counter() < deadline:
            n += 1
            cur.execute(insert_incident, [f"{SQL_NUMBER_PREFIX}{run}-{n:08d}", "路面塌陷", category_id, grid_id,
                                          community_id, reporter_id, f"{BENCH_KEY}sql-{run}-{n}"])
            cur.execute(insert_event, [cur.fetchone()[0], reporter_id])
            conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return n / elapsed, n


def cleanup(database_url: str) -> int:
    import psycopg2

    conn = psycopg2.connect(database_url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM incidents_incident WHERE idempotency_key LIKE %s", [BENCH_KEY + "%"])
        n = cur.fetchone()[0]
        for table in ("incidents_event", "incidents_unittask", "incidents_attachment"):
            cur.execute(f"DELETE FROM {table} WHERE incident_id IN (SELECT id FROM incidents_incident "
                        "WHERE idempotency_key LIKE %s)", [BENCH_KEY + "%"])
        cur.execute("DELETE FROM incidents_incident WHERE idempotency_key LIKE %s", [BENCH_KEY + "%"])
    conn.commit()
    conn.close()
    return n


# --- The server ------------------------------------------------------------------------------------


def server_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DJANGO_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": bench_secret_key(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(VAR / "static"),
        "VAR_DIR": str(VAR / "var"),
        "LOG_LEVEL": "WARNING",
    }


def collectstatic(database_url: str) -> None:
    """The static files with production's manifest storage (pages fail without it)."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                   env=server_env(database_url), check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(database_url: str, port: int, workers: int) -> subprocess.Popen:
    with socket.socket() as sock:  # another server on the port would answer /healthz in our place
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is in use")
    env = server_env(database_url)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn",
         "governance.wsgi",
         "-w", str(workers), "-b", f"127.0.0.1:{port}",
         # no access log unless asked (BENCH_ACCESS_LOG=1): formatting it costs each request CPU the
         # portal does not spend behind a proxy that logs
         "--log-level", "warning", *(["--access-logfile", "-"] if os.environ.get("BENCH_ACCESS_LOG") else [])],
        cwd=ROOT, env=env, start_new_session=True,
    )
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit("gunicorn exited while starting")
        time.sleep(0.2)
    stop_gunicorn(process)
    raise SystemExit("gunicorn did not answer /healthz")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


# --- CPU accounting -------------------------------------------------------------------------------


def _proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pids(match) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if match(int(entry), ppid, cmdline):
                found.append(int(entry))
    return found


class CpuMeter:
    """CPU seconds spent by the gunicorn workers, the bench database's PostgreSQL backends and this client.

    Other work on the machine is not counted, so the figures per request hold even on a busy machine.
    """

    def __init__(self, server_pid: int, database: str):
        self.server_pid, self.database = server_pid, database

    def snapshot(self) -> dict[str, float]:
        workers = _pids(lambda pid, ppid, cmd: ppid == self.server_pid)
        backends = _pids(lambda pid, ppid, cmd: cmd.startswith("postgres: ") and f" {self.database} " in cmd)
        return {"server": sum(map(_proc_cpu, workers)), "postgres": sum(map(_proc_cpu, backends)),
                "client": sum(os.times()[:2])}

    @staticmethod
    def per_request(before: dict[str, float], after: dict[str, float], n: int) -> str:
        if not n:
            return ""
        return "  CPU per request: " + ", ".join(f"{k} {1000 * (after[k] - before[k]) / n:.1f} ms" for k in before)


# --- Clients ---------------------------------------------------------------------------------------


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def add_error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    @property
    def ok(self) -> int:
        return len(self.latencies)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self, what: str) -> str:
        rate = self.ok / self.elapsed if self.elapsed else 0
        errors = f", errors {self.errors}" if self.errors else ""
        return (f"{what:<44} {rate:8.1f}/s  p50 {self.pct(0.50):6.1f} ms  p95 {self.pct(0.95):6.1f} ms  "
                f"p99 {self.pct(0.99):6.1f} ms  ({self.ok} ok{errors})")


def _request(port: int, method: str, path: str, headers: dict, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Filer:
    """One filing request at a time, as one grid worker into their own grid."""

    def __init__(self, port: int, worker: dict, categories: list[str], rng: random.Random):
        self.port, self.worker, self.categories, self.rng = port, worker, categories, rng
        self.headers = {"Authorization": f"Token {worker['token']}", "Content-Type": "application/json",
                        "Accept": "application/json"}

    def file(self, result: Result, lock: threading.Lock, started_at: float | None = None) -> None:
        lat, lng = self.rng.choice(self.worker["points"])
        body = json.dumps({"category": self.rng.choice(self.categories), "title": "路面塌陷，影响通行",
                           "description": "网格员巡查发现，请尽快处理。", "lat": lat, "lng": lng,
                           "idempotency_key": f"{BENCH_KEY}{uuid.uuid4().hex}"}).encode()
        sent = time.perf_counter() if started_at is None else started_at
        try:
            status, content = _request(self.port, "POST", "/api/v1/incidents/", self.headers, body)
        except OSError as exc:
            with lock:
                result.add_error(type(exc).__name__)
            return
        took = time.perf_counter() - sent
        with lock:
            if status == 201:
                result.latencies.append(took)
            else:
                result.add_error(f"{status}: {content[:120]!r}")


def closed_loop(port: int, world: World, clients: int, seconds: float) -> Result:
    result, lock = Result(), threading.Lock()
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        filer = Filer(port, world.workers[i % len(world.workers)], world.categories, random.Random(i))
        while time.perf_counter() < stop:
            filer.file(result, lock)

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed = time.perf_counter() - started
    return result


def open_loop(port: int, world: World, rate: float, seconds: float, pool: int = 64) -> Result:
    """Requests scheduled every 1/rate seconds; latency from the scheduled time, so waiting counts."""
    result, lock = Result(), threading.Lock()
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    hard_stop = start + seconds + 10
    next_index = iter(range(total))
    index_lock = threading.Lock()

    def run(i: int) -> None:
        filer = Filer(port, world.workers[i % len(world.workers)], world.categories, random.Random(1000 + i))
        while True:
            with index_lock:
                n = next(next_index, None)
            if n is None:
                return
            due = start + n / rate
            if time.perf_counter() > hard_stop:  # far behind: the server cannot keep up, stop queueing
                with lock:
                    result.add_error("not sent: server fell more than 10 s behind")
                continue
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            filer.file(result, lock, started_at=due)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(pool)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed = max(time.perf_counter() - start, seconds)
    return result


def sequential_gets(port: int, path: str, headers: dict, n: int, expect: int = 200) -> Result:
    result = Result()
    for _ in range(5):  # warm the workers
        _request(port, "GET", path, headers)
    started = time.perf_counter()
    for _ in range(n):
        sent = time.perf_counter()
        status, content = _request(port, "GET", path, headers)
        if status == expect:
            result.latencies.append(time.perf_counter() - sent)
        else:
            result.add_error(f"{status}: {content[:120]!r}")
    result.elapsed = time.perf_counter() - started
    return result


# --- Main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--preload", type=int, default=100_000, help="incidents stored before measuring")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--clients", type=int, default=16, help="closed-loop client threads")
    parser.add_argument("--duration", type=float, default=20, help="seconds per filing phase")
    parser.add_argument("--rate", type=float, default=200, help="open-loop requests per second")
    parser.add_argument("--sql-seconds", type=float, default=10)
    parser.add_argument("--queue-requests", type=int, default=200)
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    parser.add_argument("--setup-only", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the incidents the bench filed")
    args = parser.parse_args()

    world = setup(args.postgres, preload=args.preload, clients=args.clients, fresh=args.fresh)
    print(f"database {urlsplit(args.postgres).path.lstrip('/')}: {world.preloaded:,} incidents stored; "
          f"{len(world.workers)} grid workers file, {len(world.categories)} categories")
    if args.setup_only:
        return
    cleanup(args.postgres)
    collectstatic(args.postgres)

    sql_rate, sql_n = bare_sql_rate(args.postgres, args.sql_seconds)
    print(f"{'bare SQL, 1 client (incident + event, txn each)':<44} {sql_rate:8.1f}/s  ({sql_n} rows)")

    args.port = args.port or free_port()
    server = start_gunicorn(args.postgres, args.port, args.workers)
    try:
        meter = CpuMeter(server.pid, urlsplit(args.postgres).path.lstrip("/"))
        warm = closed_loop(args.port, world, args.clients, 3)
        print(warm.line("warm-up (not counted)"))
        before = meter.snapshot()
        closed = closed_loop(args.port, world, args.clients, args.duration)
        print(closed.line(f"API filing, closed loop, {args.clients} clients")
              + meter.per_request(before, meter.snapshot(), closed.ok))
        before = meter.snapshot()
        opened = open_loop(args.port, world, args.rate, args.duration)
        print(opened.line(f"API filing, open loop at {args.rate:g}/s")
              + meter.per_request(before, meter.snapshot(), opened.ok))
        for persona in ("district_command", "city_command"):
            headers = {"Authorization": f"Token {world.command_tokens[persona]}", "Accept": "application/json"}
            queue = sequential_gets(args.port, "/api/v1/incidents/?open=true", headers, args.queue_requests)
            print(queue.line(f"queue API first page ({persona})"))
        page = sequential_gets(args.port, "/incidents/queue/", {"Cookie": world.queue_cookie},
                               args.queue_requests)
        print(page.line("queue HTML page (district_command)"))
    finally:
        stop_gunicorn(server)
        if not args.keep:
            removed = cleanup(args.postgres)
            print(f"removed {removed:,} incidents filed by the bench")


if __name__ == "__main__":
    main()
