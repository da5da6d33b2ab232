"""Which grid holds a point: an STRtree over grid polygons, kept per process (``governance.memo``).

The tree is rebuilt when the territory changes, in every process, web or worker:

* the services announce each change (``territory_changed``) in their transaction;
  when it commits, the memo's token in the shared cache is replaced, and every
  lookup reads that token (one cache read), so other processes see a committed
  change at once; the writer's own transaction builds from the database until it
  commits (it sees its own change), and a rollback leaves the process's tree alone;
* the database version (the number of grids and the latest ``updated_at``) is
  read at most every ``RECHECK_SECONDS`` per process: it catches a change whose
  token was lost (the cache was down) or that nobody announced, within seconds.

Timestamps alone can miss a change: ``updated_at`` is set by the writer's
clock before its commit, so a writer whose clock lags, or whose transaction
commits after a later one, may leave the maximum where it was; the token is
there for that reason. Reading the database version on every lookup cost a
millisecond of every filing (docs/performance.md).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from django.db.models import Count, Max
from django.utils.translation import gettext as _
from shapely import STRtree

from governance.errors import InvalidInput
from governance.memo import SharedMemo
from grids import geometry
from grids.models import Level, Region


class OutsideCity(InvalidInput):
    code = "outside_city"

    def __init__(self, lat: float, lng: float):
        super().__init__(_("The point (%(lat).6f, %(lng).6f) lies outside the city.") % {"lat": lat, "lng": lng})


@dataclass(frozen=True)
class _GridIndex:
    version: tuple  # (number of grids, latest updated_at) when built
    tree: STRtree
    grid_ids: np.ndarray  # grid id of each geometry in the tree, ordered by path
    # grid id -> (grid, its community), without boundaries: what filing needs, read once per build
    homes: dict[int, tuple[Region, Region]]


RECHECK_SECONDS = 5.0


def _current_version() -> tuple:
    agg = Region.objects.filter(level=Level.GRID).aggregate(n=Count("id"), latest=Max("updated_at"))
    return (agg["n"], agg["latest"])


def _build(version: tuple) -> _GridIndex:
    rows = list(Region.objects.filter(level=Level.GRID).order_by("path").values_list("id", "boundary"))
    geoms = [geometry.parse_boundary(boundary) for _id, boundary in rows]
    regions = list(Region.objects.filter(level__in=[Level.COMMUNITY, Level.GRID]).defer("boundary"))
    community_of = {r.path: r for r in regions if r.level == Level.COMMUNITY}
    homes = {r.pk: (r, community_of.get(r.path[: Level.COMMUNITY * Region.steplen]))
             for r in regions if r.level == Level.GRID}
    return _GridIndex(version, STRtree(geoms), np.array([pk for pk, _b in rows], dtype=np.int64), homes)


# Looked up by name at call time, so a test may count the builds.
GRID_INDEX: SharedMemo[_GridIndex] = SharedMemo(
    "grids:territory", version=lambda: _current_version(), build=lambda version: _build(version),
    recheck_seconds=RECHECK_SECONDS, key="grids:territory-change-token", clock=lambda: time.monotonic(),
)
CHANGE_TOKEN_KEY = GRID_INDEX.key


def territory_changed() -> None:
    """Tell every process that boundaries changed, once the current transaction commits."""
    GRID_INDEX.changed()


def grid_index() -> _GridIndex:
    return GRID_INDEX.get()


def invalidate() -> None:
    """Forget this process's tree: the next lookup builds it again."""
    GRID_INDEX.forget()


def locate_many(points: Sequence[tuple[float, float]]) -> list[int | None]:
    """Grid ids for many (lat, lng) points at once; None for a point outside the city.

    A point on an edge or corner shared by several grids belongs to the grid
    first in tree order, so the answer is the same every time.
    """
    if not points:
        return []
    return _locate_in(grid_index(), points)


def _locate_in(index: _GridIndex, points: Sequence[tuple[float, float]]) -> list[int | None]:
    geoms = shapely.points([(lng, lat) for lat, lng in points])
    point_idx, tree_idx = index.tree.query(geoms, predicate="covered_by")
    # the tree is in path order: for each point keep the lowest tree index
    none = len(index.grid_ids)
    best = np.full(len(points), none, dtype=np.int64)
    np.minimum.at(best, point_idx, tree_idx)
    return [int(index.grid_ids[t]) if t != none else None for t in best.tolist()]


def locate_home(lat: float, lng: float) -> tuple[Region, Region]:
    """The grid that holds the point and its community (without boundaries), or ``OutsideCity``.

    Read from the index, not the database: copies, so a caller may keep them on a new
    incident without touching the index. Names are as fresh as the index (a rename
    through ``grids.services`` rebuilds it at once; any other within ``RECHECK_SECONDS``).
    """
    index = grid_index()
    grid_id = _locate_in(index, [(lat, lng)])[0]
    home = index.homes.get(grid_id) if grid_id is not None else None
    if home is None or home[1] is None:
        raise OutsideCity(lat, lng)
    grid, community = home
    return copy.copy(grid), copy.copy(community)


def locate(lat: float, lng: float) -> Region:
    """The grid that holds the point, or ``OutsideCity``."""
    grid_id = locate_many([(lat, lng)])[0]
    if grid_id is None:
        raise OutsideCity(lat, lng)
    return Region.objects.get(pk=grid_id)
