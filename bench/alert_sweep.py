"""Benchmark of the alert sweep (not a test). PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gov_sweep python bench/alert_sweep.py

The database named in DATABASE_URL is a scratch one: it is migrated, and its
incidents, events and alerts are replaced. Data: 1,000,000 incidents, 300,000 open:

* 60,000 reported, red for longer than the escalation grace: the sweep escalates them
  (new deadline, timeline event, old alert resolved, "escalated" alert raised);
* 50,000 reported, past the accept deadline: red;
* 50,000 accepted, past their warning instant: yellow;
* the rest of the open ones accepted with time to spare; the others closed.

Timed in the same run:

1. one sweep (``run_sweep``), and the bare SQL doing the same work in one transaction
   (rolled back), on the same state; then a repeat sweep with nothing new beside the
   bare SQL of that;
2. accepts through the API (``POST /api/v1/incidents/<id>/accept/``, in-process, one
   client) on incidents the sweep is escalating, while a second wave of escalations
   runs, beside the same accepts with no sweep running;
3. a per-row Python loop (fetch, decide, get_or_create) on a sample, scaled to 100,000.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import threading
import time
import warnings
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault("DEBUG", "false")  # no query log: it would time the logging, not the sweep
warnings.filterwarnings("ignore", message="No directory at")  # static files are not collected for a benchmark

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

TOTAL, OPEN, ESCALATING, OVERDUE, APPROACHING = 1_000_000, 300_000, 60_000, 50_000, 50_000
LOOP_SAMPLE = 2_000
ACCEPTS_AT_REST = 100


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


def _category():
    from incidents.models import Category

    return Category.objects.filter(parent__isnull=False).order_by("pk").first()


def build(now) -> None:
    from governance.alerts.sweep import escalation_grace
    from grids.models import Region
    from incidents.management.commands.load_categories import load_categories
    from incidents.models import Category

    if not Region.objects.exists():
        from tests.factories import build_city

        build_city()
    if not Category.objects.filter(parent__isnull=False).exists():
        from django.conf import settings

        rows = json.loads((Path(settings.BASE_DIR) / "fixtures" / "incident_categories.json").read_text("utf-8"))
        load_categories(rows["categories"])
    grid = Region.objects.get(code="440101001001")
    community = Region.objects.get(code="440101001")
    category = _category()
    esc, red, yellow = ESCALATING, ESCALATING + OVERDUE, ESCALATING + OVERDUE + APPROACHING
    with connection.cursor() as c:
        c.execute("TRUNCATE governance_alert, incidents_event, incidents_attachment, incidents_unittask, "
                  "incidents_incident RESTART IDENTITY CASCADE")
        # 1..esc: reported, red since 2.5 hours (past the grace): escalate.
        # ..red: reported, accept deadline passed an hour ago: raise red.
        # ..yellow: accepted, past the warning instant: raise yellow.
        # ..OPEN: accepted, warning in 14 hours. The rest: closed.
        c.execute("""
            INSERT INTO incidents_incident (number, title, description, category_id, severity, status, source,
                lat, lng, address, grid_id, responsible_region_id, responsible_level, reporter_name, reporter_phone,
                reported_at, accept_due_at, accept_warn_at, accepted_at, handle_due_at, handle_warn_at,
                deadline_note, escalation_count, version, updated_at)
            SELECT 'B' || lpad(n::text, 9, '0'), 'bench', '', %(cat)s, 'normal',
                   CASE WHEN n <= %(red)s THEN 'reported' WHEN n <= %(open)s THEN 'accepted' ELSE 'closed' END,
                   'grid_worker', 23.01, 116.01, '', %(grid)s, %(community)s, 4, '', '',
                   CASE WHEN n <= %(esc)s THEN %(now)s - interval '7 hours'
                        WHEN n <= %(red)s THEN %(now)s - interval '5 hours'
                        ELSE %(now)s - interval '9 days' END,
                   CASE WHEN n <= %(esc)s THEN %(now)s - interval '3 hours'
                        WHEN n <= %(red)s THEN %(now)s - interval '1 hour'
                        ELSE %(now)s - interval '9 days' + interval '4 hours' END,
                   CASE WHEN n <= %(esc)s THEN %(now)s - interval '3 hours 48 minutes'
                        WHEN n <= %(red)s THEN %(now)s - interval '1 hour 48 minutes'
                        ELSE %(now)s - interval '9 days' + interval '3 hours 12 minutes' END,
                   CASE WHEN n <= %(red)s THEN NULL ELSE %(now)s - interval '9 days' END,
                   CASE WHEN n <= %(red)s THEN NULL ELSE %(now)s + interval '1 day' END,
                   CASE WHEN n <= %(red)s THEN NULL
                        WHEN n <= %(yellow)s THEN %(now)s - interval '1 day'
                        ELSE %(now)s + interval '14 hours' END,
                   '', 0, 1, %(now)s
            FROM generate_series(1, %(total)s) AS n
        """, {"cat": category.pk, "esc": esc, "red": red, "yellow": yellow, "open": OPEN, "grid": grid.pk,
              "community": community.pk, "now": now, "total": TOTAL})
        c.execute("""
            INSERT INTO governance_alert (subject_type, subject_id, subject_label, kind, severity, step, region_id,
              owner_region_id, due_at, title, message, data, raised_at)
            SELECT 'incident', id, number, 'overdue', 'red', 'accept', grid_id, responsible_region_id,
                   accept_due_at, title, '', '{}'::jsonb, %(raised)s
            FROM incidents_incident WHERE id <= %(esc)s
        """, {"esc": esc, "raised": now - escalation_grace() - timedelta(minutes=30)})
    # Outside a transaction: VACUUM sets the hint bits of the fresh rows, which the first statement to
    # read them would otherwise write (and be timed for), and gives the planner its statistics.
    with connection.cursor() as c:
        for table in ("incidents_incident", "governance_alert", "incidents_event"):
            c.execute(f"VACUUM (ANALYZE) {table}")


def bare_sql(now) -> None:
    """The same work written by hand, as one would for this data: one category, one level to climb.

    Escalation as one statement of data-modifying CTEs (move up, timeline entries, old alerts
    resolved, "escalated" alerts raised), then resolve, red and yellow. No batches, no locks
    skipped, no timeouts; the deadline values of the one category computed beforehand.
    """
    from governance.alerts.sweep import escalation_grace
    from grids.models import Region
    from incidents import deadlines
    from incidents.workflow import Clock

    fresh = deadlines.accept_deadline(now, _category())
    region = Region._meta.db_table
    with connection.cursor() as c:
        c.execute(f"""
            WITH esc AS (
                UPDATE incidents_incident i SET responsible_region_id = p.id,
                    responsible_level = i.responsible_level - 1, escalation_count = i.escalation_count + 1,
                    version = i.version + 1, updated_at = %(now)s, accept_due_at = %(due)s,
                    accept_warn_at = %(warn)s
                FROM governance_alert a, {region} r, {region} p
                WHERE a.subject_type = 'incident' AND a.subject_id = i.id AND a.kind = 'overdue'
                  AND a.resolved_at IS NULL AND a.raised_at <= %(cutoff)s AND a.step = 'accept'
                  AND i.status = 'reported' AND i.accept_due_at = a.due_at AND i.responsible_level > 1
                  AND r.id = i.responsible_region_id AND p.path = substr(r.path, 1, length(r.path) - 4)
                RETURNING i.id, i.status, i.number, i.title, i.grid_id, i.responsible_region_id,
                          i.responsible_level, i.escalation_count, i.accept_due_at),
            events AS (
                INSERT INTO incidents_event (incident_id, action, from_status, to_status, actor_id, at, note, data)
                SELECT esc.id, 'escalate', esc.status, esc.status, NULL, %(now)s, 'escalated',
                       jsonb_build_object('automatic', 1, 'to_level', esc.responsible_level, 'to_region', r.name,
                                          'escalation_count', esc.escalation_count, 'grace_minutes', 120,
                                          'deadline', CAST(%(record)s AS jsonb))
                FROM esc JOIN {region} r ON r.id = esc.responsible_region_id),
            resolved AS (
                UPDATE governance_alert a SET resolved_at = %(now)s FROM esc
                WHERE a.subject_type = 'incident' AND a.subject_id = esc.id AND a.resolved_at IS NULL)
            INSERT INTO governance_alert (subject_type, subject_id, subject_label, kind, severity, step, region_id,
              owner_region_id, due_at, title, message, data, raised_at)
            SELECT 'incident', esc.id, esc.number, 'escalated', 'red', 'accept', esc.grid_id,
                   esc.responsible_region_id, esc.accept_due_at, esc.title, '',
                   jsonb_build_object('escalation_count', esc.escalation_count, 'to_level', esc.responsible_level),
                   %(now)s
            FROM esc""", {"now": now, "cutoff": now - escalation_grace(), "due": fresh.due_at,
                          "warn": fresh.warn_at, "record": json.dumps(fresh.record(Clock.RESTART))})
        c.execute("""
            UPDATE governance_alert a SET resolved_at = %(now)s
            WHERE a.resolved_at IS NULL AND a.subject_type = 'incident' AND (NOT EXISTS (
              SELECT 1 FROM incidents_incident i WHERE i.id = a.subject_id AND (
                (a.step = 'accept' AND i.status = 'reported' AND i.accept_due_at = a.due_at) OR
                (a.step = 'handle' AND i.status IN ('accepted', 'dispatched', 'handled')
                 AND i.handle_due_at = a.due_at))) OR (a.kind = 'deadline_approaching' AND a.due_at < %(now)s))""",
                  {"now": now})
        for step, statuses, due, warn in (("accept", "('reported')", "accept_due_at", "accept_warn_at"),
                                          ("handle", "('accepted', 'dispatched', 'handled')", "handle_due_at",
                                           "handle_warn_at")):
            for kind, severity, condition in (("overdue", "red", f"{due} < %(now)s"),
                                              ("deadline_approaching", "yellow",
                                               f"{warn} <= %(now)s AND {due} >= %(now)s")):
                c.execute(f"""
                    INSERT INTO governance_alert (subject_type, subject_id, subject_label, kind, severity, step,
                      region_id, owner_region_id, due_at, title, message, data, raised_at)
                    SELECT 'incident', id, number, '{kind}', '{severity}', '{step}', grid_id,
                           responsible_region_id, {due}, title, '', '{{}}'::jsonb, %(now)s
                    FROM incidents_incident WHERE status IN {statuses} AND {due} IS NOT NULL AND {condition}
                    ON CONFLICT DO NOTHING""", {"now": now})


def per_row_loop(now, sample: int) -> int:
    """What a naive task would do: one incident at a time (here the first of the red ones; no escalation)."""
    from governance.alerts.models import Alert
    from incidents.models import Incident

    done = 0
    for incident in Incident.objects.open().filter(pk__gt=ESCALATING).order_by("pk")[:sample].iterator():
        if incident.status == "reported":
            due, warn, step = incident.accept_due_at, incident.accept_warn_at, "accept"
        else:
            due, warn, step = incident.handle_due_at, incident.handle_warn_at, "handle"
        if due is None or warn is None:
            continue
        if due < now:
            kind, severity = "overdue", "red"
        elif warn <= now:
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


class StepTimes:
    """The wall time of each step of the sweeps run inside it."""

    def __init__(self):
        self.times: dict[str, float] = {}

    def __enter__(self):
        from governance.alerts import sweep

        self.real = sweep._run_step

        def timed_step(step, ctx):
            start = time.perf_counter()
            try:
                self.real(step, ctx)
            finally:
                name = getattr(step, "__name__", repr(step))
                self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - start

        sweep._run_step = timed_step
        return self

    def __exit__(self, *exc):
        from governance.alerts import sweep

        sweep._run_step = self.real

    def summary(self) -> str:
        return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.times.items())


class Accepts:
    """Accepts through the API, one after another, on random incidents of a set, each timed (seconds)."""

    def __init__(self, ids: list[int]):
        from django.contrib.auth import get_user_model
        from django.test import Client

        user, _ = get_user_model().objects.get_or_create(username="bench_city_admin",
                                                         defaults={"is_superuser": True, "is_staff": True})
        self.client = Client(HTTP_HOST="localhost")
        self.client.force_login(user)
        self.ids = ids
        self.rng = random.Random(7)
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}

    def one(self) -> None:
        pk = self.ids.pop(self.rng.randrange(len(self.ids)))
        start = time.perf_counter()
        response = self.client.post(f"/api/v1/incidents/{pk}/accept/", content_type="application/json", data={})
        self.latencies.append(time.perf_counter() - start)
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1

    def summary(self) -> str:
        ordered = sorted(self.latencies)
        p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
        return (f"{len(ordered)} accepts, p50 {statistics.median(ordered) * 1000:6.0f} ms, "
                f"p95 {p95 * 1000:6.0f} ms, max {ordered[-1] * 1000:6.0f} ms (the first "
                f"{self.latencies[0] * 1000:.0f} ms), answers {self.statuses}")


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL to a scratch database.")
    from governance.alerts.sweep import ESCALATION_BATCH, escalation_grace, run_sweep

    call_command("migrate", verbosity=0)
    now = timezone.now().replace(microsecond=0)
    t_build = timed(lambda: build(now))
    print(f"data: {TOTAL:,} incidents, {OPEN:,} open, {ESCALATING:,} escalating, {OVERDUE + APPROACHING:,} "
          f"crossing a threshold (built in {t_build:.1f} s); escalation batches of {ESCALATION_BATCH:,}")

    # The loop on LOOP_SAMPLE of the red ones, scaled to the 100,000 crossing; on the untouched state.
    t_loop = timed_rolled_back(lambda: per_row_loop(now, LOOP_SAMPLE))
    t_loop_scaled = t_loop / LOOP_SAMPLE * (OVERDUE + APPROACHING)

    t_bare = timed_rolled_back(lambda: bare_sql(now))
    result = {}
    steps = StepTimes()
    with steps:
        t_sweep = timed(lambda: result.update(r=run_sweep(now=now)))
    counts = result["r"].counts
    t_bare_repeat = timed_rolled_back(lambda: bare_sql(now + timedelta(seconds=30)))
    t_repeat = timed(lambda: result.update(r2=run_sweep(now=now + timedelta(seconds=30))))
    assert result["r2"].raised == 0 and not result["r2"].counts.get("escalated")
    print(f"sweep:          {t_sweep:6.2f} s  bare SQL {t_bare:6.2f} s  ratio {t_sweep / t_bare:4.1f}x   "
          f"({counts.get('escalated', 0):,} escalated, {result['r'].raised:,} alerts raised)")
    print(f"  its steps: {steps.summary()}")
    print(f"repeat sweep:   {t_repeat:6.2f} s  bare SQL {t_bare_repeat:6.2f} s  ratio "
          f"{t_repeat / t_bare_repeat:4.1f}x   (nothing new)")
    raising = sum(seconds for name, seconds in steps.times.items() if name != "escalate")
    print(f"per-row loop:   {t_loop:6.2f} s for {LOOP_SAMPLE:,} -> {t_loop_scaled:6.1f} s for "
          f"{OVERDUE + APPROACHING:,} (raising only); the sweep's steps that do that work took {raising:.2f} s: "
          f"{t_loop_scaled / raising:4.0f}x faster")

    # A second wave: the escalated incidents go red at the street a deadline later, and escalate a grace
    # after that (with the red ones of the first wave): accepts on them meanwhile, beside accepts at rest.
    from incidents.models import Incident

    fresh_red = now + timedelta(hours=4, minutes=1)
    run_sweep(now=fresh_red)
    wave = fresh_red + escalation_grace() + timedelta(minutes=1)
    ids = list(Incident.objects.filter(status="reported").values_list("pk", flat=True))
    at_rest = Accepts(ids)
    for _ in range(ACCEPTS_AT_REST):
        at_rest.one()
    print(f"accepts, no sweep running:        {at_rest.summary()}")

    during = Accepts(at_rest.ids)
    sweeping = {}

    def second_wave():
        try:
            sweeping["t"] = timed(lambda: sweeping.update(r=run_sweep(now=wave)))
        finally:
            connections.close_all()

    thread = threading.Thread(target=second_wave)
    thread.start()
    while thread.is_alive():
        during.one()
    thread.join()
    escalated = sweeping["r"].counts.get("escalated", 0)
    print(f"accepts, during a sweep of {sweeping['t']:5.2f} s escalating {escalated:,}: {during.summary()}")


if __name__ == "__main__":
    main()
