"""The mediation watcher of the alert engine: deadlines, red cases, red cases left untouched, obligations due.

Registered with the engine (``governance.alerts.sweep.register``) when the app starts. Set-based, like the
incident watcher: one ``UPDATE`` resolves what no longer applies, one ``INSERT … SELECT … ON CONFLICT DO
NOTHING`` per kind raises what is new (the partial unique index keeps one open alert per case and kind).

* ``deadline_approaching`` (yellow) from the case's warning instant, ``overdue`` (red) past its deadline,
  while it waits to be settled (``WAITING_STATUSES``): to the mediation organisation;
* ``red_risk`` (red) while an open case is at red risk: to the organisation, seen by the territory's
  command centres;
* ``red_untouched`` (red) when nobody acted on a red case for 24 hours: to the district's command centre;
* ``obligation_due`` (yellow) when an obligation of the agreement is not done and due within
  ``OBLIGATION_LEAD_DAYS`` days (or past): to the organisation.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.alerts.models import Alert, register_labels
from governance.alerts.sweep import Step, SweepContext, _in, register
from mediation.models import WAITING_STATUSES, Agreement, Case, Obligation, RiskLevel, Status

SUBJECT_TYPE = "mediation_case"
STEP = "settle"
UNTOUCHED = timedelta(hours=24)
OBLIGATION_LEAD_DAYS = 3

KIND_LABELS = {
    "red_risk": _("Red-risk dispute"),
    "red_untouched": _("Red-risk dispute untouched for 24 hours"),
    "obligation_due": _("Agreement obligation due"),
}
OPEN = _in(set(Status.values) - {Status.CLOSED})
WAITING = _in(WAITING_STATUSES)
COLUMNS = ("subject_type, subject_id, subject_label, kind, severity, step, region_id, owner_region_id, "
           "owner_unit_id, due_at, title, message, data, raised_at")


def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    return {"A": q(Alert._meta.db_table), "C": q(Case._meta.db_table), "O": q(Obligation._meta.db_table),
            "G": q(Agreement._meta.db_table)}


def _params(ctx: SweepContext) -> dict:
    today = timezone.localdate(ctx.now)
    return {"now": ctx.db_datetime(ctx.now), "untouched": ctx.db_datetime(ctx.now - UNTOUCHED),
            "due_by": connection.ops.adapt_datefield_value(today + timedelta(days=OBLIGATION_LEAD_DAYS))}


def _obligation_due(t: dict[str, str], case: str) -> str:
    return (f"EXISTS (SELECT 1 FROM {t['O']} o JOIN {t['G']} g ON g.id = o.agreement_id "
            f"WHERE g.case_id = {case}.id AND o.done_at IS NULL AND o.due_on <= %(due_by)s)")


class CaseWatcher:
    subject_type = SUBJECT_TYPE

    @staticmethod
    def subject_url(subject_id: int) -> str:
        return reverse("mediation:detail", args=[subject_id])

    def steps(self) -> list[Step]:
        return [self.resolve, self.raise_deadlines, self.raise_red]

    def resolve(self, ctx: SweepContext) -> None:
        t = _tables()
        a = t["A"]
        ctx.execute("mediation_resolved", f"""
            UPDATE {a} SET resolved_at = %(now)s
            WHERE resolved_at IS NULL AND subject_type = '{SUBJECT_TYPE}' AND (
              (kind IN ('deadline_approaching', 'overdue') AND NOT EXISTS (
                 SELECT 1 FROM {t['C']} c WHERE c.id = {a}.subject_id AND c.status IN {WAITING}
                   AND c.due_at = {a}.due_at AND c.organisation_id = {a}.owner_unit_id))
              OR (kind = 'deadline_approaching' AND due_at < %(now)s)
              OR (kind = 'red_risk' AND NOT EXISTS (
                 SELECT 1 FROM {t['C']} c WHERE c.id = {a}.subject_id AND c.status IN {OPEN}
                   AND c.risk_level = 'red' AND c.organisation_id = {a}.owner_unit_id))
              OR (kind = 'red_untouched' AND NOT EXISTS (
                 SELECT 1 FROM {t['C']} c WHERE c.id = {a}.subject_id AND c.status IN {OPEN}
                   AND c.risk_level = 'red' AND c.last_activity_at <= {a}.raised_at))
              OR (kind = 'obligation_due' AND NOT EXISTS (
                 SELECT 1 FROM {t['C']} c WHERE c.id = {a}.subject_id AND {_obligation_due(t, 'c')}))
            )
        """, _params(ctx))

    def _raise(self, ctx: SweepContext, name: str, kind: str, severity: str, *, step: str = "", owner_region="NULL",
               owner_unit="c.organisation_id", due="NULL", where: str) -> None:
        t = _tables()
        ctx.execute(name, f"""
            INSERT INTO {t['A']} ({COLUMNS})
            SELECT '{SUBJECT_TYPE}', c.id, c.number, '{kind}', '{severity}', '{step}', c.region_id, {owner_region},
                   {owner_unit}, {due}, c.title, '', {ctx.json_object}(), %(now)s
            FROM {t['C']} c
            WHERE {where}
            ON CONFLICT DO NOTHING
        """, _params(ctx))

    def raise_deadlines(self, ctx: SweepContext):
        self._raise(ctx, "raised_mediation_overdue", "overdue", "red", step=STEP, due="c.due_at",
                    where=f"c.status IN {WAITING} AND c.due_at < %(now)s")
        yield
        self._raise(ctx, "raised_mediation_approaching", "deadline_approaching", "yellow", step=STEP, due="c.due_at",
                    where=f"c.status IN {WAITING} AND c.warn_at <= %(now)s AND c.due_at >= %(now)s")
        yield
        t = _tables()
        self._raise(ctx, "raised_mediation_obligation_due", "obligation_due", "yellow",
                    where=f"c.status IN {_in({Status.AGREEMENT, Status.FOLLOW_UP, Status.CLOSED})} "
                          f"AND {_obligation_due(t, 'c')}")

    def raise_red(self, ctx: SweepContext):
        self._raise(ctx, "raised_mediation_red_risk", "red_risk", "red",
                    where=f"c.status IN {OPEN} AND c.risk_level = '{RiskLevel.RED}'")
        yield
        self._raise(ctx, "raised_mediation_red_untouched", "red_untouched", "red", owner_region="c.district_id",
                    owner_unit="NULL",
                    where=f"c.status IN {OPEN} AND c.risk_level = '{RiskLevel.RED}' "
                          f"AND c.last_activity_at <= %(untouched)s")


def register_case_watcher() -> CaseWatcher:
    register_labels(kinds=KIND_LABELS, steps={STEP: _("Settle by")})
    return register(CaseWatcher())
