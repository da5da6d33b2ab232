"""The sheets of grid signs: what each printed sign says, for one grid or every grid under a region."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from governance.access.models import Role, RoleAssignment
from governance.core.names import display_name
from grids.models import Level, Region
from intake import services
from intake.pdf import SignSheet


def base_url(candidate: str = "") -> str:
    """Where the QR codes point: ``PUBLIC_BASE_URL``, else the address the printing user reached the portal at."""
    url = (settings.PUBLIC_BASE_URL or candidate or "").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "http://localhost:8000"
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def sheet_for(grid: Region, *, acting_user, base: str) -> SignSheet:
    sign = services.sign_in_force(grid=grid, acting_user=acting_user)
    workers = (RoleAssignment.objects.active().filter(role=Role.GRID_WORKER, region=grid)
               .select_related("user").order_by("assigned_at"))
    ancestors = Region.objects.filter(path__in=grid.ancestor_paths(), level__gte=Level.DISTRICT).order_by("depth")
    return SignSheet(
        grid_name=grid.name, grid_code=grid.code, parents=" · ".join(r.name for r in ancestors),
        workers=[display_name(a.user) for a in workers if a.user.is_active],
        hotline=settings.INTAKE_SIGN_HOTLINE,
        url=base + reverse("intake:quick-report", args=[services.sign_token(sign)]),
    )


def grids_for_signs(user, region: Region):
    """The grids under ``region`` whose signs ``user`` may print (command centres and administrators)."""
    from django.db.models import Q

    from governance.core.scoping import Action, get_scope

    scope = get_scope(user)
    grids = Region.objects.grids().filter(path__startswith=region.path).defer("boundary").order_by("path")
    if scope.everything:
        return grids
    allowed = [*scope.paths(Action.TRIAGE), *scope.paths(Action.ADMINISTER)]
    if not allowed:
        return grids.none()
    q = Q()
    for path in allowed:
        q |= Q(path__startswith=path)
    return grids.filter(q)


def sheets(user, region: Region, base: str) -> Iterator[SignSheet]:
    for grid in grids_for_signs(user, region).iterator(chunk_size=200):
        yield sheet_for(grid, acting_user=user, base=base)
