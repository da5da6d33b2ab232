"""What intake shows: a resident's tracked report, and Open311's view of incidents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F
from django.utils.translation import gettext_lazy as _

from incidents.models import FINAL_STATUSES, Event, Incident, Status
from intake import tokens
from intake.models import Submission

# What a resident is told of each status: the stage, never who holds it.
PUBLIC_STATUS = {
    Status.REPORTED: _("Received, waiting to be accepted"),
    Status.ACCEPTED: _("Accepted, being handled"),
    Status.DISPATCHED: _("Accepted, being handled"),
    Status.HANDLED: _("Handled, being checked"),
    Status.PARKED: _("Accepted, being handled"),
    Status.RETURNED: _("Returned: it could not be handled as reported"),
    Status.CLOSED: _("Closed"),
    Status.VOIDED: _("Closed: not a matter for the grid"),
    Status.MERGED: _("Closed: handled together with an earlier report"),
}
# The statuses whose last step's note is the reply the reporter is given.
REPLY_STATUSES = frozenset(FINAL_STATUSES | {Status.RETURNED})
OPEN311_CLOSED = frozenset(FINAL_STATUSES | {Status.RETURNED})


@dataclass(frozen=True)
class Tracked:
    """Everything the tracking page shows: no staff, no unit, no other resident's data."""

    tracking_code: str
    category: str
    submitted_at: datetime
    status: str
    status_label: str
    final_reply: str
    replied_at: datetime | None


def final_reply(incident: Incident) -> tuple[str, datetime | None]:
    """The note of the step that ended (or returned) the incident: the answer the reporter is given."""
    return final_replies([incident]).get(incident.pk, ("", None))


def final_replies(incidents) -> dict[int, tuple[str, datetime]]:
    """``final_reply`` of many incidents in one query: {incident id: (note, at)} for those that have one."""
    ids = [i.pk for i in incidents if i.status in REPLY_STATUSES]
    if not ids:
        return {}
    replies: dict[int, tuple[str, datetime]] = {}
    rows = (Event.objects.filter(incident_id__in=ids, to_status=F("incident__status"))
            .order_by("incident_id", "-at", "-pk").values_list("incident_id", "note", "at"))
    for incident_id, note, at in rows:
        replies.setdefault(incident_id, (note, at))
    return replies


def tracked(code: str) -> Tracked | None:
    code = tokens.normalise_tracking_code(code)
    if not code:
        return None
    submission = (Submission.objects.filter(tracking_code=code, channel=Submission.Channel.QUICK_REPORT)
                  .select_related("incident__category").first())
    if submission is None:
        return None
    incident = submission.incident
    reply, replied_at = final_reply(incident)
    return Tracked(tracking_code=submission.tracking_code, category=incident.category.name,
                   submitted_at=submission.created_at, status=incident.status,
                   status_label=str(PUBLIC_STATUS.get(incident.status, incident.get_status_display())),
                   final_reply=reply, replied_at=replied_at)
