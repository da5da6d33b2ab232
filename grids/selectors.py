"""Reads of the territory, scoped to the user."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from governance.models import Role, RoleAssignment
from governance.scoping import Action
from grids.models import Level, Region


def regions_visible_to(user, action: str = Action.VIEW) -> QuerySet[Region]:
    return Region.objects.restrict(user, action)


def grids_of_worker(user) -> QuerySet[Region]:
    """The grids a grid worker is assigned to, with the names above them at hand."""
    grid_ids = RoleAssignment.objects.active().filter(user=user, role=Role.GRID_WORKER).values("region_id")
    return Region.objects.filter(pk__in=grid_ids).order_by("path")


def ancestors_by_path(regions) -> dict[str, Region]:
    """Every ancestor of the given regions, in one query, by path."""
    paths = {p for r in regions for p in r.ancestor_paths()}
    return {r.path: r for r in Region.objects.filter(path__in=paths)}


@dataclass(frozen=True)
class TerritorySummary:
    region: Region
    counts: dict[str, int]  # level label -> number of regions below
    grid_workers: int


def territory_summaries(user) -> list[TerritorySummary]:
    """For each root of the user's scope: how many regions of each level lie below, and the grid workers."""
    from governance.selectors import top_regions

    summaries = []
    for region in top_regions(user):
        below = Region.objects.filter(path__startswith=region.path, depth__gt=region.depth)
        # order_by(): the default ordering by path would split the groups
        by_level = dict(below.order_by().values_list("level").annotate(n=Count("id")).values_list("level", "n"))
        workers = RoleAssignment.objects.active().filter(
            Q(region__path__startswith=region.path), role=Role.GRID_WORKER
        ).values("user").distinct().count()
        summaries.append(TerritorySummary(
            region=region,
            counts={Level(level).label: by_level[level] for level in sorted(by_level)},
            grid_workers=workers,
        ))
    return summaries
