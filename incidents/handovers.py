"""Handing an incident over to an app above incidents (a dispute to mediation), without incidents knowing it.

An app above incidents registers a ``HandOver`` when it starts: a button on the incident page that
posts to the app's own URL, and the link back to what the incident became. The app's service calls
``incident_hand_over`` (the incident leaves the command centre's queue: parked with its handling clock
paused, until the review date, with a timeline event naming what it became) and, when its own
subject is done, ``incident_conclude_handover`` (the incident is closed with an event saying how).
The links back are scoped: ``visible`` names what the incident became only to a user who may see it
(a case out of the user's scope is not named on the incident's page or in its API answer).

Incidents imports nothing of the app: the layers point one way (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.core.authority import may
from governance.core.errors import InvalidInput, NotFoundError, PermissionDeniedError, TransitionNotAllowed
from governance.core.scoping import Action
from governance.core.text import clean_text
from incidents import deadlines
from incidents.models import Event, Incident, Status
from incidents.workflow import Clock

# The statuses an incident may be handed over from: before any unit holds it.
HANDOVER_FROM = frozenset({Status.REPORTED, Status.ACCEPTED})

EVENT_LABELS = {
    "hand_over": gettext_lazy("Handed over"),
    "handover_concluded": gettext_lazy("Concluded where it was handed over"),
}


@dataclass(frozen=True)
class HandOver:
    key: str  # recorded on the incident's events ("mediation")
    label: str | Promise  # the button on the incident page
    url: Callable[[Incident], str]  # where the button posts (the app's own view)
    applies: Callable[[Incident], bool]  # e.g. only dispute categories
    linked: Callable[[Incident], tuple[str, str] | None]  # (label, url) of what the incident became, or None
    # What the incident became, if this user may see it: a ``Linked``, or None (none, or out of scope).
    visible: Callable[[Incident, Any], Linked | None] | None = None


@dataclass(frozen=True)
class Linked:
    """What an incident was handed over to, as one user may see it."""

    kind: str  # the hand-over's key ("mediation")
    id: int
    number: str
    label: str  # for the incident's page ("Mediation case TJ...")
    page_url: str
    api_url: str


HANDOVERS: dict[str, HandOver] = {}


def register_handover(handover: HandOver) -> None:
    HANDOVERS[handover.key] = handover


def offered_handovers(user, incident: Incident) -> list[HandOver]:
    """The hand-overs this user may take on this incident now (the command centre that triages it)."""
    if incident.status not in HANDOVER_FROM or not HANDOVERS:
        return []
    if not may(incident, user, Action.TRIAGE):
        return []
    return [h for h in HANDOVERS.values() if h.applies(incident) and h.linked(incident) is None]


def visible_links(user, incident: Incident) -> list[Linked]:
    """What the incident was handed over to that this user may see (scoped by the app that holds it)."""
    found = []
    for handover in HANDOVERS.values():
        if handover.visible is None:
            continue
        link = handover.visible(incident, user)
        if link is not None:
            found.append(link)
    return found


def links(user, incident: Incident) -> list[tuple[str, str]]:
    """What the incident was handed over to, as (label, url) for its page: only what the user may see."""
    return [(link.label, link.page_url) for link in visible_links(user, incident)]


def incident_hand_over(*, incident: Incident | int, actor, key: str, reference: str, review_on: date, note: str = "",
                       now: datetime | None = None) -> Incident:
    """Hand the incident over (``key``: a registered hand-over; ``reference``: e.g. the case number).

    Needs ``triage`` over the incident. It leaves the queue as a parked incident (挂账) until
    ``review_on``: its handling clock paused, as parking does, so it never turns overdue while
    the other app works on it. Run inside the caller's transaction, so both sides commit together.
    """
    from incidents.services import _lock, _record

    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(incident, None)
        if not may(locked, actor, Action.VIEW):
            raise NotFoundError()
        if not may(locked, actor, Action.TRIAGE):
            raise PermissionDeniedError(_("You may not hand over incident %(number)s.") % {"number": locked.number})
        if locked.status not in HANDOVER_FROM:
            raise TransitionNotAllowed(
                _("Incident %(number)s is %(status)s; only a reported or accepted incident can be handed over.")
                % {"number": locked.number, "status": locked.get_status_display()})
        if review_on <= timezone.localdate(now):
            raise InvalidInput(_("The review date must lie in the future."),
                               field_errors={"review_on": [_("Too early.")]})
        from_status = locked.status
        if locked.accepted_at is None:
            locked.accepted_at = now
        locked.status = Status.PARKED
        locked.parked_until = review_on
        locked.accept_due_at = locked.accept_warn_at = None
        record = deadlines.apply_clock(locked, Clock.PAUSE, now)
        locked.version += 1
        locked.save()
        data = {"handover": key, "reference": reference, "review_on": review_on.isoformat()}
        if record is not None:
            data["deadline"] = record
        _record(locked, "hand_over", from_status, Status.PARKED, actor, now, clean_text(note, multiline=True), **data)
    return locked


def incident_conclude_handover(*, incident: Incident | int, actor, key: str, reference: str, note: str,
                               now: datetime | None = None) -> Incident:
    """What the incident was handed over to is done: close it, saying how (the system's step, for the app).

    The app has checked its own actor's right over its subject; here only the hand-over is checked: the
    incident must have been handed over under ``key`` and ``reference``. An incident the command centre
    took back meanwhile (unparked) is not closed: the event is recorded and it goes on where it is.
    """
    from incidents.services import _lock, _record

    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(incident, None)
        handed = Event.objects.filter(incident=locked, action="hand_over", data__handover=key,
                                      data__reference=reference).exists()
        if not handed:
            raise InvalidInput(_("Incident %(number)s was not handed over to %(reference)s.")
                               % {"number": locked.number, "reference": reference})
        from_status = locked.status
        if from_status == Status.PARKED:
            locked.status = Status.CLOSED
            locked.closed_at = now
            locked.parked_until = None
            locked.handle_days_left = None
            locked.version += 1
            locked.save()
        _record(locked, "handover_concluded", from_status, locked.status, actor, now,
                clean_text(note, multiline=True), handover=key, reference=reference)
    return locked
