"""The map page, the big screen and the map's export: thin, everything scoped by the one door.

The pages carry no data of their own beyond a JSON config (``json_script``):
the scripts fetch regions, incidents, numbers and alerts from ``/api/v1/map/``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dashboards.map import selectors
from dashboards.map.api import MEASURES, tiles_config
from governance.access import selectors as governance_selectors
from governance.access.models import Role, Unit
from governance.core.scoping import Action, get_scope
from governance.exports.kinds import get_kind
from governance.exports.views import start_export
from grids.models import Level
from incidents.filters import IncidentFilter
from incidents.models import Category, Severity, Status
from mediation import selectors as mediation_selectors

MAP_ROLES = {Role.COMMAND_STAFF, Role.ADMINISTRATOR, Role.SUPERVISOR}
# Zoom levels at which the map switches to the next region level, and to markers.
LEVEL_ZOOMS = {Level.DISTRICT: 0, Level.STREET: 12, Level.COMMUNITY: 13, Level.GRID: 14}
MARKER_ZOOM = 14
# The filter query both pages start from (no filter: the incident list `/incidents/` unfiltered).
BASE_QUERY = ""


def _require_map_role(user) -> None:
    if user.is_superuser:
        return
    if not set(governance_selectors.roles_of(user)) & MAP_ROLES:
        raise PermissionDenied


def _bounds(user) -> list[list[float]] | None:
    roots = list(governance_selectors.top_regions(user))
    if not roots:
        return None
    return [[min(r.min_lat for r in roots), min(r.min_lng for r in roots)],
            [max(r.max_lat for r in roots), max(r.max_lng for r in roots)]]


def dispute_overlay(user) -> dict | None:
    """The "Dispute cases" overlay of the map page: where to fetch it and its words, or None.

    Offered only to those the one door lets see cases (``mediation.selectors.sees_cases``). The page
    carries no figures of its own: the script asks the mediation map API (``by_region``, scoped there)
    when the overlay is switched on, never in the first paint.
    """
    if not mediation_selectors.sees_cases(user):
        return None
    return {
        "api": reverse("api-mediation-map"),
        "list": reverse("mediation:list"),
        "labels": {"layer": _("Dispute cases"), "open": _("Open cases"), "red": _("Red-risk cases")},
    }


def map_config(request, *, big_screen: bool = False) -> dict:
    user = request.user
    scope = get_scope(user)
    units = list(Unit.objects.restrict(user, Action.VIEW).filter(is_active=True).order_by("home_region__path", "code")
                 .values("id", "name")) if not big_screen else []
    # The big screen has no layer control to switch the overlay on.
    disputes = None if big_screen else dispute_overlay(user)
    return {
        **({"disputes": disputes} if disputes else {}),
        "api": {
            "regions": reverse("api-map-regions"),
            "incidents": reverse("api-map-incidents"),
            "stats": reverse("api-map-stats"),
            "alerts": reverse("api-map-alerts"),
            "incident": reverse("api-incident-detail", args=[0]),
            "incidentPage": reverse("incidents:detail", args=[0]),
        },
        "tiles": tiles_config(),
        "bounds": _bounds(user),
        "defaultLevel": selectors.default_level(user),
        "levelZooms": {str(int(k)): v for k, v in LEVEL_ZOOMS.items()},
        "markerZoom": MARKER_ZOOM,
        "maxPoints": selectors.DEFAULT_POINTS,
        "canTriage": not scope.is_empty(Action.TRIAGE),
        "units": units,
        "bigScreen": big_screen,
        # The filters the page's requests start from. Empty on both pages: the big screen has no form and
        # shows what the map page shows before any filter is touched (the whole territory, every status),
        # so the two ask /api/v1/map/stats/ the same question and get the same figures from the same path.
        "baseQuery": BASE_QUERY,
        "refreshSeconds": 30 if big_screen else 60,
        "alertSeconds": 15,
        "labels": {
            "status": {value: str(label) for value, label in Status.choices},
            "severity": {value: str(label) for value, label in Severity.choices},
            "level": {str(int(lv)): str(lv.label) for lv in Level},
            "measure": {"open": _("Open incidents"), "overdue": _("Overdue incidents"),
                        "on_time_rate": _("On-time closure rate")},
            "newToday": _("New today"), "open": _("Open"), "overdue": _("Overdue"),
            "closureRate": _("Closure rate"), "onTimeRate": _("On-time closure rate"),
            "avgHours": _("Average handling time"), "hours": _("h"),
            "reported": _("Filed"), "closed": _("Closed"), "total": _("All"),
            "truncated": _("Showing %(n)s of the incidents in view; zoom in or filter to see them all."),
            "shown": _("%(n)s incidents in view"), "zoomIn": _("Zoom in to see single incidents."),
            "loading": _("Loading…"), "failed": _("Could not load; retrying shortly."),
            "noAlerts": _("No open alerts."), "acknowledge": _("Acknowledge"), "acknowledged": _("Acknowledged"),
            "showOnMap": _("Show on map"), "timeline": _("Timeline"), "photos": _("Photos"),
            "actions": _("Actions"), "noActions": _("No triage action is open to you on this incident now."),
            "note": _("Reason"), "unit": _("Lead unit"), "chooseUnit": _("Choose a unit"),
            "done": _("Done: %(action)s"), "conflict": _("Someone changed this incident a moment ago; reloaded."),
            "openPage": _("Open the full page"), "reporter": _("Reporter"), "category": _("Category"),
            "grid": _("Grid"), "reportedAt": _("Reported at"), "dueAt": _("Due"), "address": _("Address"),
            "unitLabel": _("Lead unit"), "close": _("Close"), "asOf": _("as of %(time)s"),
            "trend": _("Last 30 days"), "byCategory": _("By category"), "byRegion": _("By sub-region"),
            "overdueFlag": _("Overdue"), "noData": _("No incidents."),
        },
    }


def _filter_context(request) -> dict:
    filterset = IncidentFilter(request.GET or None, user=request.user)
    majors = Category.objects.filter(parent__isnull=True, is_active=True).order_by("sort_order", "code")
    return {
        "form": filterset.form,
        "majors": majors,
        "statuses": Status.choices,
        "severities": Severity.choices,
        "responsible_levels": [(lv.value, lv.label) for lv in Level if lv != Level.GRID],
        "map_levels": [(lv.value, lv.label) for lv in Level if lv != Level.CITY],
        "measures": [(m, map_config_label(m)) for m in MEASURES],
        "columns": [(c.key, c.label, c.checked, c.personal) for c in get_kind("incidents").column_choices()],
    }


def map_config_label(measure: str) -> str:
    return {"open": _("Open incidents"), "overdue": _("Overdue incidents"),
            "on_time_rate": _("On-time closure rate")}[measure]


@login_required
@require_GET
def map_page(request):
    _require_map_role(request.user)
    return render(request, "dashboards/map/map.html", {
        "map_config": map_config(request), **_filter_context(request),
        "can_triage": not get_scope(request.user).is_empty(Action.TRIAGE),
    })


@login_required
@require_GET
def big_screen(request):
    _require_map_role(request.user)
    return render(request, "dashboards/map/big_screen.html", {"map_config": map_config(request, big_screen=True)})


@login_required
@require_POST
def export(request):
    """Export the map's filtered list: the incident list's export (``incidents.exports``), for the map's roles."""
    _require_map_role(request.user)
    return start_export(request, "incidents")
