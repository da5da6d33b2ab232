"""The closed loop as an explicit state machine: one table, read by services, pages and tests.

    reported ──accept──▶ accepted ──dispatch──▶ dispatched ──report_back──▶ handled ──verify_pass──▶ closed
        │                   │  ▲                    │  ▲                        │
        │                   │  └────unit_return─────┘  └───────verify_fail──────┘
        ├─close_on_spot─────┼────────────────────────────────────────────────────────────────────▶ closed
        ├─return──▶ returned ──resubmit──▶ reported
        ├─void / merge (reported, accepted, returned) ──▶ voided / merged
        └─escalate (any open state but returned): same state, one level up
    accepted / dispatched ──park──▶ parked ──unpark──▶ accepted

Each transition also says what it does to the deadline the incident waits for (``clock``,
applied by ``incidents.deadlines.apply_clock``): it restarts (the deadline of the step the
new status waits for is set afresh from now), pauses (parking, 挂账: what remained is kept),
resumes (unparking: what remained is given back), runs on, or stops (nothing waits any more).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.core.scoping import Action
from incidents.models import Status


class Clock(models.TextChoices):
    """What a transition does to the deadline the incident waits for."""

    RESTART = "restart", _("restarts")  # the step the new status waits for gets a fresh deadline from now
    PAUSE = "pause", _("pauses")  # the handling time left is kept; no deadline runs meanwhile
    RESUME = "resume", _("resumes")  # the handling time left when paused is given back from now
    RUN = "run", _("runs on")  # the deadline stays as it is
    STOP = "stop", _("stops")  # the new status waits for no deadline


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None  # None: the status does not change (escalate, reassign, a partial report-back)
    action: str  # what the actor must hold over the incident (governance.core.scoping.Action)
    clock: Clock  # what happens to the deadline (incidents.deadlines.apply_clock)
    needs_note: bool = False  # a reason is required


def _t(name, label, sources, target, action, clock, needs_note=False):
    return Transition(name, label, frozenset(sources), target, action, clock, needs_note)


S = Status
C = Clock
# Why each clock: accepting starts the handling time; a resubmitted report is a new report, and an
# escalation hands the incident to a command centre that needs its own time (manual and automatic
# alike); parking (挂账) stops the clock and unparking gives back what was left. Dispatching,
# reporting back, a unit's return, a failed verification and a reassignment are all work on the
# same handling time: it runs on.
TRANSITIONS: dict[str, Transition] = {t.name: t for t in [
    _t("accept", _("Accept"), {S.REPORTED}, S.ACCEPTED, Action.TRIAGE, C.RESTART),
    _t("dispatch", _("Dispatch"), {S.ACCEPTED}, S.DISPATCHED, Action.TRIAGE, C.RUN),
    _t("report_back", _("Report back"), {S.DISPATCHED}, None, Action.HANDLE, C.RUN),
    _t("unit_return", _("Send back to the command centre"), {S.DISPATCHED}, S.ACCEPTED, Action.HANDLE, C.RUN,
       True),
    _t("verify_pass", _("Verify and close"), {S.HANDLED}, S.CLOSED, Action.TRIAGE, C.STOP),
    _t("verify_fail", _("Verification failed: back to the unit"), {S.HANDLED}, S.DISPATCHED, Action.TRIAGE, C.RUN,
       True),
    _t("close_on_spot", _("Close on the spot"), {S.REPORTED}, S.CLOSED, Action.REPORT, C.STOP),
    _t("return", _("Return to the reporter"), {S.REPORTED, S.ACCEPTED}, S.RETURNED, Action.TRIAGE, C.STOP, True),
    _t("resubmit", _("Resubmit"), {S.RETURNED}, S.REPORTED, Action.REPORT, C.RESTART),
    _t("escalate", _("Escalate to the level above"), {S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.HANDLED}, None,
       Action.TRIAGE, C.RESTART, True),
    _t("reassign", _("Reassign to another unit"), {S.DISPATCHED}, S.DISPATCHED, Action.TRIAGE, C.RUN),
    _t("void", _("Void (not an incident)"), {S.REPORTED, S.ACCEPTED, S.RETURNED}, S.VOIDED, Action.TRIAGE, C.STOP,
       True),
    _t("park", _("Park on the long-term list"), {S.ACCEPTED, S.DISPATCHED}, S.PARKED, Action.TRIAGE, C.PAUSE, True),
    _t("unpark", _("Take off the long-term list"), {S.PARKED}, S.ACCEPTED, Action.TRIAGE, C.RESUME),
    _t("merge", _("Merge as a duplicate"), {S.REPORTED, S.ACCEPTED, S.RETURNED}, S.MERGED, Action.TRIAGE, C.STOP),
]}

# The actions a page offers for a status, in the order a person reads them.
ACTION_ORDER = list(TRANSITIONS)


def transitions_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]
