"""The incident watcher of the alert engine: acceptance and handling deadlines, yellow, red and escalation.

Registered with the engine (``governance.alerts.sweep.register``) when the incidents app starts; the
engine runs its steps in every sweep.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext

from governance.alerts import sweep as engine
from governance.alerts.models import Alert, register_labels
from governance.alerts.sweep import Step, SweepContext, _in, escalation_grace, register
from grids.models import Level, Region, parent_path_sql
from incidents import deadlines
from incidents.models import UNIT_ACTS_IN, WAITS_FOR, Category, Event, Incident
from incidents.workflow import TRANSITIONS


@dataclass(frozen=True)
class DeadlineStep:
    name: str  # the alert's step: deadlines.ACCEPT or deadlines.HANDLE
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

    @staticmethod
    def subject_url(subject_id: int) -> str:
        return reverse("incidents:detail", args=[subject_id])

    def __init__(self) -> None:

        # The statuses that wait for each deadline: incidents.models.WAITS_FOR, the one table of the rule.
        waits = {column: frozenset(s for s, waited in WAITS_FOR.items() if waited == column)
                 for column in set(WAITS_FOR.values())}
        self.accept = DeadlineStep(deadlines.ACCEPT, waits["accept_due_at"], "accept_due_at", "accept_warn_at")
        self.handle = DeadlineStep(deadlines.HANDLE, waits["handle_due_at"], "handle_due_at", "handle_warn_at")

    def steps(self) -> list[Step]:
        return [self.escalate, self.resolve, self.raise_overdue, self.raise_approaching]

    @staticmethod
    def _tables() -> dict[str, str]:

        q = connection.ops.quote_name
        return {"A": q(Alert._meta.db_table), "I": q(Incident._meta.db_table), "R": q(Region._meta.db_table),
                "E": q(Event._meta.db_table)}

    def _step_of_status(self, status_sql: str, accept_sql: str, handle_sql: str) -> str:
        return f"CASE WHEN {status_sql} IN {_in(self.accept.statuses)} THEN {accept_sql} ELSE {handle_sql} END"

    @staticmethod
    def owner_unit_sql(i: str) -> str:
        """SQL: ``incidents.models.deadline_addressee``'s unit (NULL when the command centre must act)."""
        return f"CASE WHEN {i}.status IN {_in(UNIT_ACTS_IN)} AND {i}.lead_unit_id IS NOT NULL THEN {i}.lead_unit_id END"

    @classmethod
    def owner_region_sql(cls, i: str) -> str:
        """SQL: ``incidents.models.deadline_addressee``'s command centre (NULL when a unit must act)."""
        return f"CASE WHEN ({cls.owner_unit_sql(i)}) IS NULL THEN {i}.responsible_region_id END"

    def _still_due(self, incident: str, alert: str) -> str:
        """SQL: the alert's deadline is still the incident's current one, in a status that waits for it, and
        (but for an "escalated" alert, which tells the new command centre) still addressed to whoever must act."""
        addressee = (f"({alert}.kind = 'escalated' OR COALESCE({alert}.owner_unit_id, 0) "
                     f"= COALESCE({self.owner_unit_sql(incident)}, 0))")
        return " OR ".join(
            f"({alert}.step = '{s.name}' AND {incident}.status IN {_in(s.statuses)} "
            f"AND {incident}.{s.due} = {alert}.due_at AND {addressee})"
            for s in (self.accept, self.handle)
        )

    # 1. Escalate, in batches: each batch moves its incidents up, writes their timeline entries,
    #    resolves their old alerts and raises their "escalated" alerts, and commits.
    def escalate(self, ctx: SweepContext) -> Iterator[None]:

        t = self._tables()
        candidates = ctx.fetch(f"""
            SELECT i.id, i.category_id FROM {t['A']} a JOIN {t['I']} i ON i.id = a.subject_id
            WHERE a.subject_type = 'incident' AND a.kind = 'overdue' AND a.resolved_at IS NULL
              AND a.raised_at <= %(cutoff)s AND i.responsible_level > {int(Level.CITY)}
              AND ({self._still_due('i', 'a')})
            ORDER BY i.id
        """, {"cutoff": ctx.db_datetime(ctx.now - escalation_grace())})
        fresh = _FreshDeadlines(ctx.now)
        for start in range(0, len(candidates), engine.ESCALATION_BATCH):
            yield  # commit: each batch is a transaction of its own
            batch = candidates[start:start + engine.ESCALATION_BATCH]
            self._escalate_batch(ctx, [pk for pk, _category in batch],
                                 fresh.values(sorted({category for _pk, category in batch})))

    def _escalate_batch(self, ctx: SweepContext, ids: list[int], deadlines: _DeadlineValues) -> None:

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
                      AND p.path = {parent_path_sql('c.path')}),
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
                   NULL, {self._step_of_status('i.status', 'i.accept_due_at', 'i.handle_due_at')}, i.title, '',
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
                      "owner_unit_id, due_at, title, message, data, raised_at")

    def _raise(self, ctx: SweepContext, name: str, step: DeadlineStep, kind: str, severity: str,
               condition: str) -> None:
        t = self._tables()
        ctx.execute(name, f"""
            INSERT INTO {t['A']} ({self._ALERT_COLUMNS})
            SELECT 'incident', i.id, i.number, '{kind}', '{severity}', '{step.name}', i.grid_id,
                   {self.owner_region_sql('i')}, {self.owner_unit_sql('i')}, i.{step.due}, i.title, '',
                   {ctx.json_object}(), %(now)s
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

        missing = [pk for pk in category_ids if pk not in self._by_category]
        handle_by_days: dict[int, Any] = {}
        for category in Category.objects.filter(pk__in=missing).only("pk", "accept_hours", "handle_working_days"):
            days = category.handle_working_days
            if days not in handle_by_days:
                handle_by_days[days] = deadlines.fresh_deadline(deadlines.HANDLE, self.now, category)
            self._by_category[category.pk] = (deadlines.fresh_deadline(deadlines.ACCEPT, self.now, category),
                                              handle_by_days[days])

    def values(self, category_ids: list[int]) -> _DeadlineValues:

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


def register_incident_watcher() -> IncidentWatcher:
    """Called by the incidents app when Django starts (``incidents.apps``)."""
    register_labels(steps=deadlines.STEP_LABELS)
    return register(IncidentWatcher())
