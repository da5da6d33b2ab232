"""The ledger watcher of the alert engine: "deadline near", "overdue" and "filing missing".

The subject of a ledger alert is one responsibility (one requirement, one responsible unit); the
alert is addressed to the unit (``owner_unit``) and placed at the unit's home region (``region``),
so the unit acts on it and the supervisors of that territory see it in their feed.

* ``deadline_approaching`` (yellow): the requirement's deadline is within ``APPROACHING_DAYS`` days
  and the unit has not filed it completed;
* ``overdue`` (red): the deadline has passed and the unit has not filed it completed;
* ``filing_missing`` (yellow): the unit has not filed it completed and any period whose filing is due
  (``governance.ledgers.periods.due_periods``: monthly, quarterly, or the "once" filing at the deadline)
  has no filing that counts. One alert per responsibility, open while any period is missing; its
  ``step`` is the oldest missing period's key and its ``data`` says how many are missing
  (``{"missing_periods": 3, "oldest_period": "2026-03"}``), both kept current by each sweep.

"Completed" and "counts" are the rules of ``governance.ledgers.progress`` (a current filing that was
not returned). Every step is one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` or ``UPDATE … WHERE``:
safe to run twice; an alert resolves when its condition no longer holds. The due periods of the
monthly and quarterly cycles (from the earliest programme's start to today, a few dozen) are a
derived table of parameters the statements join to, so no Python loop runs over responsibilities.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection
from django.db.models import Min
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


class LedgerWatcher:
    subject_type = SUBJECT_TYPE

    @staticmethod
    def subject_url(subject_id: int) -> str:
        return reverse("ledgers:responsibility", args=[subject_id])

    def steps(self):
        return [self.resolve, self.refresh_missing, self.raise_alerts]

    @staticmethod
    def _t() -> dict[str, str]:
        q = connection.ops.quote_name
        from governance.access.models import Unit

        return {"A": q(Alert._meta.db_table), "R": q(Responsibility._meta.db_table), "T": q(Task._meta.db_table),
                "P": q(Programme._meta.db_table), "F": q(Filing._meta.db_table), "U": q(Unit._meta.db_table)}

    @staticmethod
    def _due_periods(today: date) -> list[tuple[str, periods.Period]]:
        """Every monthly and quarterly period due before ``today`` since the earliest programme began."""
        first = Programme.objects.aggregate(first=Min("starts_on"))["first"]
        if first is None or first >= today:
            return []
        return [(cycle, period) for cycle in (periods.Cycle.MONTHLY, periods.Cycle.QUARTERLY)
                for period in periods.periods_between(cycle, first, today) if period.due < today]

    def _params(self, ctx: SweepContext) -> dict:
        today = timezone.localdate(ctx.now)
        adapt = connection.ops.adapt_datefield_value
        params = {"today": adapt(today), "soon": adapt(today + timedelta(days=APPROACHING_DAYS)),
                  "now": ctx.db_datetime(ctx.now)}
        for i, (cycle, period) in enumerate(self._due_periods(today)):
            params.update({f"dp{i}_cycle": str(cycle), f"dp{i}_key": period.key, f"dp{i}_start": adapt(period.start),
                           f"dp{i}_end": adapt(period.end)})
        return params

    @staticmethod
    def _due_table(params: dict) -> str:
        """SQL: the derived table ``(cycle, pkey, pstart, pend)`` of the due periods in ``params``."""
        rows = [f"SELECT %(dp{i}_cycle)s AS cycle, %(dp{i}_key)s AS pkey, %(dp{i}_start)s AS pstart, "
                f"%(dp{i}_end)s AS pend"
                for i in range(sum(1 for name in params if name.endswith("_cycle")))]
        # A row that never matches types the columns and keeps the table valid when nothing is due yet.
        rows.append("SELECT '' AS cycle, '' AS pkey, CAST(NULL AS date) AS pstart, CAST(NULL AS date) AS pend "
                    "WHERE 1 = 0")
        return " UNION ALL ".join(rows)

    def _missing(self, params: dict) -> dict[str, str]:
        """SQL over ``r``, ``t``, ``p``: the rule of ``progress.pair_state`` for missing periods.

        ``periodic``: the periodic due periods without a counted filing (a ``FROM … WHERE`` over ``dp``),
        within ``periods.requirement_periods`` (the programme's start to the deadline or the programme's end;
        the first period at least); ``once``: the "once" filing, due on the deadline (else the programme's
        end), is missing.
        """
        t = self._t()
        counted = (f"SELECT 1 FROM {t['F']} f WHERE f.responsibility_id = r.id AND f.is_current"
                   f" AND f.review <> 'returned'")
        periodic = (f"FROM ({self._due_table(params)}) dp WHERE dp.cycle = t.cycle AND dp.pend >= p.starts_on"
                    f" AND (dp.pstart <= p.starts_on OR (dp.pstart <= p.ends_on"
                    f" AND (t.deadline IS NULL OR dp.pstart <= t.deadline)))"
                    f" AND NOT EXISTS ({counted} AND f.period = dp.pkey)")
        once = (f"(t.cycle = '{periods.Cycle.ONCE}' AND COALESCE(t.deadline, p.ends_on) < %(today)s"
                f" AND NOT EXISTS ({counted} AND f.period = 'once'))")
        return {"periodic": periodic, "once": once}

    def _completed(self) -> str:
        t = self._t()
        return (f"EXISTS (SELECT 1 FROM {t['F']} f WHERE f.responsibility_id = r.id AND f.is_current "
                f"AND f.review <> 'returned' AND f.status = 'completed')")

    def _conditions(self, params: dict) -> dict[str, str]:
        """SQL over ``r`` (responsibility), ``t`` (its task) and ``p`` (the programme), per kind."""
        completed = self._completed()
        missing = self._missing(params)
        return {
            "deadline_approaching": (f"t.deadline IS NOT NULL AND t.deadline >= %(today)s AND t.deadline <= %(soon)s "
                                     f"AND NOT {completed}"),
            "overdue": f"t.deadline IS NOT NULL AND t.deadline < %(today)s AND NOT {completed}",
            FILING_MISSING: f"NOT {completed} AND (EXISTS (SELECT 1 {missing['periodic']}) OR {missing['once']})",
        }

    def _missing_figures(self, params: dict) -> tuple[str, str]:
        """SQL over ``r``, ``t``, ``p``: how many periods are missing, and the oldest one's key."""
        missing = self._missing(params)
        count = f"((SELECT COUNT(*) {missing['periodic']}) + CASE WHEN {missing['once']} THEN 1 ELSE 0 END)"
        # Keys of one cycle sort as their periods do; a "once" requirement has no periodic row.
        oldest = f"COALESCE((SELECT MIN(dp.pkey) {missing['periodic']}), 'once')"
        return count, oldest

    def _from(self) -> str:
        t = self._t()
        return (f"{t['R']} r JOIN {t['T']} t ON t.id = r.task_id JOIN {t['P']} p ON p.id = t.programme_id "
                f"JOIN {t['U']} u ON u.id = r.unit_id")

    def resolve(self, ctx: SweepContext) -> None:
        t = self._t()
        params = self._params(ctx)
        for kind, condition in self._conditions(params).items():
            ctx.execute("resolved", f"""
                UPDATE {t['A']} SET resolved_at = %(now)s
                WHERE resolved_at IS NULL AND subject_type = '{SUBJECT_TYPE}' AND kind = '{kind}'
                  AND NOT EXISTS (SELECT 1 FROM {self._from()}
                                  WHERE r.id = {t['A']}.subject_id AND {condition})
            """, params)

    def raise_alerts(self, ctx: SweepContext) -> None:
        t = self._t()
        params = self._params(ctx)
        count, oldest = self._missing_figures(params)
        severity = {"deadline_approaching": "yellow", "overdue": "red", FILING_MISSING: "yellow"}
        for kind, condition in self._conditions(params).items():
            if kind == FILING_MISSING:
                step = oldest
                data = f"{ctx.json_object}('missing_periods', {count}, 'oldest_period', {oldest})"
            else:
                step, data = "''", f"{ctx.json_object}()"
            ctx.execute(f"raised_{kind}", f"""
                INSERT INTO {t['A']} (subject_type, subject_id, subject_label, kind, severity, step, region_id,
                                      owner_region_id, owner_unit_id, due_at, title, message, data, raised_at)
                SELECT '{SUBJECT_TYPE}', r.id, substr(t.code, 1, 40), '{kind}', '{severity[kind]}', {step},
                       u.home_region_id, NULL, r.unit_id, NULL, substr(t.code || ' ' || t.title, 1, 200), '',
                       {data}, %(now)s
                FROM {self._from()}
                WHERE {condition}
                ON CONFLICT DO NOTHING
            """, params)

    def refresh_missing(self, ctx: SweepContext) -> None:
        """Keep an open "filing missing" alert's oldest period (``step``) and count (``data``) current."""
        t = self._t()
        params = self._params(ctx)
        count, oldest = self._missing_figures(params)
        stored = ("CAST(data ->> 'missing_periods' AS integer)" if ctx.vendor == "postgresql"
                  else "json_extract(data, '$.missing_periods')")
        current = f"SELECT {{}} FROM {self._from()} WHERE r.id = {t['A']}.subject_id"
        ctx.execute("refreshed", f"""
            UPDATE {t['A']}
            SET step = ({current.format(oldest)}),
                data = ({current.format(f"{ctx.json_object}('missing_periods', {count}, 'oldest_period', {oldest})")})
            WHERE resolved_at IS NULL AND subject_type = '{SUBJECT_TYPE}' AND kind = '{FILING_MISSING}'
              AND (step <> ({current.format(oldest)})
                   OR {stored} IS NULL OR {stored} <> ({current.format(count)}))
        """, params)


def register_ledger_watcher() -> LedgerWatcher:
    register_labels(kinds={FILING_MISSING: _("Filing missing")})
    return register(LedgerWatcher())
