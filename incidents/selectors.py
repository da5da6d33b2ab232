"""Reads of incidents, already scoped to the user through the one door."""
from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from governance.core.authority import access_object, may
from governance.core.scoping import Action, get_scope
from incidents.models import OPEN_STATUSES, Attachment, Category, Event, Incident, Status, UnitTask
from incidents.services import (
    DUPLICATE_LIMIT,
    DUPLICATE_RADIUS_M,
    DUPLICATE_WINDOW,
    _holds_active_task,
    distance_m,
    nearby_box,
)
from incidents.workflow import TRANSITIONS, Transition, transitions_from


def incident_list(user, action: str = Action.VIEW) -> QuerySet[Incident]:
    """The list every page, export and the API start from."""
    return (Incident.objects.restrict(user, action)
            .select_related("category", "category__parent", "grid", "responsible_region", "lead_unit")
            # lists never draw the polygons; reading them costs more than the rest of the row
            .defer("grid__boundary", "responsible_region__boundary")
            .order_by("-reported_at", "-pk"))


def triage_queue(user) -> QuerySet[Incident]:
    return incident_list(user, Action.TRIAGE).filter(status__in=OPEN_STATUSES)


# What a unit's queue holds: dispatched to it (waiting for its report) and reported back (waiting for the command
# centre's verification). An incident accepted again (unparked, or sent back) waits for the command centre, not
# the unit. The queue page offers exactly these statuses as filters.
UNIT_QUEUE_STATUSES = (Status.DISPATCHED, Status.HANDLED)


def unit_queue(user) -> QuerySet[Incident]:
    """Incidents dispatched to the user's units that wait for their report or its verification."""
    queryset = incident_list(user, Action.HANDLE).filter(status__in=UNIT_QUEUE_STATUSES)
    scope = get_scope(user)
    if scope.everything:
        return queryset
    # The door lets a unit keep seeing what it was once given; its queue holds only what is still its own.
    return queryset.filter(Exists(UnitTask.objects.filter(
        incident=OuterRef("pk"), withdrawn_at__isnull=True, unit_id__in=sorted(scope.units(Action.HANDLE)))))


def incident_detail(user, pk: int) -> Incident:
    """One incident with what its page and the API show, as plain lists:

    ``timeline`` (events, oldest first, each with its ``photos``), ``active_tasks``
    (unit tasks not withdrawn) and ``photos`` (every attachment). ``filed_incident``
    gives a just-filed incident the same lists without reading it back.
    """
    queryset = Incident.objects.select_related(
        "category", "category__parent", "grid", "responsible_region", "lead_unit", "reporter", "duplicate_of"
    ).prefetch_related(
        Prefetch("events", queryset=Event.objects.select_related("actor").prefetch_related(
            Prefetch("attachments", to_attr="photos")), to_attr="timeline"),
        Prefetch("unit_tasks", queryset=UnitTask.objects.select_related("unit").filter(withdrawn_at__isnull=True),
                 to_attr="active_tasks"),
        Prefetch("attachments", to_attr="photos"),
    )
    return access_object(queryset, user, pk=pk)


def filed_incident(filing) -> Incident:
    """The incident a filing just wrote, with the lists of ``incident_detail``, from memory.

    A new incident has one event (the report) holding its photos, and no unit tasks;
    the filing has all of it in hand, so the answer to a filing reads nothing back.
    """
    incident = filing.incident
    filing.event.photos = list(filing.attachments)
    incident.timeline = [filing.event]
    incident.active_tasks = []
    incident.photos = list(filing.attachments)
    return incident


def attachment_for(user, pk: int) -> Attachment:
    return access_object(Attachment.objects.select_related("incident"), user, pk=pk)


def available_transitions(user, incident: Incident, *, just_filed: bool = False) -> list[Transition]:
    """The actions this user may take on this incident now (what the page shows as buttons).

    ``just_filed``: the incident was filed in this request, so no unit holds it and the
    scope is asked in memory (``Incident.allowed_before_dispatch``) instead of the database.
    """
    scope = get_scope(user)
    allowed = []
    held: dict[str, bool] = {}
    for transition in transitions_from(incident.status):
        if transition.action not in held:
            held[transition.action] = (incident.allowed_before_dispatch(scope, transition.action) if just_filed
                                       else may(incident, user, transition.action))
        if not held[transition.action]:
            continue
        if transition.name == "close_on_spot" and not incident.category.on_spot_closable:
            continue
        if transition.action == Action.HANDLE and not (
                scope.everything if just_filed else _holds_active_task(incident, user)):
            # reassigned or sent back: the unit still sees it, but it is no longer theirs to handle
            # (and a just-filed incident no unit holds yet)
            continue
        allowed.append(transition)
    return allowed


def possible_duplicates(user, *, category: Category, lat: float, lng: float, now: datetime | None = None,
                        exclude_pk: int | None = None) -> list[Incident]:
    """Open incidents of the same category within 100 m filed in the last 72 hours, nearest first (at most 50).

    Every candidate of the search box is measured before any is dropped: in a crowd of
    newer reports just outside the circle, the one inside it is still found.
    """
    now = now or timezone.now()
    candidates = (incident_list(user)
                  .filter(category=category, status__in=OPEN_STATUSES, reported_at__gte=now - DUPLICATE_WINDOW,
                          duplicate_of__isnull=True, **nearby_box(lat, lng, DUPLICATE_RADIUS_M)))
    if exclude_pk:
        candidates = candidates.exclude(pk=exclude_pk)
    measured = ((distance_m(lat, lng, c_lat, c_lng), pk)
                for pk, c_lat, c_lng in candidates.order_by().values_list("pk", "lat", "lng"))
    nearest = sorted(pair for pair in measured if pair[0] <= DUPLICATE_RADIUS_M)[:DUPLICATE_LIMIT]
    if not nearest:
        return []
    found = incident_list(user).in_bulk([pk for _distance, pk in nearest])
    return [found[pk] for _distance, pk in nearest if pk in found]


def transition_labels() -> dict[str, str]:
    return {name: str(t.label) for name, t in TRANSITIONS.items()}
