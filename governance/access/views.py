"""Pages of people and their places: where each user lands, the audit log, a region with its people and units."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from governance.access import selectors
from governance.access.models import Role, RoleAssignment, Unit
from governance.core.authority import access_object
from governance.core.scoping import Action, get_scope
from grids.models import Region

# Which page a role lands on, by URL name. The dashboards app registers its pages here when it starts
# (dashboards.apps), so this kernel names no app above it.
DASHBOARD_OF_ROLE: dict[str, str] = {}


def register_dashboard(role: str, url_name: str) -> None:
    DASHBOARD_OF_ROLE[role] = url_name


@login_required
def home(request):
    """Send each user to the dashboard of their main role."""
    role = selectors.primary_role(request.user)
    if role is None or role not in DASHBOARD_OF_ROLE:
        return render(request, "governance/no_role.html", status=200)
    return redirect(DASHBOARD_OF_ROLE[role])


@login_required
def audit_log(request):
    """Who changed what, for administrators, within what they administer."""
    if get_scope(request.user).is_empty(Action.ADMINISTER):
        raise PermissionDenied
    return render(request, "governance/audit_log.html", {"entries": selectors.audit_entries(request.user)})


@login_required
def region_detail(request, pk: int):
    region = access_object(Region.objects.all(), request.user, pk=pk)
    children = Region.objects.restrict(request.user).filter(
        path__startswith=region.path, depth=region.depth + 1).order_by("path")
    ancestors = list(Region.objects.filter(path__in=region.ancestor_paths()).order_by("depth"))
    # A region above the user's territory is named in the breadcrumbs but not linked (its page would be a 404).
    openable = set(Region.objects.restrict(request.user).filter(pk__in=[a.pk for a in ancestors])
                   .values_list("pk", flat=True))
    for ancestor in ancestors:
        ancestor.openable = ancestor.pk in openable
    workers = RoleAssignment.objects.active().filter(region=region, role=Role.GRID_WORKER).select_related("user")
    units = Unit.objects.restrict(request.user).filter(home_region=region)
    return render(request, "grids/region_detail.html", {
        "region": region, "children": children, "ancestors": ancestors, "workers": workers, "units": units,
    })
