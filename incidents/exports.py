"""What can be exported of incidents: the incident list (also the map's), and the triage queue.

Each kind starts from the very queryset its page shows (``incidents.selectors``, through the
scoping door) and filters it with the page's FilterSet (``IncidentFilter``), so a file holds
exactly the rows the page lists, every page of them. The job kernel (``governance.exports``) runs
them: small files at once, large ones on a worker, always as the owner's scope is when it runs.

Dates and times are cells of their own type (deadlines, filing, closing); a deadline appears once
it is known: the handling deadline from acceptance on, none while parked (no clock runs then).
"""

from __future__ import annotations

from django.db.models import BooleanField, Case, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.access.personal_data import record_bulk_reveal
from governance.core.masking import mask_name, mask_phone
from governance.core.scoping import Action, get_scope
from governance.exports.kinds import Column, TableExport, register
from grids.models import Level
from incidents import personal_data, selectors
from incidents.filters import IncidentFilter, overdue_q
from incidents.models import Incident, waiting_deadline


def reveal_personal_data(user, incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Annotate ``reveal_personal``: whether the personal-data policy lets this user read each incident's
    reporter in full (``incidents.personal_data``, the rule of pages and the API too)."""
    return incidents.annotate(reveal_personal=Case(When(personal_data.revealable(user), then=Value(True)),
                                                   default=Value(False), output_field=BooleanField()))


def record_reveal(user, incidents: QuerySet[Incident], columns) -> None:
    """One audit row for the incidents whose personal columns this file shows whole (none: no row)."""
    shown = [c.key for c in columns if c.personal]
    ids = list(incidents.filter(reveal_personal=True).values_list("pk", flat=True))
    record_bulk_reveal(user=user, subject_type=personal_data.SUBJECT_TYPE, ids=ids, fields=shown,
                       reason=gettext("Export of the incident list with personal columns"))


def _overdue(incident: Incident) -> str:
    return gettext("yes") if incident.is_overdue_now else ""


def _deadline(incident: Incident):
    return waiting_deadline(incident.status, incident.accept_due_at, incident.handle_due_at)


COLUMNS = [
    Column("number", _("Number"), lambda i: i.number, width=20),
    Column("title", _("Title"), lambda i: i.title, width=30),
    Column("category", _("Category"), lambda i: str(i.category), width=24),
    Column("severity", _("Severity"), lambda i: str(i.get_severity_display())),
    Column("grid", _("Grid"), lambda i: i.grid.name, width=20),
    Column("responsible", _("Responsible command centre"), lambda i: i.responsible_region.name, width=20),
    Column("level", _("Responsible level"), lambda i: str(Level(i.responsible_level).label)),
    Column("status", _("Status"), lambda i: str(i.get_status_display()), width=12),
    Column("lead_unit", _("Lead unit"), lambda i: i.lead_unit.name if i.lead_unit_id else "", width=24),
    Column("deadline", _("Deadline"), _deadline, width=17),
    Column("overdue", _("Overdue"), _overdue),
    Column("reported_at", _("Reported at"), lambda i: i.reported_at, width=17),
    Column("accept_due_at", _("Accept by"), lambda i: i.accept_due_at, width=17),
    Column("accepted_at", _("Accepted at"), lambda i: i.accepted_at, width=17),
    Column("handle_due_at", _("Handle by"), lambda i: i.handle_due_at, width=17),
    Column("closed_at", _("Closed at"), lambda i: i.closed_at, width=17),
    Column("source", _("Source"), lambda i: str(i.get_source_display())),
    Column("address", _("Address"), lambda i: i.address, width=30),
    Column("lat", _("Latitude"), lambda i: i.lat, width=11),
    Column("lng", _("Longitude"), lambda i: i.lng, width=11),
    Column("description", _("Description"), lambda i: i.description, width=40),
    Column("reporter_name", _("Reporter name"),
           lambda i: i.reporter_name if i.reveal_personal else mask_name(i.reporter_name), personal=True),
    Column("reporter_phone", _("Reporter phone"),
           lambda i: i.reporter_phone if i.reveal_personal else mask_phone(i.reporter_phone), personal=True,
           width=14),
]
PERSONAL = {c.key for c in COLUMNS if c.personal}


class IncidentTable(TableExport):
    """Incidents as a list page shows them; subclasses name the page."""

    name = ""
    filterset_class = IncidentFilter
    columns = COLUMNS

    def filterset_kwargs(self, user) -> dict:
        return {"user": user}  # the region filter offers the user's own regions only

    def prepare(self, user, queryset: QuerySet[Incident], columns) -> QuerySet[Incident]:
        now = timezone.now()
        queryset = queryset.annotate(is_overdue_now=Case(When(overdue_q(now), then=Value(True)), default=Value(False),
                                                         output_field=BooleanField()))
        if PERSONAL & {c.key for c in columns}:
            queryset = reveal_personal_data(user, queryset)
            record_reveal(user, queryset, columns)
            return queryset
        return queryset.annotate(reveal_personal=Value(False, output_field=BooleanField()))


@register
class IncidentListExport(IncidentTable):
    """``/incidents/`` and the command-centre map: every incident the user may see."""

    name = "incidents"
    label = _("Incidents")
    default_columns = ["number", "title", "category", "severity", "grid", "status", "lead_unit", "overdue",
                       "reported_at", "handle_due_at"]

    def allowed(self, user) -> bool:
        return not get_scope(user).is_empty(Action.VIEW)

    def base_queryset(self, user) -> QuerySet[Incident]:
        return selectors.incident_list(user)


@register
class TriageQueueExport(IncidentTable):
    """``/incidents/queue/``: the open incidents the user's command centre holds now."""

    name = "triage_queue"
    label = _("Triage queue")
    default_columns = ["number", "title", "category", "severity", "grid", "level", "status", "lead_unit",
                       "deadline", "overdue", "reported_at", "handle_due_at"]

    def allowed(self, user) -> bool:
        return not get_scope(user).is_empty(Action.TRIAGE)

    def base_queryset(self, user) -> QuerySet[Incident]:
        return selectors.triage_queue(user)
