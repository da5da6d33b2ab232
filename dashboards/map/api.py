"""The map's API (``/api/v1/map/…``): thin views over ``dashboards.map.selectors`` and ``stats``.

Everything is scoped by the one door and filtered by the shared
``IncidentFilter`` (the same query parameters as ``/api/v1/incidents/``);
errors take the one shape of ``governance.core.api``.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django_filters import BooleanFilter, DateFilter, ModelChoiceFilter, MultipleChoiceFilter, NumberFilter
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards.map import gcj02, selectors, stats
from dashboards.models import IncidentExport
from governance.alerts import services as alert_services
from governance.alerts.selectors import unread_count
from grids.models import Level
from incidents.filters import IncidentFilter
from incidents.serializers import ErrorSerializer

ERROR = OpenApiResponse(ErrorSerializer, description="The one error shape: {\"error\": {code, message, fields}}.")
MEASURES = ("open", "overdue", "on_time_rate")


def _filter_parameters() -> list[OpenApiParameter]:
    """The shared IncidentFilter's query parameters, documented once for every map endpoint."""
    params = []
    for name, f in IncidentFilter.base_filters.items():
        if isinstance(f, BooleanFilter):
            kind = OpenApiTypes.BOOL
        elif isinstance(f, ModelChoiceFilter | NumberFilter):
            kind = OpenApiTypes.INT
        elif isinstance(f, DateFilter):
            kind = OpenApiTypes.DATE
        else:
            kind = OpenApiTypes.STR
        params.append(OpenApiParameter(name, kind, many=isinstance(f, MultipleChoiceFilter), required=False,
                                       description=str(f.label or name)))
    return params


FILTERS = _filter_parameters()


class BBoxField(serializers.CharField):
    default_error_messages = {
        "format": _("Give the box as minLng,minLat,maxLng,maxLat (four numbers)."),
        "range": _("The box must lie within -180..180 and -90..90, with min below max."),
    }

    def to_internal_value(self, data) -> selectors.BBox:
        text = super().to_internal_value(data)
        try:
            numbers = [float(part) for part in text.split(",")]
        except ValueError:
            self.fail("format")
        if len(numbers) != 4 or any(n != n for n in numbers):  # n != n: NaN
            self.fail("format")
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


class MapRegionsView(APIView):
    """The regions of one level in the user's territory as GeoJSON, each with its figures.

    ``level`` is the level of the regions drawn; filter incidents by their responsible level
    with ``responsible_level``."""

    @extend_schema(
        operation_id="map_regions",
        parameters=[RegionsQuery, *[p for p in FILTERS if p.name != "level"],
                    OpenApiParameter("responsible_level", OpenApiTypes.INT, required=False,
                                     description="the shared filter's level (responsible level)")],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=(
            "A GeoJSON FeatureCollection; each feature's properties: id, code, name, level, total, open, overdue, "
            "closed, on_time_rate and value (the chosen measure).")), 400: ERROR},
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
        operation_id="map_incidents",
        parameters=[PointsQuery, *FILTERS],
        responses={200: inline_serializer("MapIncidents", {
            "count": serializers.IntegerField(),
            "limit": serializers.IntegerField(),
            "truncated": serializers.BooleanField(help_text="more incidents matched than were sent"),
            "incidents": inline_serializer("MapIncident", {
                "id": serializers.IntegerField(), "number": serializers.CharField(),
                "lat": serializers.FloatField(), "lng": serializers.FloatField(),
                "status": serializers.CharField(), "severity": serializers.CharField(),
                "is_overdue": serializers.BooleanField(),
            }, many=True),
        }), 400: ERROR},
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
        operation_id="map_stats",
        parameters=[*FILTERS],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=(
            "new_today, open, overdue, total, closed, closure_rate, on_time_rate, avg_handling_hours, source "
            "(tallies or live), as_of, trend [{day, reported, closed}], by_category, by_region.")), 400: ERROR},
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
        "region": alert.region.name,
        "raised_at": alert.raised_at,
        "acknowledged": alert.acknowledged_at is not None,
        "can_acknowledge": bool(alert.can_acknowledge),
        "lat": position[0] if position else None,
        "lng": position[1] if position else None,
        "acknowledge_url": reverse("api-map-alert-acknowledge", args=[alert.pk]),
    }


class MapAlertsView(APIView):
    """Open alerts of the user's territory, newest first (the map's alert panel polls it)."""

    @extend_schema(operation_id="map_alerts", parameters=[AlertsQuery], responses={200: OpenApiResponse(
        OpenApiTypes.OBJECT, description="{unread, alerts: [{id, kind, severity, title, subject_id, lat, lng, …}]}"),
        400: ERROR})
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

    @extend_schema(operation_id="map_alert_acknowledge", request=None,
                   responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 403: ERROR, 404: ERROR})
    def post(self, request: Request, pk: int) -> Response:
        alert = alert_services.alert_acknowledge(alert=pk, actor=request.user)
        return Response({"id": alert.pk, "acknowledged": True, "acknowledged_at": alert.acknowledged_at})


class MapExportStatusView(APIView):
    """Progress of a background export; only its owner sees it."""

    @extend_schema(operation_id="map_export_status", responses={200: inline_serializer("MapExportStatus", {
        "id": serializers.IntegerField(), "status": serializers.CharField(), "progress": serializers.IntegerField(),
        "done": serializers.IntegerField(), "total": serializers.IntegerField(),
        "download_url": serializers.CharField(allow_blank=True), "error": serializers.CharField(allow_blank=True),
    }), 404: ERROR})
    def get(self, request: Request, pk: int) -> Response:
        export = IncidentExport.objects.filter(pk=pk, owner=request.user).first()
        if export is None:
            raise Http404
        return Response(export_status(export))


def export_status(export: IncidentExport) -> dict:
    return {
        "id": export.pk, "status": export.status, "progress": export.progress, "done": export.done,
        "total": export.total, "error": export.error,
        "download_url": reverse("dashboards:map-export-download", args=[export.pk]) if export.file else "",
    }


def tiles_config() -> dict:
    return {"url": settings.MAP_TILES_URL, "attribution": settings.MAP_TILES_ATTRIBUTION,
            "gcj02": bool(settings.MAP_TILES_GCJ02)}
