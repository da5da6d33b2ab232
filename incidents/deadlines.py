"""Deadlines of an incident, the instant each turns yellow, and what a transition does to them.

* accept: within ``accept_hours`` clock hours (command centres take calls day and night);
* handle: within ``handle_working_days`` working days from acceptance, counted by
  ``governance.calendar.workcalendar`` (Chinese holidays and make-up working days, the
  admin-editable table for years the library does not know, weekends as a last resort);
* yellow: once 80 % of the allowed time has passed (``APPROACHING_SHARE``), measured in the
  limit's own unit: clock time for the accept limit, working time for the handle limit. It is
  computed the other way round, from the deadline: yellow when no more than 20 % of the limit
  is left (the same instant, and the one that stays right when a paused clock resumes).

The warning instant is computed here when a deadline is set and stored beside it
(``accept_warn_at``, ``handle_warn_at``); the alert sweep only compares it with now.
Everything that sets a deadline comes through this module: filing, every transition
through the clock the transition table names (``apply_clock``), the sweep's automatic
escalation (per category, as SQL values), the demo, and the migration that filled the
warnings of incidents filed before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext_lazy as _

from governance.alerts.models import APPROACHING_SHARE
from governance.calendar import workcalendar
from incidents.models import HANDLING_STATUSES, Category, Incident, Status
from incidents.workflow import Clock

# Yellow when no more than this share of the limit is left before the deadline.
LEFT_AT_WARNING = 1 - APPROACHING_SHARE

# The two deadlines of an incident, as the alerts name their step (registered with the alert engine's labels).
ACCEPT, HANDLE = "accept", "handle"
STEP_LABELS = {ACCEPT: _("Acceptance"), HANDLE: _("Handling")}


@dataclass(frozen=True)
class Deadline:
    """A deadline of one step, the instant it turns yellow, and the calendar's note."""

    step: str  # ACCEPT or HANDLE
    due_at: datetime
    warn_at: datetime
    note: str = ""  # handle: set when the count assumed weekends only for a year nobody entered

    def fields(self) -> dict[str, Any]:
        """The incident's columns this deadline sets (the sweep's escalation sets the same ones)."""
        if self.step == ACCEPT:
            return {"accept_due_at": self.due_at, "accept_warn_at": self.warn_at}
        return {"handle_due_at": self.due_at, "handle_warn_at": self.warn_at, "deadline_note": self.note,
                "handle_days_left": None}

    def record(self, clock: str, *, days_left: int | None = None) -> dict[str, Any]:
        return record(self.step, clock, due_at=self.due_at, warn_at=self.warn_at, days_left=days_left,
                      note=self.note)


def record(step: str, clock: str, *, due_at: datetime | None = None, warn_at: datetime | None = None,
           days_left: int | None = None, note: str = "") -> dict[str, Any]:
    """The ``deadline`` entry of a timeline event: which deadline, what the clock did, the new values.

    Times are ISO 8601 in Beijing time, so the record reads the same whoever wrote it
    (a service or the sweep, which passes these very strings to its SQL).
    """
    return {"step": step, "clock": str(clock), "due_at": _iso(due_at), "warn_at": _iso(warn_at),
            "days_left": days_left, "note": note}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(workcalendar.CALENDAR_TZ).isoformat() if value is not None else None


# --- The two limits ---------------------------------------------------------------


def accept_deadline(start: datetime, category: Category) -> Deadline:
    """Accept within ``accept_hours`` clock hours; yellow when a fifth of them is left."""
    due = workcalendar.add_working_hours(start, category.accept_hours)
    return Deadline(ACCEPT, due, due - accept_warning_lead(category.accept_hours))


def accept_warning_lead(hours: int) -> timedelta:
    """How long before an accept deadline it turns yellow: ``LEFT_AT_WARNING`` of the limit, on the clock."""
    return timedelta(microseconds=round(hours * 3_600_000_000 * LEFT_AT_WARNING))


def handle_deadline(start: datetime, category: Category) -> Deadline:
    """Handle within ``handle_working_days`` working days; yellow when a fifth of them is left, in working time."""
    result = workcalendar.add_working_days(start, category.handle_working_days)
    return Deadline(HANDLE, result.deadline, handle_warning(result.deadline, category.handle_working_days, start),
                    result.fallback_note())


def handle_warning(due: datetime, limit_days: int, start: datetime | None = None) -> datetime:
    """When a handling deadline turns yellow: ``LEFT_AT_WARNING`` of the limit before it, in working time.

    Never before ``start`` (a resumed clock that was already yellow is yellow at once). A
    limit of 0 days ("the same day") has no working day to take a share of: its yellow
    comes at 80 % of the clock time left in the day (at the deadline when ``start`` is unknown).
    """
    if limit_days <= 0:
        return due if start is None else start + (due - start) * float(APPROACHING_SHARE)
    warn = workcalendar.working_time_before(due, Fraction(limit_days) * LEFT_AT_WARNING)
    return warn if start is None else max(warn, start)


def fresh_deadline(step: str, start: datetime, category: Category) -> Deadline:
    return accept_deadline(start, category) if step == ACCEPT else handle_deadline(start, category)


def step_waited_for(status: str) -> str | None:
    """The step whose deadline an incident in ``status`` waits for (``models.waiting_deadline``'s rule)."""
    if status == Status.REPORTED:
        return ACCEPT
    if status in HANDLING_STATUSES:
        return HANDLE
    return None


# --- Pause and resume (parking, 挂账) -----------------------------------------------


def days_left(at: datetime, due: datetime) -> int:
    """Working days of a handling deadline not yet begun at ``at``: the day of ``at`` counts as used.

    With the rule that a restarted count starts the day after, a paused and resumed
    incident gets exactly its limit: the days used before the pause (the pause's own
    day included) and the days given back after it (the resume's own day excluded).
    """
    return max(0, workcalendar.working_days_between(at, due))


def resumed_handle_deadline(at: datetime, days: int, category: Category) -> Deadline:
    """The handling deadline given back at ``at`` with ``days`` working days left.

    Yellow as if the clock had never stopped: when a fifth of the category's limit is
    left, which is at once when it was already yellow when paused.
    """
    result = workcalendar.add_working_days(at, days)
    return Deadline(HANDLE, result.deadline, handle_warning(result.deadline, category.handle_working_days, at),
                    result.fallback_note())


# --- The clock of a transition ---------------------------------------------------


@dataclass(frozen=True)
class ClockChange:
    """What a transition's clock changes: the incident's deadline columns, and the timeline's record."""

    fields: dict[str, Any]
    record: dict[str, Any]


def clock_change(clock: str, *, status: str, now: datetime, category: Category, handle_due_at: datetime | None,
                 handle_days_left: int | None) -> ClockChange | None:
    """What ``clock`` (``incidents.workflow.Clock``) does to an incident now in ``status``; None: nothing.

    * restart: the step ``status`` waits for gets a fresh deadline from ``now``;
    * pause: the handling deadline is cleared and the working days it had left are kept;
    * resume: those days are given back from ``now`` (the whole limit when none were kept);
    * run on, stop: nothing changes.
    """
    if clock == Clock.RESTART:
        step = step_waited_for(status)
        if step is None:
            return None
        deadline = fresh_deadline(step, now, category)
        return ClockChange(deadline.fields(), deadline.record(clock))
    if clock == Clock.PAUSE:
        left = days_left(now, handle_due_at) if handle_due_at is not None else category.handle_working_days
        return ClockChange({"handle_due_at": None, "handle_warn_at": None, "handle_days_left": left},
                           record(HANDLE, clock, days_left=left))
    if clock == Clock.RESUME:
        left = handle_days_left if handle_days_left is not None else category.handle_working_days
        deadline = resumed_handle_deadline(now, left, category)
        return ClockChange(deadline.fields(), deadline.record(clock, days_left=left))
    return None


def apply_clock(incident: Incident, clock: str, now: datetime) -> dict[str, Any] | None:
    """Apply a transition's clock to an incident that has its new status; answer the timeline's record."""
    change = clock_change(clock, status=incident.status, now=now, category=incident.category,
                          handle_due_at=incident.handle_due_at, handle_days_left=incident.handle_days_left)
    if change is None:
        return None
    for name, value in change.fields.items():
        setattr(incident, name, value)
    return change.record


# --- Reading the history back -----------------------------------------------------


@dataclass(frozen=True)
class DeadlineChange:
    """A timeline event's ``deadline`` entry, read back for a page."""

    step: str
    clock: str
    due_at: datetime | None
    warn_at: datetime | None
    days_left: int | None
    note: str

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> DeadlineChange | None:
        entry = (data or {}).get("deadline")
        if not isinstance(entry, dict) or entry.get("step") not in (ACCEPT, HANDLE):
            return None

        def when(key: str) -> datetime | None:
            value = entry.get(key)
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        left = entry.get("days_left")
        return cls(step=entry["step"], clock=str(entry.get("clock", "")), due_at=when("due_at"),
                   warn_at=when("warn_at"), days_left=left if isinstance(left, int) else None,
                   note=str(entry.get("note") or ""))
