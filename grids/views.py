from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from governance.access import access_object
from governance.models import Role, RoleAssignment, Unit
from grids.models import Region


@login_required
def region_detail(request, pk: int):
    region = access_object(Region.objects.all(), request.user, pk=pk)
    children = Region.objects.restrict(request.user).filter(
        path__startswith=region.path, depth=region.depth + 1).order_by("path")
    ancestors = Region.objects.filter(path__in=region.ancestor_paths()).order_by("depth")
    workers = RoleAssignment.objects.active().filter(region=region, role=Role.GRID_WORKER).select_related("user")
    units = Unit.objects.restrict(request.user).filter(home_region=region)
    return render(request, "grids/region_detail.html", {
        "region": region, "children": children, "ancestors": ancestors, "workers": workers, "units": units,
    })
