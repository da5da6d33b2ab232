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

from governance.alerts.selectors import alerts_changed

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
        if count:
            alerts_changed()  # raw SQL sends no signal: the badges are counted again when this step commits
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
    """A kind of subject whose deadlines the sweep watches, registered by the app that owns the subject.

    It names the subject's page (``subject_url``) for the feed and the emails, and writes its own
    alerts, each addressed to whoever must act: a region's command centre, a unit, or a person
    (``Alert.owner_region`` / ``owner_unit`` / ``owner_user``).
    """

    subject_type: str

    def subject_url(self, subject_id: int) -> str:
        """The subject's page."""
        ...

    def steps(self) -> Iterable[Step]:
        """The steps of one sweep, in order: each its own transaction, and a generator one per ``yield``."""
        ...


_watchers: list[Watcher] = []


def register(watcher: Watcher) -> Watcher:
    if not any(w.subject_type == watcher.subject_type for w in _watchers):
        _watchers.append(watcher)
    return watcher


def watcher_for(subject_type: str) -> Watcher | None:
    return next((w for w in _watchers if w.subject_type == subject_type), None)


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


# --- Helpers for watchers ----------------------------------------------------

_LITERAL = re.compile(r"^[a-z_]+$")


def _in(values: Iterable[str]) -> str:
    """An SQL ``IN`` list of constant codes (statuses, kinds) written inline."""
    items = sorted(values)
    if not items or not all(_LITERAL.match(v) for v in items):
        raise ValueError(f"not a list of codes: {items!r}")
    return "(" + ", ".join(f"'{v}'" for v in items) + ")"
