"""The map's endpoints at a million incidents on PostgreSQL, each beside the raw SQL that gives the same answer.

    python bench/map_endpoints.py                       # builds bench_map, then measures
    python bench/map_endpoints.py --reuse               # measures an already built bench_map
    python bench/map_endpoints.py --incidents 200000    # a smaller city

Builds a fresh database ``bench_map`` (dropped and created again): migrate,
``seed_demo`` (the default demo city, 1,200 grids), the categories, then
1,000,000 incidents bulk-loaded with one ``INSERT … SELECT generate_series``
(spread over the last 365 days, 30 % open, some overdue), then one tally
rebuild (``refresh_tallies``, timed). It then times, in the same process and
run, each endpoint through Django's test client (the whole view: auth,
scoping, filters, serialisation) and the raw SQL query that fetches the same
result, and prints p50/p95 in milliseconds, plus the weight of the map page's
own assets. Not a test: figures go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_map"
OPEN = ("reported", "accepted", "dispatched", "handled", "returned")


def fresh_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                             password=parts.password, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        name = parts.path.lstrip("/")
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


LOAD_SQL = """
WITH grids AS (
    SELECT g.id, g.path, g.centroid_lat, g.centroid_lng, g.min_lat, g.max_lat, g.min_lng, g.max_lng,
           c.id AS community_id, row_number() OVER (ORDER BY g.path) - 1 AS n
    FROM grids_region g JOIN grids_region c ON c.path = substr(g.path, 1, 16)
    WHERE g.level = 5
), ng AS (SELECT count(*) AS n FROM grids),
cats AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM incidents_category WHERE parent_id IS NOT NULL),
nc AS (SELECT count(*) AS n FROM cats),
raw AS (
    SELECT s AS i, random() AS r_status, random() AS r_time, random() AS r_lat, random() AS r_lng,
           (random() * 1e9)::bigint AS r_grid, (random() * 1e9)::bigint AS r_cat, random() AS r_sev
    FROM generate_series(1, %(n)s) AS s
), rows AS (
    SELECT raw.*, g.id AS grid_id, g.community_id, c.id AS category_id,
           g.min_lat + (g.max_lat - g.min_lat) * (0.25 + 0.5 * r_lat) AS lat,
           g.min_lng + (g.max_lng - g.min_lng) * (0.25 + 0.5 * r_lng) AS lng,
           now() - (r_time * interval '365 days') AS reported_at,
           CASE WHEN r_status < 0.08 THEN 'reported' WHEN r_status < 0.15 THEN 'accepted'
                WHEN r_status < 0.27 THEN 'dispatched' WHEN r_status < 0.30 THEN 'handled'
                WHEN r_status < 0.95 THEN 'closed' ELSE 'voided' END AS status
    FROM raw
    JOIN grids g ON g.n = raw.r_grid %% (SELECT n FROM ng)
    JOIN cats c ON c.n = raw.r_cat %% (SELECT n FROM nc)
)
INSERT INTO incidents_incident (
    number, title, description, category_id, severity, status, source, lat, lng, address, grid_id,
    responsible_region_id, responsible_level, reporter_name, reporter_phone, reported_at, accept_due_at,
    handle_due_at, accepted_at, closed_at, deadline_note, escalation_count, version, updated_at)
SELECT 'BM' || lpad(i::text, 9, '0'), '基准事件 ' || i, '', category_id,
       CASE WHEN r_sev < 0.8 THEN 'normal' WHEN r_sev < 0.95 THEN 'urgent' ELSE 'critical' END,
       status, 'grid_worker', lat, lng, '', grid_id, community_id, 4, '', '', reported_at,
       reported_at + interval '2 hours',
       CASE WHEN status <> 'reported' THEN reported_at + interval '7 days' END,
       CASE WHEN status <> 'reported' THEN reported_at + interval '1 hour' END,
       CASE WHEN status = 'closed' THEN reported_at + (r_lat * interval '10 days') END,
       '', 0, 1, now()
FROM rows
"""


def build(url: str, incidents: int) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_ENV": "development"}
    fresh_database(url)
    started = time.monotonic()
    manage(env, "migrate", "-v0")
    manage(env, "seed_demo", "--no-progress", "--no-grid-workers")
    manage(env, "load_categories")
    print(f"database: migrate + seed_demo + categories {time.monotonic() - started:.0f} s", flush=True)


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed(func, runs: int) -> list[float]:
    func()  # warm
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        func()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="measure an existing bench_map")
    args = parser.parse_args()

    if not args.reuse:
        build(args.url, args.incidents)
    os.environ["DATABASE_URL"] = args.url
    os.environ.setdefault("DJANGO_ENV", "development")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.staticfiles import finders
    from django.db import connection
    from django.test import Client

    from dashboards.map.stats import refresh_tallies
    from grids.models import Level, Region
    from incidents.models import Incident

    settings.ALLOWED_HOSTS = ["*"]
    if not args.reuse:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(LOAD_SQL, {"n": args.incidents})
            cursor.execute("ANALYZE")
        print(f"bulk load: {args.incidents:,} incidents in {time.monotonic() - started:.0f} s", flush=True)
    if not args.reuse:
        result = refresh_tallies(full_days=True)
        print(f"tally rebuild (full, after loading, as seed_demo does): {result.seconds:.2f} s, "
              f"{result.category_rows:,} grid×category rows, {result.day_rows:,} grid×day rows")
    result = refresh_tallies()
    print(f"tally rebuild (the nightly repair, 31-day trend window): {result.seconds:.2f} s")
    from dashboards.map.stats import refresh_overdue

    for _ in range(2):
        started = time.monotonic()
        changed = refresh_overdue()
        print(f"overdue refresh (every minute): {time.monotonic() - started:.2f} s, {changed} rows changed")
    # A rebuild rewrites every tally row; let the planner and the visibility map catch up (autovacuum's
    # job in production) so that the endpoints are timed on the tables as they normally are.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) dashboards_gridcategorytally, dashboards_griddaytally")
    total = Incident.objects.count()
    open_n = Incident.objects.filter(status__in=OPEN).count()
    print(f"incidents: {total:,} ({open_n:,} open)")

    User = get_user_model()
    city_user = User.objects.get(username="city_command")
    district_user = User.objects.get(username="district_command")
    district = Region.objects.filter(level=Level.DISTRICT).order_by("path").first()
    clients = {}
    for user in (city_user, district_user):
        client = Client()
        client.force_login(user)
        clients[user.username] = client

    rng = random.Random(7)
    grids = list(Region.objects.filter(level=Level.GRID, path__startswith=district.path)
                 .values_list("centroid_lat", "centroid_lng"))
    KM = 0.009  # ~1 km in latitude degrees

    def box(size_km: float) -> tuple[float, float, float, float]:
        lat, lng = rng.choice(grids)
        half = size_km / 2 * KM
        return lng - half * 1.1, lat - half, lng + half * 1.1, lat + half

    rows: list[tuple[str, list[float], list[float]]] = []

    def cursor_run(sql: str, params) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    # 1. incidents in a 10 km box, as the district's staff (limit 2000)
    bboxes = [box(10) for _ in range(args.runs + 1)]
    it = iter(bboxes * 3)

    def api_bbox():
        b = next(it)
        r = clients["district_command"].get("/api/v1/map/incidents/", {"bbox": ",".join(map(str, b)), "limit": 2000})
        assert r.status_code == 200, r.content[:300]

    it2 = iter(bboxes * 3)
    bbox_sql = """
        SELECT i.id, i.number, i.lat, i.lng, i.status, i.severity,
               (i.status = 'reported' AND i.accept_due_at < now())
               OR (i.status IN ('accepted','dispatched','handled') AND i.handle_due_at < now())
        FROM incidents_incident i JOIN grids_region g ON g.id = i.grid_id
        WHERE g.path LIKE %s AND i.lat BETWEEN %s AND %s AND i.lng BETWEEN %s AND %s
        LIMIT 2001"""

    def raw_bbox():
        b = next(it2)
        cursor_run(bbox_sql, [district.path + "%", b[1], b[3], b[0], b[2]])

    rows.append(("incidents in a 10 km box (district staff)", timed(api_bbox, args.runs), timed(raw_bbox, args.runs)))

    # 2. per-region figures: streets of one district (district staff), districts of the city (city staff)
    region_sql = """
        SELECT substr(g.path, 1, %s) AS prefix, count(*),
               count(*) FILTER (WHERE i.status IN ('reported','accepted','dispatched','handled','returned')),
               count(*) FILTER (WHERE (i.status = 'reported' AND i.accept_due_at < now())
                                OR (i.status IN ('accepted','dispatched','handled') AND i.handle_due_at < now())),
               count(*) FILTER (WHERE i.status = 'closed'),
               count(*) FILTER (WHERE i.status = 'closed' AND (i.handle_due_at IS NULL
                                                              OR i.closed_at <= i.handle_due_at))
        FROM incidents_incident i JOIN grids_region g ON g.id = i.grid_id
        WHERE g.path LIKE %s GROUP BY 1"""
    for label, who, level, prefix_len, path in [
        ("per-street figures of a district", "district_command", 3, 12, district.path),
        ("per-district figures of the city", "city_command", 2, 8, district.path[:4]),
    ]:
        def api_regions(who=who, level=level):
            r = clients[who].get("/api/v1/map/regions/", {"level": level, "measure": "open"})
            assert r.status_code == 200, r.content[:300]

        def raw_regions(prefix_len=prefix_len, path=path):
            cursor_run(region_sql, [prefix_len, path + "%"])

        rows.append((label, timed(api_regions, args.runs), timed(raw_regions, args.runs)))

    # 3. the numbers (all-time figures, today's new, 30-day trend, breakdowns)
    stats_sql = """
        SELECT count(*) FILTER (WHERE i.reported_at >= date_trunc('day', now())), count(*),
               count(*) FILTER (WHERE i.status IN ('voided','merged')),
               count(*) FILTER (WHERE i.status IN ('reported','accepted','dispatched','handled','returned')),
               count(*) FILTER (WHERE (i.status = 'reported' AND i.accept_due_at < now())
                                OR (i.status IN ('accepted','dispatched','handled') AND i.handle_due_at < now())),
               count(*) FILTER (WHERE i.status = 'closed'),
               count(*) FILTER (WHERE i.status = 'closed' AND (i.handle_due_at IS NULL
                                                              OR i.closed_at <= i.handle_due_at)),
               sum(EXTRACT(EPOCH FROM i.closed_at - i.reported_at)) FILTER (WHERE i.status = 'closed')
        FROM incidents_incident i JOIN grids_region g ON g.id = i.grid_id WHERE g.path LIKE %s"""
    for label, who, path in [("numbers of a district (district staff)", "district_command", district.path),
                             ("numbers of the city (city staff)", "city_command", district.path[:4])]:
        def api_stats(who=who):
            r = clients[who].get("/api/v1/map/stats/")
            assert r.status_code == 200 and r.json()["source"] == "tallies", r.content[:300]

        def raw_stats(path=path):
            cursor_run(stats_sql, [path + "%"])

        rows.append((label, timed(api_stats, args.runs), timed(raw_stats, args.runs)))

    # The live path, for the record: a filter the tallies do not carry (severity) on the district's numbers.
    def api_stats_live():
        r = clients["district_command"].get("/api/v1/map/stats/", {"severity": ["urgent", "critical"]})
        assert r.status_code == 200 and r.json()["source"] == "live"

    def raw_stats_live():
        cursor_run(stats_sql.replace("WHERE g.path LIKE %s", "WHERE g.path LIKE %s AND i.severity IN "
                                     "('urgent','critical')"), [district.path + "%"])

    rows.append(("numbers of a district, filtered by severity (live)", timed(api_stats_live, max(10, args.runs // 2)),
                 timed(raw_stats_live, max(10, args.runs // 2))))

    print()
    print(f"| endpoint ({args.runs} runs) | API p50 | API p95 | raw SQL p50 | raw SQL p95 | API p95 / raw p95 |")
    print("|---|---|---|---|---|---|")
    for label, api, raw in rows:
        print(f"| {label} | {statistics.median(api):.0f} ms | {p(api, .95):.0f} ms | {statistics.median(raw):.0f} ms "
              f"| {p(raw, .95):.0f} ms | {p(api, .95) / p(raw, .95):.2f}× |")

    names = ["leaflet/leaflet.js", "leaflet/leaflet.css", "vendor/leaflet.markercluster/leaflet.markercluster.js",
             "vendor/leaflet.markercluster/MarkerCluster.css", "vendor/leaflet.markercluster/MarkerCluster.Default.css",
             "vendor/echarts/echarts.portal.min.js", "dashboards/map.js", "dashboards/map.css", "css/portal.css",
             "img/favicon.svg"]
    import gzip

    raw_bytes = gz_bytes = 0
    for name in names:
        data = Path(finders.find(name)).read_bytes()
        raw_bytes += len(data)
        gz_bytes += len(gzip.compress(data, 6))
    print(f"\nmap page assets: {raw_bytes / 1024:.0f} KiB ({gz_bytes / 1024:.0f} KiB gzip-compressed, "
          f"as whitenoise serves them)")


if __name__ == "__main__":
    main()
