"""Benchmark of the alert sweep (not a test). PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/governance_bench python bench/alert_sweep.py

The database named in DATABASE_URL is a scratch one: it is migrated, and its
incidents, events and alerts are replaced. Data: 1,000,000 incidents, 300,000 open,
of which 100,000 cross a threshold (50,000 past the accept deadline, 50,000 past 80%
of the handling time). Timed in the same run:

1. one sweep (``run_sweep``) and a repeat sweep with nothing new;
2. the bare SQL doing the same work (two INSERT … SELECT … ON CONFLICT DO NOTHING and
   the resolve UPDATE), on the same state, rolled back;
3. a per-row Python loop (fetch, decide, get_or_create) on a sample, scaled to 100,000.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

TOTAL, OPEN, OVERDUE, APPROACHING = 1_000_000, 300_000, 50_000, 50_000
LOOP_SAMPLE = 2_000


class Rollback(Exception):
    pass


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def timed_rolled_back(fn) -> float:
    elapsed = 0.0
    try:
        with transaction.atomic():
            elapsed = timed(fn)
            raise Rollback
    except Rollback:
        pass
    return elapsed


def build(now) -> None:
    from grids.models import Region
    from incidents.management.commands.load_categories import load_categories
    from incidents.models import Category

    if not Region.objects.exists():
        from tests.factories import build_city

        build_city()
    if not Category.objects.filter(parent__isnull=False).exists():
        import json

        from django.conf import settings

        rows = json.loads((Path(settings.BASE_DIR) / "fixtures" / "incident_categories.json").read_text("utf-8"))
        load_categories(rows["categories"])
    grid = Region.objects.get(code="440101001001")
    community = Region.objects.get(code="440101001")
    category = Category.objects.filter(parent__isnull=False).order_by("pk").first()
    with connection.cursor() as c:
        c.execute("TRUNCATE governance_alert, incidents_event, incidents_attachment, incidents_unittask, "
                  "incidents_incident RESTART IDENTITY CASCADE")
        # Rows 1..OVERDUE: reported, accept deadline passed an hour ago.
        # Next APPROACHING: accepted, 90% of a 10-day handling time gone.
        # Up to OPEN: accepted, 10% gone. The rest: closed.
        c.execute("""
            INSERT INTO incidents_incident (number, title, description, category_id, severity, status, source,
                lat, lng, address, grid_id, responsible_region_id, responsible_level, reporter_name, reporter_phone,
                reported_at, accept_due_at, accepted_at, handle_due_at, deadline_note, escalation_count, version,
                updated_at)
            SELECT 'B' || lpad(n::text, 9, '0'), 'bench', '', %(cat)s, 'normal',
                   CASE WHEN n <= %(overdue)s THEN 'reported' WHEN n <= %(open)s THEN 'accepted' ELSE 'closed' END,
                   'grid_worker', 23.01, 116.01, '', %(grid)s, %(community)s, 4, '', '',
                   CASE WHEN n <= %(overdue)s THEN %(now)s - interval '5 hours'
                        ELSE %(now)s - interval '9 days' END,
                   CASE WHEN n <= %(overdue)s THEN %(now)s - interval '1 hour'
                        ELSE %(now)s - interval '9 days' + interval '4 hours' END,
                   CASE WHEN n <= %(overdue)s THEN NULL
                        WHEN n <= %(overdue)s + %(approaching)s THEN %(now)s - interval '9 days'
                        ELSE %(now)s - interval '1 day' END,
                   CASE WHEN n <= %(overdue)s THEN NULL ELSE %(now)s + interval '1 day' END,
                   '', 0, 1, %(now)s
            FROM generate_series(1, %(total)s) AS n
        """, {"cat": category.pk, "overdue": OVERDUE, "approaching": APPROACHING, "open": OPEN, "grid": grid.pk,
              "community": community.pk, "now": now, "total": TOTAL})
        c.execute("ANALYZE incidents_incident")
        c.execute("ANALYZE governance_alert")


def bare_sql(now) -> None:
    """The same work written by hand: resolve, red, yellow (no escalation is due in this data)."""
    with connection.cursor() as c:
        c.execute("""
            UPDATE governance_alert a SET resolved_at = %(now)s
            WHERE a.resolved_at IS NULL AND a.subject_type = 'incident' AND NOT EXISTS (
              SELECT 1 FROM incidents_incident i WHERE i.id = a.subject_id AND (
                (a.step = 'accept' AND i.status = 'reported' AND i.accept_due_at = a.due_at) OR
                (a.step = 'handle' AND i.status IN ('accepted', 'dispatched', 'handled')
                 AND i.handle_due_at = a.due_at)))""", {"now": now})
        c.execute("""
            INSERT INTO governance_alert (subject_type, subject_id, subject_label, kind, severity, step, region_id,
              owner_region_id, due_at, title, message, data, raised_at)
            SELECT 'incident', id, number, 'overdue', 'red', 'accept', grid_id, responsible_region_id,
                   accept_due_at, title, '', '{}'::jsonb, %(now)s
            FROM incidents_incident WHERE status = 'reported' AND accept_due_at < %(now)s
            ON CONFLICT DO NOTHING""", {"now": now})
        c.execute("""
            INSERT INTO governance_alert (subject_type, subject_id, subject_label, kind, severity, step, region_id,
              owner_region_id, due_at, title, message, data, raised_at)
            SELECT 'incident', id, number, 'deadline_approaching', 'yellow', 'handle', grid_id,
                   responsible_region_id, handle_due_at, title, '', '{}'::jsonb, %(now)s
            FROM incidents_incident WHERE status IN ('accepted', 'dispatched', 'handled')
              AND handle_due_at >= %(now)s
              AND handle_due_at - %(now)s <= 0.2 * (handle_due_at - accepted_at)
            ON CONFLICT DO NOTHING""", {"now": now})


def per_row_loop(now, sample: int) -> int:
    """What a naive task would do: one incident at a time."""
    from governance.alerts.models import Alert
    from incidents.models import Incident

    done = 0
    for incident in Incident.objects.open().order_by("pk")[:sample].iterator():
        if incident.status == "reported":
            due, start, step = incident.accept_due_at, incident.reported_at, "accept"
        else:
            due, start, step = incident.handle_due_at, incident.accepted_at, "handle"
        if due is None or start is None:
            continue
        if due < now:
            kind, severity = "overdue", "red"
        elif (due - now) <= (due - start) * 0.2:
            kind, severity = "deadline_approaching", "yellow"
        else:
            continue
        Alert.objects.get_or_create(
            subject_type="incident", subject_id=incident.pk, kind=kind, resolved_at=None,
            defaults={"severity": severity, "step": step, "region_id": incident.grid_id,
                      "owner_region_id": incident.responsible_region_id, "due_at": due, "raised_at": now,
                      "subject_label": incident.number, "title": incident.title},
        )
        done += 1
    return done


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL to a scratch database.")
    from governance.alerts.models import Alert
    from governance.alerts.sweep import run_sweep

    call_command("migrate", verbosity=0)
    now = timezone.now().replace(microsecond=0)
    t_build = timed(lambda: build(now))
    print(f"data: {TOTAL:,} incidents, {OPEN:,} open, {OVERDUE + APPROACHING:,} crossing a threshold "
          f"(built in {t_build:.1f} s)")

    t_bare = timed_rolled_back(lambda: bare_sql(now))
    sweep_result = {}
    t_sweep = timed(lambda: sweep_result.update(r=run_sweep(now=now)))
    raised = Alert.objects.count()
    t_bare_repeat = timed_rolled_back(lambda: bare_sql(now + timedelta(seconds=30)))
    t_repeat = timed(lambda: sweep_result.update(r2=run_sweep(now=now + timedelta(seconds=30))))
    assert sweep_result["r2"].raised == 0

    # The loop on the first LOOP_SAMPLE open incidents (overdue ones), scaled to the 100,000 crossing.
    Alert.objects.all().delete()
    t_loop = timed_rolled_back(lambda: per_row_loop(now, LOOP_SAMPLE))
    t_loop_scaled = t_loop / LOOP_SAMPLE * (OVERDUE + APPROACHING)

    print(f"sweep:          {t_sweep:6.2f} s  ({raised:,} alerts raised)   bare SQL {t_bare:6.2f} s  "
          f"ratio {t_sweep / t_bare:4.1f}x")
    print(f"repeat sweep:   {t_repeat:6.2f} s  (nothing new)            bare SQL {t_bare_repeat:6.2f} s  "
          f"ratio {t_repeat / t_bare_repeat:4.1f}x")
    print(f"per-row loop:   {t_loop:6.2f} s for {LOOP_SAMPLE:,} -> {t_loop_scaled:6.1f} s for "
          f"{OVERDUE + APPROACHING:,}; the sweep is {t_loop_scaled / t_sweep:5.0f}x faster")


if __name__ == "__main__":
    main()
