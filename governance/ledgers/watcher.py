"""The ledger watcher of the alert engine: "deadline near", "overdue" and "filing missing".

The subject of a ledger alert is one responsibility (one requirement, one responsible unit); the
alert is addressed to the unit (``owner_unit``) and placed at the unit's home region (``region``),
so the unit acts on it and the supervisors of that territory see it in their feed.

* ``deadline_approaching`` (yellow): the requirement's deadline is within ``APPROACHING_DAYS`` days
  and the unit has not filed it completed;
* ``overdue`` (red): the deadline has passed and the unit has not filed it completed;
* ``filing_missing`` (yellow): the last period whose filing is due (``governance.ledgers.periods``)
  has no filing that counts; the alert's ``step`` is the period's key.

"Completed" and "counts" are the rules of ``governance.ledgers.progress`` (a current filing that was
not returned). Every step is one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` or ``UPDATE … WHERE``:
safe to run twice; an alert resolves when its condition no longer holds.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.alerts.models import Alert, register_labels
from governance.alerts.sweep import SweepContext, register
from governance.ledgers import periods
from governance.ledgers.models import Filing, Programme, Responsibility, Task

SUBJECT_TYPE = "ledger"
APPROACHING_DAYS = 7
FILING_MISSING = "filing_missing"
KINDS = ("deadline_approaching", "overdue", FILING_MISSING)


def last_due_period(cycle: str, today: date) -> periods.Period:
    """The latest period of ``cycle`` whose filing was due before ``today``."""
    period = periods.period_of(cycle, today)
    while period.due >= today:
        period = periods.period_of(cycle, period.start - timedelta(days=1))
    return period


class LedgerWatcher:
    subject_type = SUBJECT_TYPE

    @staticmethod
    def subject_url(subject_id: int) -> str:
        return reverse("ledgers:responsibility", args=[subject_id])

    def steps(self):
        return [self.resolve, self.raise_alerts]

    @staticmethod
    def _t() -> dict[str, str]:
        q = connection.ops.quote_name
        from governance.access.models import Unit

        return {"A": q(Alert._meta.db_table), "R": q(Responsibility._meta.db_table), "T": q(Task._meta.db_table),
                "P": q(Programme._meta.db_table), "F": q(Filing._meta.db_table), "U": q(Unit._meta.db_table)}

    @staticmethod
    def _params(ctx: SweepContext) -> dict:
        today = timezone.localdate(ctx.now)
        adapt = connection.ops.adapt_datefield_value
        params = {"today": adapt(today), "soon": adapt(today + timedelta(days=APPROACHING_DAYS)),
                  "now": ctx.db_datetime(ctx.now)}
        for cycle in (periods.Cycle.MONTHLY, periods.Cycle.QUARTERLY):
            period = last_due_period(cycle, today)
            params.update({f"{cycle}_key": period.key, f"{cycle}_start": adapt(period.start),
                           f"{cycle}_end": adapt(period.end)})
        return params

    def _conditions(self) -> dict[str, str]:
        """SQL over ``r`` (responsibility), ``t`` (its task) and ``p`` (the programme), per kind."""
        t = self._t()
        completed = (f"EXISTS (SELECT 1 FROM {t['F']} f WHERE f.responsibility_id = r.id AND f.is_current "
                     f"AND f.review <> 'returned' AND f.status = 'completed')")
        missing = []
        for cycle in (periods.Cycle.MONTHLY, periods.Cycle.QUARTERLY):
            missing.append(
                f"(t.cycle = '{cycle}' AND %({cycle}_end)s >= p.starts_on AND %({cycle}_start)s <= p.ends_on"
                f" AND (t.deadline IS NULL OR %({cycle}_start)s <= t.deadline)"
                f" AND NOT EXISTS (SELECT 1 FROM {t['F']} f WHERE f.responsibility_id = r.id AND f.is_current"
                f" AND f.review <> 'returned' AND f.period = %({cycle}_key)s))")
        return {
            "deadline_approaching": (f"t.deadline IS NOT NULL AND t.deadline >= %(today)s AND t.deadline <= %(soon)s "
                                     f"AND NOT {completed}"),
            "overdue": f"t.deadline IS NOT NULL AND t.deadline < %(today)s AND NOT {completed}",
            FILING_MISSING: "(" + " OR ".join(missing) + ")",
        }

    @staticmethod
    def _step_sql() -> str:
        return "CASE t.cycle WHEN 'monthly' THEN %(monthly_key)s WHEN 'quarterly' THEN %(quarterly_key)s ELSE '' END"

    def _from(self) -> str:
        t = self._t()
        return (f"{t['R']} r JOIN {t['T']} t ON t.id = r.task_id JOIN {t['P']} p ON p.id = t.programme_id "
                f"JOIN {t['U']} u ON u.id = r.unit_id")

    def resolve(self, ctx: SweepContext) -> None:
        t = self._t()
        for kind, condition in self._conditions().items():
            same_step = f" AND {t['A']}.step = {self._step_sql()}" if kind == FILING_MISSING else ""
            ctx.execute("resolved", f"""
                UPDATE {t['A']} SET resolved_at = %(now)s
                WHERE resolved_at IS NULL AND subject_type = '{SUBJECT_TYPE}' AND kind = '{kind}'
                  AND NOT EXISTS (SELECT 1 FROM {self._from()}
                                  WHERE r.id = {t['A']}.subject_id AND {condition}{same_step})
            """, self._params(ctx))

    def raise_alerts(self, ctx: SweepContext) -> None:
        t = self._t()
        severity = {"deadline_approaching": "yellow", "overdue": "red", FILING_MISSING: "yellow"}
        for kind, condition in self._conditions().items():
            step = self._step_sql() if kind == FILING_MISSING else "''"
            ctx.execute(f"raised_{kind}", f"""
                INSERT INTO {t['A']} (subject_type, subject_id, subject_label, kind, severity, step, region_id,
                                      owner_region_id, owner_unit_id, due_at, title, message, data, raised_at)
                SELECT '{SUBJECT_TYPE}', r.id, substr(t.code, 1, 40), '{kind}', '{severity[kind]}', {step},
                       u.home_region_id, NULL, r.unit_id, NULL, substr(t.code || ' ' || t.title, 1, 200), '',
                       {ctx.json_object}(), %(now)s
                FROM {self._from()}
                WHERE {condition}
                ON CONFLICT DO NOTHING
            """, self._params(ctx))


def register_ledger_watcher() -> LedgerWatcher:
    register_labels(kinds={FILING_MISSING: _("Filing missing")})
    return register(LedgerWatcher())
