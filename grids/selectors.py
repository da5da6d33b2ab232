"""Reads of the territory, scoped to the user."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.core.scoping import Action
from grids.models import Region


def regions_visible_to(user, action: str = Action.VIEW) -> QuerySet[Region]:
    return Region.objects.restrict(user, action)


def ancestors_by_path(regions) -> dict[str, Region]:
    """Every ancestor of the given regions, in one query, by path."""
    paths = {p for r in regions for p in r.ancestor_paths()}
    return {r.path: r for r in Region.objects.filter(path__in=paths)}
