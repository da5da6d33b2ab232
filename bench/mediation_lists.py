"""The mediator's workbench, the command centre's dispute list and the figures at 200,000 cases, on PostgreSQL,
each beside the raw SQL that reads the same rows in the same run.

    python bench/mediation_lists.py                  # builds bench_mediation, then measures
    python bench/mediation_lists.py --reuse          # measures an already built bench_mediation
    python bench/mediation_lists.py --cases 50000    # fewer cases

Builds a fresh database ``bench_mediation`` (dropped and created again): migrate, ``seed_demo`` (the default
demo city, no grid workers), then 200,000 cases bulk-loaded with one ``INSERT … SELECT generate_series``: a
district's ten years (every case in the first district, its streets' committees, registered over 3,650 days,
5 % still open, 2 % red), the demo mediator named on a share of their committee's cases. It then times, in
one process and run, each page through Django's test client (the whole view: login, scoping, filters,
template) and the raw SQL that reads the same rows, and prints p50/p95 in milliseconds. ``DEBUG`` is off
unless the environment says otherwise, as in production (Django's query log would be timed too). Not a test: the
figures go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from map_endpoints import fresh_database, manage, p, timed  # noqa: E402  (the same helpers)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_mediation"

LOAD_SQL = """
WITH district AS (
    SELECT path FROM grids_region WHERE level = 2 ORDER BY path LIMIT 1
), communities AS (
    SELECT c.id, c.path, row_number() OVER (ORDER BY c.path) - 1 AS n
    FROM grids_region c, district d WHERE c.level = 4 AND c.path LIKE d.path || '%%'
), nco AS (SELECT count(*) AS n FROM communities),
orgs AS (
    SELECT u.id, r.path FROM governance_unit u JOIN grids_region r ON r.id = u.home_region_id
    WHERE u.kind = 'mediation' AND r.level = 3
),
types AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM mediation_disputetype),
nt AS (SELECT count(*) AS n FROM types),
raw AS (
    SELECT s AS i, random() AS r_status, random() AS r_time, random() AS r_risk, random() AS r_out,
           (random() * 1e9)::bigint AS r_co, (random() * 1e9)::bigint AS r_type, random() AS r_dur
    FROM generate_series(1, %(n)s) AS s
), rows AS (
    SELECT raw.*, c.id AS region_id, (SELECT id FROM grids_region WHERE path = substr(c.path, 1, 8)) AS district_id,
           (SELECT o.id FROM orgs o WHERE o.path = substr(c.path, 1, 12) LIMIT 1) AS organisation_id,
           t.id AS type_id,
           -- open cases are the recent ones: a committee settles within weeks
           CASE WHEN r_status < 0.05 THEN now() - (r_time * interval '45 days')
                ELSE now() - interval '45 days' - (r_time * interval '3605 days') END AS registered_at,
           CASE WHEN r_status < 0.01 THEN 'registered' WHEN r_status < 0.02 THEN 'accepted'
                WHEN r_status < 0.04 THEN 'in_mediation' WHEN r_status < 0.05 THEN 'follow_up'
                ELSE 'closed' END AS status,
           CASE WHEN r_out < 0.8 THEN 'agreement' WHEN r_out < 0.9 THEN 'failed'
                WHEN r_out < 0.95 THEN 'withdrawn' ELSE 'referred' END AS outcome
    FROM raw
    JOIN communities c ON c.n = raw.r_co %% (SELECT n FROM nco)
    JOIN types t ON t.n = raw.r_type %% (SELECT n FROM nt)
)
INSERT INTO mediation_case (
    number, title, summary, source, dispute_type_id, amount, region_id, district_id, organisation_id, status,
    outcome, referred_to, risk_level, risk_reason, risk_changed_at, court_name, court_case_number,
    registered_at, accepted_at, clock_started_at, deadline_days, due_at, warn_at, outcome_at, closed_at,
    last_activity_at, version, updated_at)
SELECT 'BM' || lpad(i::text, 9, '0'), '基准纠纷 ' || i, '', 'walk_in', type_id, NULL, region_id, district_id,
       organisation_id, status,
       CASE WHEN status IN ('closed', 'follow_up') THEN
            CASE WHEN status = 'follow_up' THEN 'agreement' ELSE outcome END ELSE '' END,
       '', CASE WHEN r_risk < 0.02 THEN 'red' WHEN r_risk < 0.12 THEN 'yellow' ELSE 'green' END, '', registered_at,
       '', '', registered_at, registered_at + interval '1 day', registered_at, 30,
       registered_at + interval '30 days', registered_at + interval '24 days',
       CASE WHEN status IN ('closed', 'follow_up') THEN registered_at + (r_dur * interval '30 days') END,
       CASE WHEN status = 'closed' THEN registered_at + (r_dur * interval '40 days') END,
       registered_at, 1, now()
FROM rows
"""

# The demo mediator is named on a share of their committee's cases (the workbench's "my cases").
MEDIATORS_SQL = """
INSERT INTO mediation_case_mediators (case_id, user_id)
SELECT c.id, %(user)s FROM mediation_case c
WHERE c.organisation_id = %(org)s AND (c.id %% 5 = 0 OR c.status <> 'closed')
ON CONFLICT DO NOTHING
"""


def build(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_ENV": "development"}
    fresh_database(url)
    started = time.monotonic()
    manage(env, "migrate", "-v0")
    manage(env, "seed_demo", "--no-progress", "--no-grid-workers")
    print(f"database: migrate + seed_demo {time.monotonic() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="measure an existing bench_mediation")
    args = parser.parse_args()

    if not args.reuse:
        build(args.url)
    os.environ["DATABASE_URL"] = args.url
    os.environ.setdefault("DJANGO_ENV", "development")
    os.environ.setdefault("DEBUG", "false")  # as deployed: no query log, which would time the logging too
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from governance.access.models import Role, RoleAssignment
    from mediation.models import Case

    settings.ALLOWED_HOSTS = ["*"]
    User = get_user_model()
    mediator = User.objects.get(username="mediator")
    organisation = RoleAssignment.objects.active().get(user=mediator, role=Role.MEDIATOR).unit
    if not args.reuse:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(LOAD_SQL, {"n": args.cases})
            cursor.execute(MEDIATORS_SQL, {"user": mediator.pk, "org": organisation.pk})
            cursor.execute("ANALYZE")
        print(f"bulk load: {args.cases:,} cases in {time.monotonic() - started:.0f} s", flush=True)
    district_user = User.objects.get(username="district_command")
    district = RoleAssignment.objects.active().get(user=district_user, role=Role.COMMAND_STAFF).region
    total = Case.objects.count()
    in_district = Case.objects.filter(region__path__startswith=district.path).count()
    of_org = Case.objects.filter(organisation=organisation).count()
    print(f"cases: {total:,}; in {district.name}: {in_district:,}; of {organisation.name}: {of_org:,} "
          f"({Case.objects.filter(organisation=organisation).exclude(status='closed').count():,} open)")

    clients = {}
    for user in (mediator, district_user):
        client = Client()
        client.force_login(user)
        clients[user.username] = client

    def page(who: str, url: str, params=None):
        def run():
            r = clients[who].get(url, params or {})
            assert r.status_code == 200, r.content[:300]
        return run

    def sql(*statements: tuple[str, list]):
        def run():
            with connection.cursor() as cursor:
                for statement, params in statements:
                    cursor.execute(statement, params)
                    cursor.fetchall()
        return run

    columns = ("c.id, c.number, c.title, c.status, c.risk_level, c.due_at, c.registered_at, t.name, o.name, "
               "r.name")
    joins = ("FROM mediation_case c JOIN mediation_disputetype t ON t.id = c.dispute_type_id "
             "JOIN governance_unit o ON o.id = c.organisation_id JOIN grids_region r ON r.id = c.region_id")
    org = organisation.pk
    waiting = "('registered', 'accepted', 'in_mediation')"
    # in the order the ORM writes them (sorted), which the partial index case_org_open_recent names
    open_ = "('accepted', 'agreement', 'failed', 'follow_up', 'in_mediation', 'referred', 'registered', 'withdrawn')"
    workbench_sql = sql(
        (f"SELECT {columns} {joins} WHERE c.organisation_id = %s AND c.status IN {open_} AND EXISTS "
         "(SELECT 1 FROM mediation_case_mediators m WHERE m.case_id = c.id AND m.user_id = %s) "
         f"ORDER BY c.registered_at DESC, c.id DESC LIMIT 20", [org, mediator.pk]),
        (f"SELECT {columns} {joins} WHERE c.organisation_id = %s AND c.status = 'registered' "
         f"ORDER BY c.registered_at DESC, c.id DESC LIMIT 20", [org]),
        (f"SELECT {columns} {joins} WHERE c.organisation_id = %s AND c.status IN {waiting} "
         f"AND c.due_at <= now() + interval '7 days' ORDER BY c.due_at, c.id LIMIT 20", [org]),
        ("SELECT s.id, s.held_at, s.place, c.number FROM mediation_session s JOIN mediation_case c ON c.id = s.case_id "
         "WHERE c.organisation_id = %s AND s.held_at >= date_trunc('day', now()) "
         "AND s.held_at < date_trunc('day', now()) + interval '1 day'", [org]),
        (f"SELECT count(*) FROM mediation_case WHERE organisation_id = %s AND status IN {open_}", [org]),
    )
    path = district.path + "%"
    year = "AND c.registered_at >= date_trunc('day', now()) - interval '365 days'"
    # The list page shows the open cases unless asked otherwise (a work list); the API lists every case.
    def list_sql(extra: str = ""):
        return sql(
            ("SELECT count(*) FROM mediation_case c JOIN grids_region r ON r.id = c.region_id "
             f"WHERE r.path LIKE %s {extra}", [path]),
            (f"SELECT {columns} {joins} WHERE r.path LIKE %s {extra} ORDER BY c.registered_at DESC, c.id DESC LIMIT 25",
             [path]),
        )
    open_list_sql = list_sql(f"AND c.status IN {open_}")
    red_sql = list_sql(f"AND c.status IN {open_} AND c.risk_level = 'red'")
    figures_sql = sql(
        (f"SELECT count(*), count(*) FILTER (WHERE c.status IN {open_}), "
         f"count(*) FILTER (WHERE c.status IN {open_} AND c.risk_level = 'red'), "
         f"count(*) FILTER (WHERE c.status IN {waiting} AND c.due_at < now()), "
         "count(*) FILTER (WHERE c.outcome IN ('agreement', 'failed', 'withdrawn', 'referred')), "
         "count(*) FILTER (WHERE c.outcome = 'agreement'), count(*) FILTER (WHERE c.outcome = 'failed'), "
         "count(*) FILTER (WHERE c.outcome = 'withdrawn'), count(*) FILTER (WHERE c.outcome = 'referred'), "
         "avg(c.outcome_at - c.registered_at) FILTER (WHERE c.outcome_at IS NOT NULL) "
         f"FROM mediation_case c JOIN grids_region r ON r.id = c.region_id WHERE r.path LIKE %s {year}", [path]),
        ("SELECT c.dispute_type_id, count(*), count(*) FILTER (WHERE c.outcome = 'agreement') FROM mediation_case c "
         f"JOIN grids_region r ON r.id = c.region_id WHERE r.path LIKE %s {year} GROUP BY 1", [path]),
        ("SELECT substr(r.path, 1, 12), count(*), count(*) FILTER (WHERE c.risk_level = 'red') FROM mediation_case c "
         f"JOIN grids_region r ON r.id = c.region_id WHERE r.path LIKE %s AND c.status IN {open_} GROUP BY 1",
         [path]),
    )
    rows = [
        ("mediator's workbench (/mediation/workbench/)", timed(page("mediator", "/mediation/workbench/"), args.runs),
         timed(workbench_sql, args.runs)),
        ("dispute list, first page of open cases (/mediation/, district staff)",
         timed(page("district_command", "/mediation/"), args.runs), timed(open_list_sql, args.runs)),
        ("dispute list, open red cases (district staff)",
         timed(page("district_command", "/mediation/", {"risk": "red"}), args.runs), timed(red_sql, args.runs)),
        ("dispute list API, first page of all cases (district staff)",
         timed(page("district_command", "/api/v1/mediation/cases/"), args.runs), timed(list_sql(), args.runs)),
        ("figures page, last 365 days (/mediation/figures/, district staff)",
         timed(page("district_command", "/mediation/figures/"), args.runs), timed(figures_sql, args.runs)),
    ]
    # What every page of the portal pays before it reads its own rows (session, user, scope, the top bar's links
    # and unread badge, the template's frame): "My exports" of a user who has none reads one empty, indexed list.
    frame = timed(page("district_command", "/exports/"), args.runs)
    print()
    print(f"the page frame alone (/exports/ with no export, district staff): p50 {statistics.median(frame):.0f} ms, "
          f"p95 {p(frame, .95):.0f} ms")
    print()
    print(f"| page ({args.runs} runs, {total:,} cases) | page p50 | page p95 | raw SQL p50 | raw SQL p95 | "
          f"page p95 / raw p95 |")
    print("|---|---|---|---|---|---|")
    for label, api, raw in rows:
        print(f"| {label} | {statistics.median(api):.0f} ms | {p(api, .95):.0f} ms | {statistics.median(raw):.0f} ms "
              f"| {p(raw, .95):.0f} ms | {p(api, .95) / p(raw, .95):.2f}× |")


if __name__ == "__main__":
    main()
