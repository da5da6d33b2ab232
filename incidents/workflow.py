"""The closed loop as an explicit state machine: one table, read by services, pages and tests.

    reported ──accept──▶ accepted ──dispatch──▶ dispatched ──report_back──▶ handled ──verify_pass──▶ closed
        │                   │  ▲                    │  ▲                        │
        │                   │  └────unit_return─────┘  └───────verify_fail──────┘
        ├─close_on_spot─────┼────────────────────────────────────────────────────────────────────▶ closed
        ├─return──▶ returned ──resubmit──▶ reported
        ├─void / merge (reported, accepted, returned) ──▶ voided / merged
        └─escalate (any open state but returned): same state, one level up
    accepted / dispatched ──park──▶ parked ──unpark──▶ accepted
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from governance.scoping import Action
from incidents.models import Status


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the status does not change (escalate, reassign, a partial report-back)
    action: str  # what the actor must hold over the incident (governance.scoping.Action)
    needs_note: bool = False  # a reason is required


def _t(name, label, sources, target, action, needs_note=False):
    return Transition(name, label, frozenset(sources), target, action, needs_note)


S = Status
TRANSITIONS: dict[str, Transition] = {t.name: t for t in [
    _t("accept", _("Accept"), {S.REPORTED}, S.ACCEPTED, Action.TRIAGE),
    _t("dispatch", _("Dispatch"), {S.ACCEPTED}, S.DISPATCHED, Action.TRIAGE),
    _t("report_back", _("Report back"), {S.DISPATCHED}, None, Action.HANDLE),
    _t("unit_return", _("Send back to the command centre"), {S.DISPATCHED}, S.ACCEPTED, Action.HANDLE, True),
    _t("verify_pass", _("Verify and close"), {S.HANDLED}, S.CLOSED, Action.TRIAGE),
    _t("verify_fail", _("Verification failed: back to the unit"), {S.HANDLED}, S.DISPATCHED, Action.TRIAGE, True),
    _t("close_on_spot", _("Close on the spot"), {S.REPORTED}, S.CLOSED, Action.REPORT),
    _t("return", _("Return to the reporter"), {S.REPORTED, S.ACCEPTED}, S.RETURNED, Action.TRIAGE, True),
    _t("resubmit", _("Resubmit"), {S.RETURNED}, S.REPORTED, Action.REPORT),
    _t("escalate", _("Escalate to the level above"), {S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.HANDLED}, None,
       Action.TRIAGE, True),
    _t("reassign", _("Reassign to another unit"), {S.DISPATCHED}, S.DISPATCHED, Action.TRIAGE),
    _t("void", _("Void (not an incident)"), {S.REPORTED, S.ACCEPTED, S.RETURNED}, S.VOIDED, Action.TRIAGE, True),
    _t("park", _("Park on the long-term list"), {S.ACCEPTED, S.DISPATCHED}, S.PARKED, Action.TRIAGE, True),
    _t("unpark", _("Take off the long-term list"), {S.PARKED}, S.ACCEPTED, Action.TRIAGE),
    _t("merge", _("Merge as a duplicate"), {S.REPORTED, S.ACCEPTED, S.RETURNED}, S.MERGED, Action.TRIAGE),
]}

# The actions a page offers for a status, in the order a person reads them.
ACTION_ORDER = list(TRANSITIONS)


def transitions_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]
