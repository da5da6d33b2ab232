"""Role dashboards. Each reads through selectors, which go through the scoping door.

Several dashboards are filled in by later issues (the alert engine, the map,
mediation, pilot-task ledgers); until then they show the user's scope and say
plainly what is coming.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import render
from django.utils import timezone

from dashboards.map import stats as map_stats
from governance.access import selectors
from governance.access.models import Role
from governance.calendar import workcalendar
from governance.core.scoping import Action, get_scope
from governance.ledgers import selectors as ledger_selectors
from incidents import selectors as incident_selectors
from incidents.models import Status, overdue_q
from incidents.views import decorate

RECENT = 5


def incident_counts(queryset) -> dict[str, int]:
    """Open and overdue incidents of a scoped queryset, and those waiting for acceptance."""
    open_incidents = queryset.open()
    return {
        "open": open_incidents.count(),
        "overdue": open_incidents.filter(overdue_q(timezone.now())).count(),
        "reported": open_incidents.filter(status=Status.REPORTED).count(),
    }


def _require_role(request, *roles):
    if request.user.is_superuser:
        return
    if not set(selectors.roles_of(request.user)) & set(roles):
        raise PermissionDenied


def _context(request, role, **extra):
    return {
        "role": role,
        "role_label": Role(role).label,
        "roles": [Role(r) for r in selectors.roles_of(request.user)],
        **extra,
    }


@login_required
def grid_worker(request):
    _require_role(request, Role.GRID_WORKER)
    grids = selectors.grids_of_worker(request.user)
    incidents = incident_selectors.incident_list(request.user).filter(grid__in=grids)
    return render(request, "dashboards/grid_worker.html", _context(
        request, Role.GRID_WORKER, grids=grids, counts=incident_counts(incidents),
        recent=decorate(list(incidents.open()[:RECENT])),
    ))


@login_required
def command_centre(request):
    _require_role(request, Role.COMMAND_STAFF, Role.ADMINISTRATOR)
    summaries = selectors.territory_summaries(request.user)
    queue = incident_selectors.triage_queue(request.user)
    return render(request, "dashboards/command.html", _context(
        request, Role.COMMAND_STAFF, summaries=summaries, counts=incident_counts(queue),
    ))


@login_required
def unit_handler(request):
    _require_role(request, Role.UNIT_HANDLER)
    units = selectors.units_of(request.user, Action.HANDLE)
    queue = incident_selectors.unit_queue(request.user)
    return render(request, "dashboards/unit.html", _context(
        request, Role.UNIT_HANDLER, units=units, counts=incident_counts(queue),
        recent=decorate(list(queue.filter(status=Status.DISPATCHED)[:RECENT])),
        programmes=ledger_selectors.programme_list(request.user),
    ))


@login_required
def mediator(request):
    _require_role(request, Role.MEDIATOR)
    units = selectors.units_of(request.user, Action.MEDIATE)
    return render(request, "dashboards/mediator.html", _context(request, Role.MEDIATOR, units=units))


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def territory_figures(user) -> dict:
    """The territory's incident figures as the command-centre map counts them (``dashboards.map.stats``):
    today's new, open, overdue, closure and on-time rates, a 30-day trend and the rates by sub-region."""
    figures = map_stats.compute_figures(user, QueryDict())
    peak = max([max(day["reported"], day["closed"]) for day in figures.trend] + [1])
    trend = [{**day, "reported_width": round(day["reported"] * 100 / peak), "closed_width": round(
        day["closed"] * 100 / peak)} for day in figures.trend]
    regions = [{**row, "closure_percent": _percent(row["closure_rate"]), "on_time_percent": _percent(
        row["on_time_rate"])} for row in figures.by_region]
    return {"figures": figures, "closure_percent": _percent(figures.closure_rate),
            "on_time_percent": _percent(figures.on_time_rate), "trend": trend, "regions": regions}


@login_required
def supervisor(request):
    _require_role(request, Role.SUPERVISOR)
    summaries = selectors.territory_summaries(request.user)
    return render(request, "dashboards/supervisor.html", _context(
        request, Role.SUPERVISOR, summaries=summaries, **territory_figures(request.user),
        programmes=ledger_selectors.programme_list(request.user)))


@login_required
def administrator(request):
    if get_scope(request.user).is_empty(Action.ADMINISTER):
        raise PermissionDenied
    summaries = selectors.territory_summaries(request.user)
    entries = selectors.audit_entries(request.user, limit=20)
    return render(request, "dashboards/administrator.html",
                  _context(request, Role.ADMINISTRATOR, summaries=summaries, entries=entries,
                           calendar_warnings=workcalendar.calendar_warnings()))
