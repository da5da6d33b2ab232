"""The alert sweep: every watched deadline, checked in a handful of set-based statements.

The engine (``run_sweep``) opens one transaction, takes a lock so that two sweeps
never overlap, and runs the steps of every registered watcher. A watcher owns one
kind of subject (incidents now; mediation cases and pilot-task ledger items will
register their own) and writes plain SQL that works on SQLite and PostgreSQL:

* ``UPDATE … WHERE`` to escalate and to resolve;
* ``INSERT INTO … SELECT … WHERE … ON CONFLICT DO NOTHING`` to raise alerts: the
  partial unique index "one open alert per subject and kind" turns a second raise
  into a no-op, so a repeated or concurrent sweep raises nothing twice.

The number of statements is fixed; no Python loop runs over subjects. The whole
sweep is one transaction: a worker killed halfway leaves nothing behind, and the
next run starts from the same state.

Why raw SQL and not the ORM: ``bulk_create(ignore_conflicts=True)`` needs the rows
in Python, and an ``INSERT … SELECT`` has no ORM spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

# pg_try_advisory_xact_lock key of the sweep ("alerts" in ASCII).
ADVISORY_LOCK_KEY = 0x616C65727473
# Yellow when this share of the allowed time has passed.
APPROACHING_SHARE = 0.8
DEFAULT_ESCALATION_GRACE_MINUTES = 120
# Seconds: SQLite's julianday() is a float; "exactly 80%" must not depend on rounding.
EPOCH_TOLERANCE = 0.001


def escalation_grace() -> timedelta:
    """How long a subject may stay red before it climbs a level (``ALERT_ESCALATION_GRACE_MINUTES``)."""
    return timedelta(minutes=getattr(settings, "ALERT_ESCALATION_GRACE_MINUTES", DEFAULT_ESCALATION_GRACE_MINUTES))


@dataclass
class SweepContext:
    """What one sweep's statements share: the instant, the cursor, the SQL dialect, the counts."""

    now: datetime
    cursor: Any
    vendor: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def raised(self) -> int:
        return sum(n for name, n in self.counts.items() if name.startswith("raised"))

    def db_datetime(self, value: datetime | None) -> Any:
        # Raw SQL bypasses the field's conversion: SQLite stores naive UTC text.
        return connection.ops.adapt_datetimefield_value(value)

    def epoch(self, sql: str) -> str:
        """Seconds since 1970 of a datetime column, as a float expression."""
        if self.vendor == "postgresql":
            return f"EXTRACT(EPOCH FROM {sql})"
        return f"((julianday({sql}) - 2440587.5) * 86400.0)"

    @property
    def json_object(self) -> str:
        return "jsonb_build_object" if self.vendor == "postgresql" else "json_object"

    def execute(self, name: str, sql: str, params: dict[str, Any] | None = None) -> int:
        self.cursor.execute(sql, params or {})
        count = max(self.cursor.rowcount, 0)
        self.counts[name] = self.counts.get(name, 0) + count
        return count


class Watcher(Protocol):
    """A kind of subject whose deadlines the sweep watches."""

    subject_type: str

    def steps(self) -> Iterable[Callable[[SweepContext], None]]:
        """The statements of one sweep, in order; each runs a fixed number of queries."""
        ...


_watchers: list[Watcher] = []


def register(watcher: Watcher) -> Watcher:
    if not any(w.subject_type == watcher.subject_type for w in _watchers):
        _watchers.append(watcher)
    return watcher


def watchers() -> list[Watcher]:
    return list(_watchers)


@dataclass(frozen=True)
class SweepResult:
    now: datetime
    skipped: bool = False  # another sweep held the lock
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def raised(self) -> int:
        return sum(n for name, n in self.counts.items() if name.startswith("raised"))


def _take_lock(ctx: SweepContext) -> bool:
    """PostgreSQL: a transaction-level advisory lock, released by commit or rollback.

    SQLite needs none: the transaction begins IMMEDIATE (settings), which holds the
    database's write lock until it ends.
    """
    if ctx.vendor != "postgresql":
        return True
    ctx.cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
    return bool(ctx.cursor.fetchone()[0])


def run_sweep(*, now: datetime | None = None) -> SweepResult:
    """Run every watcher once, in one transaction. Safe to run twice and concurrently."""
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        ctx = SweepContext(now=now, cursor=cursor, vendor=connection.vendor)
        if not _take_lock(ctx):
            # Another sweep is running: it does the same work, skip rather than queue up.
            return SweepResult(now=now, skipped=True)
        with translation.override(settings.LANGUAGE_CODE):
            for watcher in _watchers:
                for step in watcher.steps():
                    step(ctx)
        if ctx.raised:
            from governance.alerts import notify

            transaction.on_commit(partial(notify.queue_alert_emails, raised_at=now))
        return SweepResult(now=now, counts=dict(ctx.counts))


# --- Incidents --------------------------------------------------------------

_LITERAL = re.compile(r"^[a-z_]+$")


def _in(values: Iterable[str]) -> str:
    """An SQL ``IN`` list of constant codes (statuses, kinds) written inline."""
    items = sorted(values)
    if not items or not all(_LITERAL.match(v) for v in items):
        raise ValueError(f"not a list of codes: {items!r}")
    return "(" + ", ".join(f"'{v}'" for v in items) + ")"


@dataclass(frozen=True)
class DeadlineStep:
    name: str  # AlertStep value
    statuses: frozenset[str]  # the incident waits for this step in these statuses
    start: str  # column: when the allowed time began
    due: str  # column: the deadline


class IncidentWatcher:
    """Acceptance and handling deadlines of incidents, and escalation up the command centres.

    * yellow (deadline approaching) once 80% of the allowed time has passed; the
      allowed time runs from the report (accept) or the acceptance (handle), or from
      the last escalation, which opened a new allowed time;
    * red (overdue) once the deadline has passed;
    * escalation once a red alert has stayed open longer than the grace (counted
      from when it was raised, so a sweep that was down for a while raises red
      first and escalates a grace later, never both at once): the incident goes
      to the parent command centre with a new deadline there;
    * an alert resolves when its deadline no longer applies (status moved on,
      deadline moved by an escalation or a service).
    """

    subject_type = "incident"

    def __init__(self) -> None:
        from incidents.models import Status

        self.accept = DeadlineStep("accept", frozenset({Status.REPORTED}), "reported_at", "accept_due_at")
        self.handle = DeadlineStep("handle", frozenset({Status.ACCEPTED, Status.DISPATCHED, Status.HANDLED}),
                                   "accepted_at", "handle_due_at")

    def steps(self) -> list[Callable[[SweepContext], None]]:
        return [self.escalate, self.record_escalations, self.resolve, self.raise_escalated, self.raise_overdue,
                self.raise_approaching]

    @staticmethod
    def _tables() -> dict[str, str]:
        from governance.alerts.models import Alert
        from grids.models import Region
        from incidents.models import Event, Incident

        q = connection.ops.quote_name
        return {"A": q(Alert._meta.db_table), "I": q(Incident._meta.db_table), "R": q(Region._meta.db_table),
                "E": q(Event._meta.db_table)}

    def _step_of_status(self, status_sql: str, accept_sql: str, handle_sql: str) -> str:
        return f"CASE WHEN {status_sql} IN {_in(self.accept.statuses)} THEN {accept_sql} ELSE {handle_sql} END"

    def _still_due(self, incident: str, alert: str) -> str:
        """SQL: the alert's deadline is still the incident's current one, in a status that waits for it."""
        return " OR ".join(
            f"({alert}.step = '{s.name}' AND {incident}.status IN {_in(s.statuses)} "
            f"AND {incident}.{s.due} = {alert}.due_at)"
            for s in (self.accept, self.handle)
        )

    # 1. Escalate: one UPDATE, marked by ``updated_at = now`` for the next statements.
    def escalate(self, ctx: SweepContext) -> None:
        from grids.models import Level, Region
        from incidents import deadlines
        from incidents.models import Category

        t = self._tables()
        params: dict[str, Any] = {"now": ctx.db_datetime(ctx.now),
                                  "cutoff": ctx.db_datetime(ctx.now - escalation_grace())}
        accept_when, handle_when, note_when = [], [], []
        handle_by_days: dict[int, tuple[datetime, str]] = {}
        for n, category in enumerate(Category.objects.only("pk", "accept_hours", "handle_working_days")):
            days = category.handle_working_days
            if days not in handle_by_days:
                handle_by_days[days] = deadlines.handle_deadline(ctx.now, category)
            handle_due, note = handle_by_days[days]
            params.update({f"c{n}": category.pk, f"a{n}": ctx.db_datetime(deadlines.accept_deadline(ctx.now, category)),
                           f"h{n}": ctx.db_datetime(handle_due), f"n{n}": note})
            accept_when.append(f"WHEN %(c{n})s THEN %(a{n})s")
            handle_when.append(f"WHEN %(c{n})s THEN %(h{n})s")
            note_when.append(f"WHEN %(c{n})s THEN %(n{n})s")
        if not accept_when:
            return
        accept, handle = _in(self.accept.statuses), _in(self.handle.statuses)
        steplen = Region.steplen
        ctx.execute("escalated", f"""
            UPDATE {t['I']} SET
                responsible_region_id = (
                    SELECT p.id FROM {t['R']} p, {t['R']} c
                    WHERE c.id = {t['I']}.responsible_region_id
                      AND p.path = substr(c.path, 1, length(c.path) - {steplen})),
                responsible_level = responsible_level - 1,
                escalation_count = escalation_count + 1,
                version = version + 1,
                updated_at = %(now)s,
                accept_due_at = CASE WHEN status IN {accept}
                    THEN CASE category_id {' '.join(accept_when)} ELSE accept_due_at END
                    ELSE accept_due_at END,
                handle_due_at = CASE WHEN status IN {handle}
                    THEN CASE category_id {' '.join(handle_when)} ELSE handle_due_at END
                    ELSE handle_due_at END,
                deadline_note = CASE WHEN status IN {handle}
                    THEN CASE category_id {' '.join(note_when)} ELSE deadline_note END
                    ELSE deadline_note END
            WHERE responsible_level > {int(Level.CITY)}
              AND EXISTS (
                SELECT 1 FROM {t['A']} a
                WHERE a.subject_type = 'incident' AND a.subject_id = {t['I']}.id
                  AND a.kind = 'overdue' AND a.resolved_at IS NULL AND a.raised_at <= %(cutoff)s
                  AND ({self._still_due(t['I'], 'a')}))
        """, params)

    # 2. The timeline entry of every incident escalated just now (actor NULL = the system).
    def record_escalations(self, ctx: SweepContext) -> None:
        if not ctx.counts.get("escalated"):
            return
        t = self._tables()
        minutes = int(escalation_grace().total_seconds() // 60)
        note = gettext("Overdue for more than %(minutes)d minutes: escalated automatically to the command centre "
                       "one level up, with a new deadline there.") % {"minutes": minutes}
        ctx.execute("escalation_events", f"""
            INSERT INTO {t['E']} (incident_id, action, from_status, to_status, actor_id, at, note, data)
            SELECT i.id, 'escalate', i.status, i.status, NULL, %(now)s, %(note)s,
                   {ctx.json_object}('automatic', 1, 'to_level', i.responsible_level, 'to_region', r.name,
                                     'escalation_count', i.escalation_count, 'grace_minutes', %(grace)s)
            FROM {t['I']} i JOIN {t['R']} r ON r.id = i.responsible_region_id
            WHERE i.updated_at = %(now)s AND i.escalation_count > 0
              AND NOT EXISTS (SELECT 1 FROM {t['E']} e
                              WHERE e.incident_id = i.id AND e.action = 'escalate' AND e.at = %(now)s)
        """, {"now": ctx.db_datetime(ctx.now), "note": note, "grace": minutes})

    # 3. Resolve what no longer applies (also the red alert of an incident escalated in step 1).
    def resolve(self, ctx: SweepContext) -> None:
        t = self._tables()
        ctx.execute("resolved", f"""
            UPDATE {t['A']} SET resolved_at = %(now)s
            WHERE resolved_at IS NULL AND subject_type = 'incident'
              AND kind IN ('deadline_approaching', 'overdue', 'escalated')
              AND (
                NOT EXISTS (SELECT 1 FROM {t['I']} i
                            WHERE i.id = {t['A']}.subject_id AND ({self._still_due('i', t['A'])}))
                OR (kind = 'deadline_approaching' AND due_at < %(now)s)
              )
        """, {"now": ctx.db_datetime(ctx.now)})

    _ALERT_COLUMNS = ("subject_type, subject_id, subject_label, kind, severity, step, region_id, owner_region_id, "
                      "due_at, title, message, data, raised_at")

    # 4. One "escalated" alert per incident escalated just now.
    def raise_escalated(self, ctx: SweepContext) -> None:
        if not ctx.counts.get("escalated"):
            return
        t = self._tables()
        ctx.execute("raised_escalated", f"""
            INSERT INTO {t['A']} ({self._ALERT_COLUMNS})
            SELECT 'incident', i.id, i.number, 'escalated', 'red',
                   {self._step_of_status('i.status', "'accept'", "'handle'")}, i.grid_id, i.responsible_region_id,
                   {self._step_of_status('i.status', 'i.accept_due_at', 'i.handle_due_at')}, i.title, '',
                   {ctx.json_object}('escalation_count', i.escalation_count, 'to_level', i.responsible_level),
                   %(now)s
            FROM {t['I']} i
            WHERE i.id IN (SELECT e.incident_id FROM {t['E']} e
                           WHERE e.action = 'escalate' AND e.at = %(now)s AND e.actor_id IS NULL)
              AND i.status IN {_in(self.accept.statuses | self.handle.statuses)}
            ON CONFLICT DO NOTHING
        """, {"now": ctx.db_datetime(ctx.now)})

    def _raise(self, ctx: SweepContext, name: str, step: DeadlineStep, kind: str, severity: str,
               condition: str, extra_join: str = "") -> None:
        t = self._tables()
        ctx.execute(name, f"""
            INSERT INTO {t['A']} ({self._ALERT_COLUMNS})
            SELECT 'incident', i.id, i.number, '{kind}', '{severity}', '{step.name}', i.grid_id,
                   i.responsible_region_id, i.{step.due}, i.title, '', {ctx.json_object}(), %(now)s
            FROM {t['I']} i {extra_join}
            WHERE i.status IN {_in(step.statuses)} AND i.{step.due} IS NOT NULL AND {condition}
            ON CONFLICT DO NOTHING
        """, {"now": ctx.db_datetime(ctx.now), "now_epoch": ctx.now.timestamp()})

    # 5. Red: the deadline has passed.
    def raise_overdue(self, ctx: SweepContext) -> None:
        for step in (self.accept, self.handle):
            self._raise(ctx, f"raised_overdue_{step.name}", step, "overdue", "red", f"i.{step.due} < %(now)s")

    # 6. Yellow: 80% of the allowed time has passed (from the start, or from the last escalation).
    def raise_approaching(self, ctx: SweepContext) -> None:
        t = self._tables()
        for step in (self.accept, self.handle):
            due = ctx.epoch(f"i.{step.due}")
            start = ctx.epoch(f"COALESCE(esc.raised_at, i.{step.start})")
            remaining = round(1 - APPROACHING_SHARE, 6)
            self._raise(
                ctx, f"raised_approaching_{step.name}", step, "deadline_approaching", "yellow",
                f"i.{step.due} >= %(now)s AND COALESCE(esc.raised_at, i.{step.start}) IS NOT NULL "
                f"AND {due} - %(now_epoch)s <= {remaining} * ({due} - {start}) + {EPOCH_TOLERANCE}",
                extra_join=(f"LEFT JOIN {t['A']} esc ON esc.subject_type = 'incident' AND esc.subject_id = i.id "
                            f"AND esc.kind = 'escalated' AND esc.resolved_at IS NULL AND esc.due_at = i.{step.due}"),
            )


register(IncidentWatcher())
