"""The map's API (``/api/v1/map/…``): thin views over ``dashboards.map.selectors`` and ``stats``.

Everything is scoped by the one door and filtered by the shared
``IncidentFilter`` (the same query parameters as ``/api/v1/incidents/``);
errors take the one shape of ``governance.core.api``.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django_filters import (
    BooleanFilter,
    ChoiceFilter,
    DateFilter,
    ModelChoiceFilter,
    MultipleChoiceFilter,
    NumberFilter,
)
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards.map import selectors, stats
from governance.alerts import services as alert_services
from governance.alerts.models import AlertKind, AlertSeverity
from governance.alerts.selectors import unread_count
from governance.core import gcj02
from governance.core.api import GeoJSONGeometryField
from governance.core.filters import MAX_ID
from governance.core.openapi import errors
from grids.models import Level
from incidents.filters import IncidentFilter
from incidents.models import Status
from incidents.serializers import SeverityField

MEASURES = ("open", "overdue", "on_time_rate")
# Where the figures were counted (dashboards.map.stats): the tallies, or the incidents themselves.
FIGURE_SOURCES = [("tallies", "tallies"), ("live", "live")]
# Four decimal numbers, as the map page sends them (toFixed): minLng,minLat,maxLng,maxLat
_NUMBER = "-?[0-9]+(?:[.][0-9]+)?"
BBOX_PATTERN = f"^{_NUMBER}(?:,{_NUMBER}){{3}}$"


def _filter_parameters() -> list[OpenApiParameter]:
    """The shared IncidentFilter's query parameters, typed as the filter reads them, for every map endpoint."""
    params = []
    for name, f in IncidentFilter.base_filters.items():
        if isinstance(f, BooleanFilter):
            schema: dict = {"type": "boolean"}
        elif isinstance(f, ModelChoiceFilter | NumberFilter):  # an id: of a category, a region, a unit
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        elif isinstance(f, ChoiceFilter | MultipleChoiceFilter):
            values = [value for value, _label in f.extra["choices"]]
            schema = {"type": "integer" if all(isinstance(v, int) for v in values) else "string", "enum": values}
        elif isinstance(f, DateFilter):
            schema = {"type": "string", "format": "date"}
        else:
            schema = {"type": "string"}
        if isinstance(f, MultipleChoiceFilter):  # repeatable: ?status=reported&status=accepted
            schema = {"type": "array", "items": schema}
        params.append(OpenApiParameter(name, schema, required=False, style="form", explode=True,
                                       description=str(f.label or name)))
    return params


FILTERS = _filter_parameters()


@extend_schema_field({"type": "string", "pattern": BBOX_PATTERN, "example": "116.0,23.0,116.1,23.1"})
class BBoxField(serializers.CharField):
    default_error_messages = {
        "format": _("Give the box as minLng,minLat,maxLng,maxLat (four numbers)."),
        "range": _("The box must lie within -180..180 and -90..90, with min below max."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)  # the pattern is the whole rule: no spaces either
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> selectors.BBox:
        text = super().to_internal_value(data)
        if not re.fullmatch(BBOX_PATTERN, text):  # plain decimals: no exponent, no "nan" or "inf"
            self.fail("format")
        numbers = [float(part) for part in text.split(",")]
        box = selectors.BBox(*numbers)
        if not (-180 <= box.min_lng < box.max_lng <= 180 and -90 <= box.min_lat < box.max_lat <= 90):
            self.fail("range")
        return box


class RegionsQuery(serializers.Serializer):
    level = serializers.ChoiceField(choices=[(lv.value, lv.label) for lv in Level if lv != Level.CITY],
                                    required=False, help_text="2 district … 5 grid; default: one below your territory")
    measure = serializers.ChoiceField(choices=MEASURES, default="open")
    bbox = BBoxField(required=False, help_text="only regions overlapping minLng,minLat,maxLng,maxLat")
    coords = serializers.ChoiceField(choices=["wgs84", "gcj02"], default="wgs84")


class PointsQuery(serializers.Serializer):
    bbox = BBoxField(help_text="minLng,minLat,maxLng,maxLat")
    limit = serializers.IntegerField(min_value=1, default=selectors.DEFAULT_POINTS,
                                     help_text=f"at most {selectors.MAX_POINTS}, whatever is asked")
    coords = serializers.ChoiceField(choices=["wgs84", "gcj02"], default="wgs84")


class AlertsQuery(serializers.Serializer):
    coords = serializers.ChoiceField(choices=["wgs84", "gcj02"], default="wgs84")


def parse(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _stats_call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except stats.FilterError as exc:
        raise ValidationError(exc.errors) from exc


def _gcj(query: dict) -> bool:
    return query.get("coords") == "gcj02"


def region_filter_params(request: Request):
    """The incident filters of the regions endpoint, where ``level`` is the map's level.

    There the shared filter's ``level`` (the responsible level) is spelt ``responsible_level``.
    """
    params = request.query_params.copy()
    params.pop("level", None)
    responsible = params.pop("responsible_level", None)
    if responsible:
        params.setlist("level", responsible)
    return params


# --- The answers, typed for the OpenAPI schema (the views build plain dicts: these only describe them) ---

class RegionMeasuresSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    closed = serializers.IntegerField()
    closure_rate = serializers.FloatField(allow_null=True, help_text="closed / all but voided and merged, 0..1; "
                                                                      "null when there is none")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="closed on time / closed, 0..1; null when "
                                                                      "none is closed")


class MapRegionPropertiesSerializer(RegionMeasuresSerializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=Level.choices)
    value = serializers.FloatField(allow_null=True, help_text="the chosen measure")


class MapRegionFeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.IntegerField()
    geometry = GeoJSONGeometryField()
    properties = MapRegionPropertiesSerializer()


class MapRegionsSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    level = serializers.ChoiceField(choices=Level.choices, help_text="the level of the regions drawn")
    measure = serializers.ChoiceField(choices=MEASURES)
    source = serializers.ChoiceField(choices=FIGURE_SOURCES, help_text="where the figures were counted")
    features = MapRegionFeatureSerializer(many=True)


class TrendDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    reported = serializers.IntegerField()
    closed = serializers.IntegerField()


class CategoryFiguresSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the major category")
    name = serializers.CharField()
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    closed = serializers.IntegerField()


class RegionFiguresSerializer(RegionMeasuresSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=Level.choices)


class MapStatsSerializer(serializers.Serializer):
    new_today = serializers.IntegerField(help_text="filed today, Beijing time")
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    total = serializers.IntegerField()
    closed = serializers.IntegerField()
    closure_rate = serializers.FloatField(allow_null=True, help_text="closed / all but voided and merged, 0..1")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="closed on time / closed, 0..1")
    avg_handling_hours = serializers.FloatField(allow_null=True, help_text="mean hours from filing to closing")
    source = serializers.ChoiceField(choices=FIGURE_SOURCES, help_text="where the figures were counted")
    as_of = serializers.DateTimeField(help_text="when the overdue figures were last brought up to date")
    trend = TrendDaySerializer(many=True, help_text="filed and closed per day, the last 30 days")
    by_category = CategoryFiguresSerializer(many=True)
    by_region = RegionFiguresSerializer(many=True, help_text="one level below the territory or the chosen region")


class MapAlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AlertKind.choices)
    kind_label = serializers.CharField()
    severity = serializers.ChoiceField(choices=AlertSeverity.choices)
    title = serializers.CharField()
    subject_type = serializers.CharField(help_text="what the alert is about, e.g. incident")
    subject_id = serializers.IntegerField()
    subject_label = serializers.CharField(help_text="e.g. the incident's number")
    region = serializers.CharField(help_text="the name of the region where it happens")
    raised_at = serializers.DateTimeField()
    acknowledged = serializers.BooleanField()
    can_acknowledge = serializers.BooleanField(help_text="you are its addressee and may acknowledge it")
    lat = serializers.FloatField(allow_null=True, help_text="where the incident lies, in the coords asked for")
    lng = serializers.FloatField(allow_null=True)
    acknowledge_url = serializers.CharField(help_text="POST here to acknowledge it")


class MapAlertsSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text="your unread alerts, as the top bar counts them")
    alerts = MapAlertSerializer(many=True, help_text="open alerts of your territory, newest first, at most 50")


class MapAlertAcknowledgedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    acknowledged = serializers.BooleanField()
    acknowledged_at = serializers.DateTimeField()


class MapIncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    status = serializers.ChoiceField(choices=Status.choices)
    severity = SeverityField()
    is_overdue = serializers.BooleanField()


class MapIncidentsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    truncated = serializers.BooleanField(help_text="more incidents matched than were sent")
    incidents = MapIncidentSerializer(many=True)


class MapRegionsView(APIView):
    """The regions of one level in the user's territory as GeoJSON, each with its figures.

    ``level`` is the level of the regions drawn; filter incidents by their responsible level
    with ``responsible_level``."""

    @extend_schema(
        operation_id="map_regions", summary="The regions of one level, with their figures (GeoJSON)",
        description=("A GeoJSON FeatureCollection of the regions of `level` in your territory (default: one below "
                     "it) overlapping `bbox`, each feature's properties carrying its figures and `value`, the chosen "
                     "`measure`. `level` here is the level drawn: filter incidents by their responsible level with "
                     "`responsible_level`. `bbox` must lie within -180..180 and -90..90 with min below max (400 "
                     "otherwise); `region` takes a region of your territory (400 otherwise)."),
        parameters=[RegionsQuery, *[p for p in FILTERS if p.name != "level"],
                    OpenApiParameter("responsible_level", {"type": "integer", "enum": [lv.value for lv in Level
                                                                                        if lv != Level.GRID]},
                                     required=False, description="the shared filter's level (responsible level)")],
        responses={200: MapRegionsSerializer},
    )
    def get(self, request: Request) -> Response:
        query = parse(RegionsQuery, request)
        level = int(query.get("level") or selectors.default_level(request.user))
        bbox = query.get("bbox")
        if bbox is not None and _gcj(query):
            bbox = bbox.to_wgs84()
        regions = selectors.map_regions(request.user, level, bbox=bbox)
        figures, source = _stats_call(stats.region_figures, request.user, region_filter_params(request), regions)
        measure = query["measure"]
        features = []
        for region in regions:
            measures = figures.get(region.pk, stats.region_measures({}))
            boundary = gcj02.convert_geometry(region.boundary) if _gcj(query) else region.boundary
            features.append({
                "type": "Feature",
                "id": region.pk,
                "geometry": boundary,
                "properties": {"id": region.pk, "code": region.code, "name": region.name, "level": region.level,
                               **measures, "value": measures[measure]},
            })
        return Response({"type": "FeatureCollection", "level": level, "measure": measure, "source": source,
                         "features": features})


class MapIncidentsView(APIView):
    """Incidents in a bounding box (filtered like the list), never more than the hard limit."""

    @extend_schema(
        operation_id="map_incidents", summary="Incidents in a box",
        description=("The incidents in `bbox` (minLng,minLat,maxLng,maxLat, within -180..180 and -90..90, min below "
                     "max: 400 otherwise), filtered like the list, never more than the hard limit; `truncated` says "
                     "more matched. `region` takes a region of your territory (400 otherwise)."),
        parameters=[PointsQuery, *FILTERS],
        responses={200: MapIncidentsSerializer},
    )
    def get(self, request: Request) -> Response:
        query = parse(PointsQuery, request)
        bbox = query["bbox"].to_wgs84() if _gcj(query) else query["bbox"]
        incidents, _filterset = _stats_call(stats.filtered_incidents, request.user, request.query_params)
        limit = min(query["limit"], selectors.MAX_POINTS)
        points, truncated = selectors.incidents_in_box(incidents, bbox, limit)
        if _gcj(query):
            for point in points:
                point["lat"], point["lng"] = gcj02.wgs_to_gcj(point["lat"], point["lng"])
        return Response({"count": len(points), "limit": limit, "truncated": truncated, "incidents": points})


class MapStatsView(APIView):
    """The numbers of the user's territory (filtered like the list): today's new, open, overdue, closure rates,
    average handling time, a 30-day trend and breakdowns by category and by sub-region."""

    @extend_schema(
        operation_id="map_stats", summary="The numbers of your territory",
        description=("Today's new, open, overdue, closure rates, average handling time, a 30-day trend and "
                     "breakdowns by category and by sub-region, filtered like the list. `region` takes a region of "
                     "your territory (400 otherwise)."),
        parameters=[*FILTERS],
        responses={200: MapStatsSerializer},
    )
    def get(self, request: Request) -> Response:
        figures = _stats_call(stats.compute_figures, request.user, request.query_params)
        return Response(figures.__dict__)


def alert_payload(alert, where: dict) -> dict:
    position = where.get(alert.subject_id) if alert.subject_type == "incident" else None
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "kind_label": alert.get_kind_display(),
        "severity": alert.severity,
        "title": alert.title or str(alert),
        "subject_type": alert.subject_type,
        "subject_id": alert.subject_id,
        "subject_label": alert.subject_label,
        "region": alert.region.name if alert.region_id else "",
        "raised_at": alert.raised_at,
        "acknowledged": alert.acknowledged_at is not None,
        "can_acknowledge": bool(alert.can_acknowledge),
        "lat": position[0] if position else None,
        "lng": position[1] if position else None,
        "acknowledge_url": reverse("api-map-alert-acknowledge", args=[alert.pk]),
    }


class MapAlertsView(APIView):
    """Open alerts of the user's territory, newest first (the map's alert panel polls it)."""

    @extend_schema(operation_id="map_alerts", summary="Open alerts of your territory",
                   description="Newest first, at most 50, with your unread count; `lat`/`lng` of an incident's alert "
                               "in the coordinates asked for.",
                   parameters=[AlertsQuery], responses={200: MapAlertsSerializer})
    def get(self, request: Request) -> Response:
        query = parse(AlertsQuery, request)
        alerts, where = selectors.map_alerts(request.user)
        if _gcj(query):
            where = {pk: gcj02.wgs_to_gcj(*pos) for pk, pos in where.items()}
        return Response({"unread": unread_count(request.user),
                         "alerts": [alert_payload(a, where) for a in alerts]})


class MapAlertAcknowledgeView(APIView):
    """Acknowledge an alert from the map's panel (the alert engine's service): only its addressee may
    (403 for those who only see it); hidden alerts answer 404."""

    @extend_schema(operation_id="map_alert_acknowledge", summary="Acknowledge an alert", request=None,
                   description="Only its addressee (the command centre it is addressed to) may: 403 `not_addressee` "
                               "for those who only see it; hidden alerts are 404. Acknowledging twice is harmless.",
                   responses={200: MapAlertAcknowledgedSerializer, **errors(403, e403=(
                       "You see the alert but are not its addressee: `not_addressee`; or a session client's write "
                       "came without its CSRF token: `csrf_failed`."))})
    def post(self, request: Request, pk: int) -> Response:
        alert = alert_services.alert_acknowledge(alert=pk, actor=request.user)
        return Response({"id": alert.pk, "acknowledged": True, "acknowledged_at": alert.acknowledged_at})


def tiles_config() -> dict:
    return {"url": settings.MAP_TILES_URL, "attribution": settings.MAP_TILES_ATTRIBUTION,
            "gcj02": bool(settings.MAP_TILES_GCJ02)}
