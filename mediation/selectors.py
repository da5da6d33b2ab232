"""Reads of mediation cases, already scoped to the user through the one door."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from governance.core.authority import access_object
from governance.core.scoping import Action, get_scope, scope_q
from mediation.models import (
    OPEN_STATUSES,
    OUTCOMES,
    WAITING_STATUSES,
    Case,
    CaseEvent,
    DisputeType,
    FollowUp,
    Obligation,
    Party,
    RiskChange,
    Session,
    Status,
)

# The workbench's "deadlines near": due within this many days.
NEAR_DAYS = 7
WORKBENCH_LIMIT = 20  # each of the workbench's lists; the rest is in the dispute list
# What a row of the case tables reads (templates/mediation/_table.html), and no more: a case's summary, risk
# reason, court and clock fields, a region's bounding box and tree, a unit's details stay in the database.
TABLE_FIELDS = ("pk", "number", "title", "status", "risk_level", "due_at", "registered_at",
                "dispute_type__name", "region__name", "organisation__name")


def case_list(user, action: str = Action.VIEW) -> QuerySet[Case]:
    """The list every page, export and the API start from: newest first."""
    return (Case.objects.restrict(user, action)
            .select_related("dispute_type", "organisation", "region")
            .defer("region__boundary")
            .order_by("-registered_at", "-pk"))


def my_cases(user) -> QuerySet[Case]:
    """The workbench: open cases of the organisations the user mediates for (their own first)."""
    return case_list(user, Action.MEDIATE).filter(status__in=sorted(OPEN_STATUSES))


def assigned_to(cases: QuerySet[Case], user) -> QuerySet[Case]:
    """The cases ``user`` is a mediator of, as a semi-join: PostgreSQL walks the organisation's open cases newest
    first (``case_org_open_recent``) and stops at the page's end, where a join would read them all."""
    named = Case.mediators.through.objects.filter(case_id=OuterRef("pk"), user_id=user.pk)
    return cases.filter(Exists(named))


def for_table(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Only the columns a row of the case tables shows (the workbench's three lists)."""
    return cases.only(*TABLE_FIELDS)


def deadlines_near(user, now: datetime | None = None) -> QuerySet[Case]:
    now = now or timezone.now()
    return (my_cases(user).filter(status__in=sorted(WAITING_STATUSES), due_at__lte=now + timedelta(days=NEAR_DAYS))
            .order_by("due_at", "pk"))


def sessions_today(user, now: datetime | None = None) -> QuerySet[Session]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    start = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    cases = Case.objects.restrict(user, Action.MEDIATE).values("pk")
    return (Session.objects.filter(case__in=cases, held_at__gte=start, held_at__lt=start + timedelta(days=1))
            .select_related("case").only("held_at", "place", "case__number", "case__title").order_by("held_at"))


def case_detail(user, pk: int) -> Case:
    queryset = Case.objects.select_related(
        "dispute_type", "organisation", "region", "district", "incident", "registered_by", "agreement",
    ).defer("region__boundary", "district__boundary").prefetch_related(
        "mediators",
        Prefetch("parties", queryset=Party.objects.order_by("role", "pk")),
        Prefetch("sessions", queryset=Session.objects.select_related("recorded_by")),
        Prefetch("follow_ups", queryset=FollowUp.objects.select_related("recorded_by")),
        Prefetch("risk_changes", queryset=RiskChange.objects.select_related("actor")),
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
    )
    case = access_object(queryset, user, pk=pk)
    agreement = getattr(case, "agreement", None)  # a missing one-to-one raises an AttributeError: None
    case.obligations = (list(Obligation.objects.filter(agreement=agreement).select_related("party"))
                        if agreement is not None else [])
    return case


@dataclass(frozen=True)
class Figures:
    total: int
    open: int
    red_open: int
    overdue: int
    by_type: list[dict]
    by_outcome: list[dict]
    success_rate: float | None  # agreements / cases with an outcome
    average_days: float | None  # registration to outcome


def figures(cases: QuerySet[Case], now: datetime | None = None) -> Figures:
    """Cases by type and outcome, success rate and average duration, of a scoped (and filtered) list."""
    now = now or timezone.now()
    base = cases.order_by()
    open_q = Q(status__in=sorted(OPEN_STATUSES))
    # One grouped pass, by the type's own id (no join, a dozen groups): the figures, the by-type rows and
    # the outcomes are added up here rather than read again in a second scan of the cases.
    counters = dict(
        total=Count("pk"),
        open=Count("pk", filter=open_q),
        red_open=Count("pk", filter=open_q & Q(risk_level="red")),
        overdue=Count("pk", filter=Q(status__in=sorted(WAITING_STATUSES), due_at__lt=now)),
        decided=Count("pk", filter=Q(outcome__in=sorted(OUTCOMES))),
        agreed=Count("pk", filter=Q(outcome=Status.AGREEMENT)),
        timed=Count("pk", filter=Q(outcome_at__isnull=False)),
        **{f"outcome_{o}": Count("pk", filter=Q(outcome=o)) for o in sorted(OUTCOMES)},
    )
    rows = list(base.values("dispute_type_id").annotate(
        duration=Sum(ExpressionWrapper(F("outcome_at") - F("registered_at"), output_field=DurationField()),
                     filter=Q(outcome_at__isnull=False)),
        **counters))
    head = {key: sum(row[key] for row in rows) for key in counters}
    durations = [row["duration"] for row in rows if row["duration"] is not None]
    if durations and not isinstance(durations[0], timedelta):  # SQLite answers microseconds
        durations = [timedelta(microseconds=d) for d in durations]
    head["duration"] = (sum(durations, timedelta()) / head["timed"]) if durations and head["timed"] else None
    names = dict(DisputeType.objects.values_list("pk", "name"))
    by_type = sorted(({"dispute_type__name": names.get(row["dispute_type_id"], ""), "n": row["total"],
                       "agreed": row["agreed"]} for row in rows),
                     key=lambda row: (-row["n"], row["dispute_type__name"]))
    by_outcome = sorted(({"outcome": o, "label": Status(o).label, "n": head[f"outcome_{o}"]}
                         for o in sorted(OUTCOMES) if head[f"outcome_{o}"]),
                        key=lambda row: (-row["n"], row["outcome"]))
    duration = head["duration"]
    return Figures(
        total=head["total"], open=head["open"], red_open=head["red_open"], overdue=head["overdue"],
        by_type=by_type, by_outcome=by_outcome,
        success_rate=(head["agreed"] / head["decided"]) if head["decided"] else None,
        average_days=(duration.total_seconds() / 86400) if duration is not None else None,
    )


def sees_cases(user) -> bool:
    """Whether the one door lets the user see any case at all: the map's dispute overlay is offered then."""
    return scope_q(Case, get_scope(user), Action.VIEW) is not None


def by_region(user, *, boundaries: bool = False) -> list[dict]:
    """For the map: open cases and red open cases per street the user sees, counted in the database."""
    from django.db.models.functions import Substr

    from grids.models import Level, Region

    street_len = Region.steplen * Level.STREET
    rows = {row["street"]: row for row in (
        Case.objects.restrict(user).filter(status__in=sorted(OPEN_STATUSES)).order_by()
        .annotate(street=Substr("region__path", 1, street_len)).values("street")
        .annotate(open=Count("pk"), red=Count("pk", filter=Q(risk_level="red"))))}
    fields = ["pk", "name", "path", "centroid_lat", "centroid_lng"] + (["boundary"] if boundaries else [])
    regions = Region.objects.filter(path__in=list(rows)).only(*fields)
    return sorted(({"region": r.pk, "name": r.name, "lat": r.centroid_lat, "lng": r.centroid_lng,
                    "open": rows[r.path]["open"], "red": rows[r.path]["red"],
                    **({"boundary": r.boundary} if boundaries else {})} for r in regions),
                  key=lambda row: row["name"])


def in_gcj02(regions: list[dict]) -> list[dict]:
    """``by_region``'s rows shifted to GCJ-02 (centres, and boundaries when read), for tile servers that draw in
    it: the map API's ``coords=gcj02`` and the figures page's own map. The rows given are left as they are."""
    from governance.core import gcj02

    shifted = []
    for row in regions:
        lat, lng = gcj02.wgs_to_gcj(row["lat"], row["lng"]) if row["lat"] is not None else (None, None)
        moved = {**row, "lat": lat, "lng": lng}
        if row.get("boundary"):
            moved["boundary"] = gcj02.convert_geometry(row["boundary"])
        shifted.append(moved)
    return shifted
