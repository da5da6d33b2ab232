"""The alert sweep: every watched deadline, checked in a handful of set-based statements.

The engine (``run_sweep``) takes a lock so that two sweeps never overlap, and runs
the steps of every registered watcher. A watcher owns one kind of subject (incidents
now; mediation cases and pilot-task ledger items will register their own) and writes
plain SQL that works on SQLite and PostgreSQL:

* ``UPDATE … WHERE`` to escalate and to resolve;
* ``INSERT INTO … SELECT … WHERE … ON CONFLICT DO NOTHING`` to raise alerts: the
  partial unique index "one open alert per subject and kind" turns a second raise
  into a no-op, so a repeated or concurrent sweep raises nothing twice.

No Python loop runs over subjects. Work that locks rows people act on (the escalation)
goes in batches of ``ESCALATION_BATCH`` subjects, each a loop turn over a set.

**Short transactions, bounded statements.** Each step runs in a transaction of its
own; a step that is a generator commits at each ``yield`` too (and at its end), so a
step that works in batches yields between them. Each transaction is committed or rolled back whole:
a sweep killed halfway leaves whole batches done and the rest untouched, and the next
run carries on from there. On PostgreSQL each transaction sets
``statement_timeout`` / ``lock_timeout`` (a runaway statement or a wait behind someone
else's lock fails the sweep, which the task retries, instead of holding rows or queueing
people behind it) and ``client_connection_check_interval`` (a statement whose worker was
killed is cancelled within a second instead of running on for minutes). People never wait
for the sweep longer than one batch: it locks the incidents of a batch with
``FOR UPDATE SKIP LOCKED``, so an incident someone is acting on is left to the next sweep,
and an incident the sweep holds is released when its batch commits.

Why raw SQL and not the ORM: ``bulk_create(ignore_conflicts=True)`` needs the rows
in Python, and an ``INSERT … SELECT`` has no ORM spelling.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

# pg_advisory_lock key of the sweep ("alerts" in ASCII).
ADVISORY_LOCK_KEY = 0x616C65727473
DEFAULT_ESCALATION_GRACE_MINUTES = 120
# Subjects escalated per transaction: a person acting on one of them waits at most one batch.
ESCALATION_BATCH = 1000
# PostgreSQL bounds of every statement of a sweep (``set_config(…, is_local => true)`` per transaction).
# At a million incidents the longest statement takes about a second; thirty is a runaway plan.
STATEMENT_TIMEOUT = "30s"
# The sweep waits this long for a lock (DDL, a concurrent sweep's uncommitted alert) before giving up.
LOCK_TIMEOUT = "2s"
# How often PostgreSQL checks, while a statement runs, that the worker that sent it is still there.
CLIENT_CHECK_INTERVAL = "1s"


def escalation_grace() -> timedelta:
    """How long a subject may stay red before it climbs a level (``ALERT_ESCALATION_GRACE_MINUTES``)."""
    return timedelta(minutes=getattr(settings, "ALERT_ESCALATION_GRACE_MINUTES", DEFAULT_ESCALATION_GRACE_MINUTES))


@dataclass
class SweepContext:
    """What one sweep's statements share: the instant, the SQL dialect, the counts, the open cursor."""

    now: datetime
    vendor: str
    counts: dict[str, int] = field(default_factory=dict)
    cursor: Any = None  # the cursor of the transaction running now
    bounded: bool = False  # whether this transaction's timeouts are set

    @property
    def raised(self) -> int:
        return sum(n for name, n in self.counts.items() if name.startswith("raised"))

    def db_datetime(self, value: datetime | None) -> Any:
        # Raw SQL bypasses the field's conversion: SQLite stores naive UTC text.
        return connection.ops.adapt_datetimefield_value(value)

    @property
    def json_object(self) -> str:
        return "jsonb_build_object" if self.vendor == "postgresql" else "json_object"

    def json(self, sql: str) -> str:
        """A JSON text (a parameter, a column) as a JSON value inside ``json_object``."""
        return f"CAST({sql} AS jsonb)" if self.vendor == "postgresql" else f"json({sql})"

    def among(self, column: str, param: str) -> str:
        """SQL: ``column`` is one of the ids in the parameter ``param`` (see ``ids``)."""
        if self.vendor == "postgresql":
            return f"{column} = ANY(%({param})s)"
        return f"{column} IN (SELECT value FROM json_each(%({param})s))"

    def ids(self, values: Iterable[int]) -> Any:
        """The value of a parameter ``among`` reads: one parameter, however many ids."""
        values = [int(v) for v in values]
        return values if self.vendor == "postgresql" else json.dumps(values)

    def skip_locked(self, alias: str) -> str:
        """Lock the selected rows of ``alias``, passing over rows someone else holds (PostgreSQL).

        SQLite has no row locks: each transaction holds the database's write lock.
        """
        return f"FOR UPDATE OF {alias} SKIP LOCKED" if self.vendor == "postgresql" else ""

    def _bound(self) -> None:
        if self.bounded or self.vendor != "postgresql":
            return
        settings_sql = ["set_config('statement_timeout', %s, true)", "set_config('lock_timeout', %s, true)"]
        values = [STATEMENT_TIMEOUT, LOCK_TIMEOUT]
        if connection.pg_version >= 140000:
            settings_sql.append("set_config('client_connection_check_interval', %s, true)")
            values.append(CLIENT_CHECK_INTERVAL)
        self.cursor.execute("SELECT " + ", ".join(settings_sql), values)
        self.bounded = True

    def execute(self, name: str, sql: str, params: dict[str, Any] | None = None) -> int:
        self._bound()
        self.cursor.execute(sql, params or {})
        count = max(self.cursor.rowcount, 0)
        self.counts[name] = self.counts.get(name, 0) + count
        return count

    def fetch(self, sql: str, params: dict[str, Any] | None = None, *, name: str | None = None) -> list[tuple]:
        self._bound()
        self.cursor.execute(sql, params or {})
        rows = self.cursor.fetchall()
        if name is not None:
            self.counts[name] = self.counts.get(name, 0) + len(rows)
        return rows


# A step: a function of the context, run in a transaction of its own; a generator function
# commits at each ``yield`` as well as at its end (batches yield between one another).
Step = Callable[[SweepContext], Iterator[None] | None]


class Watcher(Protocol):
    """A kind of subject whose deadlines the sweep watches."""

    subject_type: str

    def steps(self) -> Iterable[Step]:
        """The steps of one sweep, in order: each its own transaction, and a generator one per ``yield``."""
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
    skipped: bool = False  # another sweep held the lock: nothing was done (the task tries again soon)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def raised(self) -> int:
        return sum(n for name, n in self.counts.items() if name.startswith("raised"))


@contextmanager
def _sweep_lock(vendor: str) -> Iterator[bool]:
    """PostgreSQL: a session-level advisory lock, held across the sweep's transactions.

    Released at the end, or by PostgreSQL when the session ends: a killed worker's
    connection goes, and with it the lock, once its statement is cancelled
    (``client_connection_check_interval``, ``statement_timeout``). SQLite needs none:
    each transaction begins IMMEDIATE (settings) and holds the database's write lock,
    and the sweep's statements are safe to interleave (see docs/alerts.md).
    """
    if vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            _unlock()


def _unlock() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
    except DatabaseError:
        # The connection is broken or unusable: closing it ends the session, and the lock with it.
        logger.warning("Could not release the alert sweep's lock; closing the connection instead.", exc_info=True)
        if not connection.in_atomic_block:
            connection.close()


@contextmanager
def _transaction(ctx: SweepContext) -> Iterator[None]:
    with transaction.atomic(), connection.cursor() as cursor:
        ctx.cursor, ctx.bounded = cursor, False
        try:
            yield
        finally:
            ctx.cursor = None


def _run_step(step: Step, ctx: SweepContext) -> None:
    if not inspect.isgeneratorfunction(step):
        with _transaction(ctx):
            step(ctx)
        return
    work = step(ctx)
    while True:
        with _transaction(ctx):
            try:
                next(work)  # up to the next yield, or to the end
            except StopIteration:
                return


def run_sweep(*, now: datetime | None = None) -> SweepResult:
    """Run every watcher once. Safe to run twice, concurrently, and to kill at any point."""
    now = now or timezone.now()
    ctx = SweepContext(now=now, vendor=connection.vendor)
    with _sweep_lock(ctx.vendor) as held:
        if not held:
            # Another sweep holds the lock: it may be a live one, or one whose worker died and whose
            # statement PostgreSQL has yet to cancel. The task tries again in a few seconds.
            return SweepResult(now=now, skipped=True)
        with translation.override(settings.LANGUAGE_CODE):
            for watcher in _watchers:
                for step in watcher.steps():
                    _run_step(step, ctx)
    if ctx.raised:
        from governance.alerts import notify

        # Every alert of this sweep is committed by now: one email task for all of them.
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
    due: str  # column: the deadline
    warn: str  # column: when it turns yellow (incidents.deadlines computes it with the deadline)


class IncidentWatcher:
    """Acceptance and handling deadlines of incidents, and escalation up the command centres.

    * yellow (deadline approaching) from the warning instant stored with the deadline:
      80 % of the allowed time, in clock time for the accept limit and in working time
      for the handling limit, computed by ``incidents.deadlines`` whenever a deadline is
      set (filing, a transition's clock, an escalation);
    * red (overdue) once the deadline has passed;
    * escalation once a red alert has stayed open longer than the grace (counted
      from when it was raised, so a sweep that was down for a while raises red
      first and escalates a grace later, never both at once): the incident goes
      to the parent command centre with a new deadline there, the very one a manual
      escalation gives (``incidents.deadlines.fresh_deadline``);
    * an alert resolves when its deadline no longer applies (status moved on,
      deadline moved by an escalation or a service).
    """

    subject_type = "incident"

    def __init__(self) -> None:
        from incidents.models import HANDLING_STATUSES, Status

        self.accept = DeadlineStep("accept", frozenset({Status.REPORTED}), "accept_due_at", "accept_warn_at")
        self.handle = DeadlineStep("handle", frozenset(HANDLING_STATUSES), "handle_due_at", "handle_warn_at")

    def steps(self) -> list[Step]:
        return [self.escalate, self.resolve, self.raise_overdue, self.raise_approaching]

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

    # 1. Escalate, in batches: each batch moves its incidents up, writes their timeline entries,
    #    resolves their old alerts and raises their "escalated" alerts, and commits.
    def escalate(self, ctx: SweepContext) -> Iterator[None]:
        from grids.models import Level

        t = self._tables()
        candidates = ctx.fetch(f"""
            SELECT i.id, i.category_id FROM {t['A']} a JOIN {t['I']} i ON i.id = a.subject_id
            WHERE a.subject_type = 'incident' AND a.kind = 'overdue' AND a.resolved_at IS NULL
              AND a.raised_at <= %(cutoff)s AND i.responsible_level > {int(Level.CITY)}
              AND ({self._still_due('i', 'a')})
            ORDER BY i.id
        """, {"cutoff": ctx.db_datetime(ctx.now - escalation_grace())})
        fresh = _FreshDeadlines(ctx.now)
        for start in range(0, len(candidates), ESCALATION_BATCH):
            yield  # commit: each batch is a transaction of its own
            batch = candidates[start:start + ESCALATION_BATCH]
            self._escalate_batch(ctx, [pk for pk, _category in batch],
                                 fresh.values(sorted({category for _pk, category in batch})))

    def _escalate_batch(self, ctx: SweepContext, ids: list[int], deadlines: _DeadlineValues) -> None:
        from grids.models import Level, Region

        t = self._tables()
        accept, handle = _in(self.accept.statuses), _in(self.handle.statuses)
        I = t["I"]  # noqa: E741  (the incidents table, as in the other statements)
        sets = []
        for column, step in deadlines.columns:
            statuses = accept if step == "accept" else handle
            value = f"v.{column}" if column not in deadlines.nulls else "NULL"
            sets.append(f"{column} = CASE WHEN {I}.status IN {statuses} THEN {value} ELSE {I}.{column} END")
        params = {**deadlines.params, "now": ctx.db_datetime(ctx.now), "ids": ctx.ids(ids),
                  "cutoff": ctx.db_datetime(ctx.now - escalation_grace())}
        escalated = [pk for (pk,) in ctx.fetch(f"""
            WITH {deadlines.cte}
            UPDATE {I} SET
                responsible_region_id = (
                    SELECT p.id FROM {t['R']} p, {t['R']} c
                    WHERE c.id = {I}.responsible_region_id
                      AND p.path = substr(c.path, 1, length(c.path) - {Region.steplen})),
                responsible_level = {I}.responsible_level - 1,
                escalation_count = {I}.escalation_count + 1,
                version = {I}.version + 1,
                updated_at = %(now)s,
                {', '.join(sets)}
            FROM v
            WHERE v.category_id = {I}.category_id
              AND {I}.id IN (
                SELECT i.id FROM {I} i
                WHERE {ctx.among('i.id', 'ids')} AND i.responsible_level > {int(Level.CITY)}
                  AND EXISTS (
                    SELECT 1 FROM {t['A']} a
                    WHERE a.subject_type = 'incident' AND a.subject_id = i.id
                      AND a.kind = 'overdue' AND a.resolved_at IS NULL AND a.raised_at <= %(cutoff)s
                      AND ({self._still_due('i', 'a')}))
                {ctx.skip_locked('i')})
            RETURNING {I}.id
        """, params, name="escalated")]
        if not escalated:
            return
        done = {"now": ctx.db_datetime(ctx.now), "ids": ctx.ids(escalated)}
        minutes = int(escalation_grace().total_seconds() // 60)
        note = gettext("Overdue for more than %(minutes)d minutes: escalated automatically to the command centre "
                       "one level up, with a new deadline there.") % {"minutes": minutes}
        # The timeline entry, actor NULL = the system; ``deadline`` is the record a manual escalation writes.
        ctx.execute("escalation_events", f"""
            WITH {deadlines.cte}
            INSERT INTO {t['E']} (incident_id, action, from_status, to_status, actor_id, at, note, data)
            SELECT i.id, 'escalate', i.status, i.status, NULL, %(now)s, %(note)s,
                   {ctx.json_object}('automatic', 1, 'to_level', i.responsible_level, 'to_region', r.name,
                                     'escalation_count', i.escalation_count, 'grace_minutes', %(grace)s,
                                     'deadline', {ctx.json(self._step_of_status('i.status', 'v.accept_record',
                                                                                'v.handle_record'))})
            FROM {I} i JOIN {t['R']} r ON r.id = i.responsible_region_id JOIN v ON v.category_id = i.category_id
            WHERE {ctx.among('i.id', 'ids')}
        """, {**deadlines.params, **done, "note": note, "grace": minutes})
        # Their red (and any yellow or earlier "escalated") alert is about a deadline that moved.
        self._resolve(ctx, extra=f"AND {ctx.among('subject_id', 'ids')}", params=done)
        ctx.execute("raised_escalated", f"""
            INSERT INTO {t['A']} ({self._ALERT_COLUMNS})
            SELECT 'incident', i.id, i.number, 'escalated', 'red',
                   {self._step_of_status('i.status', "'accept'", "'handle'")}, i.grid_id, i.responsible_region_id,
                   {self._step_of_status('i.status', 'i.accept_due_at', 'i.handle_due_at')}, i.title, '',
                   {ctx.json_object}('escalation_count', i.escalation_count, 'to_level', i.responsible_level),
                   %(now)s
            FROM {I} i
            WHERE {ctx.among('i.id', 'ids')}
            ON CONFLICT DO NOTHING
        """, done)

    # 2. Resolve what no longer applies.
    def resolve(self, ctx: SweepContext) -> None:
        self._resolve(ctx, extra="", params={"now": ctx.db_datetime(ctx.now)})

    def _resolve(self, ctx: SweepContext, *, extra: str, params: dict[str, Any]) -> None:
        t = self._tables()
        ctx.execute("resolved", f"""
            UPDATE {t['A']} SET resolved_at = %(now)s
            WHERE resolved_at IS NULL AND subject_type = 'incident'
              AND kind IN ('deadline_approaching', 'overdue', 'escalated') {extra}
              AND (
                NOT EXISTS (SELECT 1 FROM {t['I']} i
                            WHERE i.id = {t['A']}.subject_id AND ({self._still_due('i', t['A'])}))
                OR (kind = 'deadline_approaching' AND due_at < %(now)s)
              )
        """, params)

    _ALERT_COLUMNS = ("subject_type, subject_id, subject_label, kind, severity, step, region_id, owner_region_id, "
                      "due_at, title, message, data, raised_at")

    def _raise(self, ctx: SweepContext, name: str, step: DeadlineStep, kind: str, severity: str,
               condition: str) -> None:
        t = self._tables()
        ctx.execute(name, f"""
            INSERT INTO {t['A']} ({self._ALERT_COLUMNS})
            SELECT 'incident', i.id, i.number, '{kind}', '{severity}', '{step.name}', i.grid_id,
                   i.responsible_region_id, i.{step.due}, i.title, '', {ctx.json_object}(), %(now)s
            FROM {t['I']} i
            WHERE i.status IN {_in(step.statuses)} AND i.{step.due} IS NOT NULL AND {condition}
            ON CONFLICT DO NOTHING
        """, {"now": ctx.db_datetime(ctx.now)})

    # 3. Red: the deadline has passed.
    def raise_overdue(self, ctx: SweepContext) -> Iterator[None]:
        for n, step in enumerate((self.accept, self.handle)):
            if n:
                yield  # commit between the two statements
            self._raise(ctx, f"raised_overdue_{step.name}", step, "overdue", "red", f"i.{step.due} < %(now)s")

    # 4. Yellow: the warning instant stored with the deadline has come, the deadline has not.
    def raise_approaching(self, ctx: SweepContext) -> Iterator[None]:
        for n, step in enumerate((self.accept, self.handle)):
            if n:
                yield
            self._raise(ctx, f"raised_approaching_{step.name}", step, "deadline_approaching", "yellow",
                        f"i.{step.warn} <= %(now)s AND i.{step.due} >= %(now)s")


@dataclass(frozen=True)
class _DeadlineValues:
    """The fresh deadlines of some categories as an SQL ``WITH v(…) AS (VALUES …)`` and its parameters."""

    cte: str
    params: dict[str, Any]
    columns: list[tuple[str, str]]  # (incident column, step it belongs to)
    nulls: frozenset[str]  # columns every category sets to NULL (written as a literal: no type to guess)


class _FreshDeadlines:
    """Per category, the deadlines an escalation at ``now`` gives: ``incidents.deadlines.fresh_deadline``.

    Computed once per category and sweep (working-day counts are shared by categories
    with the same limit), then passed to SQL, so the sweep writes exactly what the
    manual escalation's service writes.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._by_category: dict[int, tuple[Any, Any]] = {}

    def _deadlines(self, category_ids: list[int]) -> None:
        from incidents import deadlines
        from incidents.models import Category

        missing = [pk for pk in category_ids if pk not in self._by_category]
        handle_by_days: dict[int, Any] = {}
        for category in Category.objects.filter(pk__in=missing).only("pk", "accept_hours", "handle_working_days"):
            days = category.handle_working_days
            if days not in handle_by_days:
                handle_by_days[days] = deadlines.fresh_deadline(deadlines.HANDLE, self.now, category)
            self._by_category[category.pk] = (deadlines.fresh_deadline(deadlines.ACCEPT, self.now, category),
                                              handle_by_days[days])

    def values(self, category_ids: list[int]) -> _DeadlineValues:
        from incidents.workflow import TRANSITIONS

        self._deadlines(category_ids)
        clock = TRANSITIONS["escalate"].clock
        columns: list[tuple[str, str]] = []
        rows, params = [], {}
        for n, pk in enumerate(category_ids):
            accept, handle = self._by_category[pk]
            values: dict[str, Any] = {"category_id": pk}
            for deadline in (accept, handle):
                for column, value in deadline.fields().items():
                    values[column] = value
                    if n == 0:
                        columns.append((column, deadline.step))
            values["accept_record"] = json.dumps(accept.record(clock), ensure_ascii=False)
            values["handle_record"] = json.dumps(handle.record(clock), ensure_ascii=False)
            placeholders = []
            for name, value in values.items():
                params[f"v{n}_{name}"] = (connection.ops.adapt_datetimefield_value(value)
                                          if isinstance(value, datetime) else value)
                placeholders.append(f"%(v{n}_{name})s")
            rows.append("(" + ", ".join(placeholders) + ")")
            names = list(values)
        nulls = frozenset(column for column, _step in columns
                          if all(params[f"v{n}_{column}"] is None for n in range(len(category_ids))))
        cte = f"v ({', '.join(names)}) AS (VALUES {', '.join(rows)})"
        return _DeadlineValues(cte=cte, params=params, columns=columns, nulls=nulls)


register(IncidentWatcher())
