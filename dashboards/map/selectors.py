"""Reads of the map: regions, incidents in a box, alerts. Every one goes through the scoping door."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils import timezone

from governance.access.selectors import top_regions
from governance.alerts.models import Alert
from governance.alerts.selectors import alert_feed
from governance.core import gcj02
from governance.core.scoping import Action
from grids.models import Level, Region
from incidents.models import Incident, overdue_q

# Never more points than this in one answer, whatever the client asks.
MAX_POINTS = 5000
DEFAULT_POINTS = 2000
# A GCJ-02 box converted back to WGS-84 is widened by this much (degrees, ~200 m) so no edge point is lost.
GCJ_PAD = 0.002


@dataclass(frozen=True)
class BBox:
    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float

    def to_wgs84(self) -> BBox:
        """This box, given in GCJ-02 display coordinates, as a slightly larger WGS-84 box."""
        south, west = gcj02.gcj_to_wgs(self.min_lat, self.min_lng)
        north, east = gcj02.gcj_to_wgs(self.max_lat, self.max_lng)
        return BBox(west - GCJ_PAD, south - GCJ_PAD, east + GCJ_PAD, north + GCJ_PAD)


def map_regions(user, level: int, *, bbox: BBox | None = None, within: Region | None = None) -> list[Region]:
    """The regions of ``level`` the user may see, overlapping ``bbox``.

    A level above the user's territory shows the territory itself (a street's
    staff asking for districts see their street).
    """
    roots = list(top_regions(user))
    if roots and level < min(r.level for r in roots):
        regions = Region.objects.filter(pk__in=[r.pk for r in roots])
    else:
        regions = Region.objects.restrict(user, Action.VIEW).filter(level=level)
    if within is not None:
        regions = regions.filter(Q(path__startswith=within.path) | Q(pk=within.pk))
    if bbox is not None:
        regions = regions.filter(max_lng__gte=bbox.min_lng, min_lng__lte=bbox.max_lng,
                                 max_lat__gte=bbox.min_lat, min_lat__lte=bbox.max_lat)
    return list(regions.order_by("path"))


def default_level(user) -> int:
    """The level the map opens at: one below the user's territory (a district's staff see its streets)."""
    roots = list(top_regions(user))
    if not roots:
        return Level.DISTRICT
    return min(Level.GRID, min(r.level for r in roots) + 1)


POINT_FIELDS = ("pk", "number", "lat", "lng", "status", "severity", "is_overdue")


def incidents_in_box(incidents: QuerySet[Incident], bbox: BBox, limit: int) -> tuple[list[dict], bool]:
    """At most ``limit`` incidents of an already scoped and filtered list inside the box.

    Returns the points and whether more matched (``truncated``). No ordering, on purpose:
    "newest first" makes PostgreSQL walk the reported_at index through the whole city
    (~300 ms at a million incidents against ~70 ms unordered, docs/performance.md). A
    truncated answer is a prompt to zoom in or filter, not a sample to read.
    """
    limit = max(1, min(limit, MAX_POINTS))
    rows = list(
        incidents.filter(lat__gte=bbox.min_lat, lat__lte=bbox.max_lat, lng__gte=bbox.min_lng, lng__lte=bbox.max_lng)
        .order_by()
        .annotate(is_overdue=Case(When(overdue_q(timezone.now()), then=Value(True)), default=Value(False),
                                  output_field=BooleanField()))
        .values_list(*POINT_FIELDS)[: limit + 1]
    )
    truncated = len(rows) > limit
    return [dict(zip(("id", *POINT_FIELDS[1:]), row, strict=True)) for row in rows[:limit]], truncated


def map_alerts(user, *, limit: int = 50) -> tuple[list[Alert], dict[int, tuple[float, float]]]:
    """Open alerts of the user's territory, newest first, and where each incident lies (for "show on map")."""
    alerts = list(alert_feed(user, open_only=True)[:limit])
    incident_ids = [a.subject_id for a in alerts if a.subject_type == "incident"]
    where = {pk: (lat, lng) for pk, lat, lng in Incident.objects.restrict(user, Action.VIEW)
             .filter(pk__in=incident_ids).values_list("pk", "lat", "lng")}
    return alerts, where
