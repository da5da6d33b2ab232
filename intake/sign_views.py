"""Staff pages for the grids' signs: a region's grids with their signs, one sign's PDF, the batch export."""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from governance.core.scoping import Action
from governance.exports.views import export_controls
from grids.models import Level, Region
from intake import services, signs
from intake.models import Sign
from intake.pdf import write_signs


def _base(request) -> str:
    return signs.base_url(request.build_absolute_uri("/"))


@login_required
@require_GET
def sign_list(request):
    regions = Region.objects.restrict(request.user, Action.VIEW).defer("boundary")
    region = None
    raw = request.GET.get("region", "")
    if raw.isdigit():
        region = regions.filter(pk=int(raw)).first()
        if region is None:
            raise Http404
    if region is None:
        region = regions.order_by("depth", "path").first()
        if region is None:
            raise Http404
    # Every grid of the region the user sees, with its sign's state; the print link only where the user manages
    # the signs (printing issues a sign). A supervisor, who only sees, follows which grids have a sign.
    grids = list(regions.grids().filter(path__startswith=region.path).order_by("path")[:500])
    printable = set(signs.grids_for_signs(request.user, region).filter(pk__in=[g.pk for g in grids])
                    .values_list("pk", flat=True))
    in_force = {s.grid_id: s for s in Sign.objects.filter(grid__in=grids, revoked_at__isnull=True)}
    rows = [(grid, in_force.get(grid.pk), grid.pk in printable) for grid in grids]
    choices = regions.filter(level__lte=Level.COMMUNITY).order_by("path")[:300]
    return render(request, "intake/signs.html", {
        "region": region, "rows": rows, "choices": choices, "export": export_controls(request, "grid_signs"),
        "read_only": bool(rows) and not printable, "base_url": _base(request)})


@login_required
@require_GET
def sign_pdf(request, grid_id: int):
    grid = Region.objects.restrict(request.user, Action.VIEW).defer("boundary").filter(pk=grid_id).first()
    if grid is None:
        raise Http404
    if grid.level != Level.GRID:
        raise Http404
    if not services.may_manage_signs(request.user, grid):
        raise PermissionDenied
    out = io.BytesIO()
    write_signs(out, [signs.sheet_for(grid, acting_user=request.user, base=_base(request))])
    response = HttpResponse(out.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="sign-{grid.code}.pdf"'
    return response
