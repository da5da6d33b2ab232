"""Which grid holds a point: an STRtree over grid polygons, cached per process.

A point that no grid holds but a region does lies in a gap of the territory (an
import whose gaps an administrator accepted, or a boundary since moved): ``locate``
answers the deepest region that holds it, and ``locate_home`` (filing) the grid of
that region nearest to the point, so a report filed there is never refused as
"outside the city" (docs/decisions.md).

The tree is rebuilt when the territory changes, in every process, web or worker:

* the services announce each change (``territory_changed``) in their transaction;
  when it commits, the memo's token in the shared cache is replaced, and every
  lookup reads that token (one cache read), so other processes see a committed
  change at once; the writer's own transaction builds from the database until it
  commits (it sees its own change), and a rollback leaves the process's tree alone;
* the database version (the number of regions and the latest ``updated_at``) is
  read at most every ``RECHECK_SECONDS`` per process: it catches a change whose
  token was lost (the cache was down) or that nobody announced, within seconds.

Timestamps alone can miss a change: ``updated_at`` is set by the writer's
clock before its commit, so a writer whose clock lags, or whose transaction
commits after a later one, may leave the maximum where it was; the token is
part of the version for that reason. Reading the database version on every
lookup cost a millisecond of every filing (docs/performance.md).
"""

from __future__ import annotations

import bisect
import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import shapely
from django.db.models import Count, Max
from django.utils.translation import gettext as _
from shapely import STRtree

from governance.core.errors import InvalidInput
from governance.core.memo import SharedMemo
from grids import geometry
from grids.models import Level, Region


class OutsideCity(InvalidInput):
    code = "outside_city"

    def __init__(self, lat: float, lng: float):
        super().__init__(_("The point (%(lat).6f, %(lng).6f) lies outside the city.") % {"lat": lat, "lng": lng})


class NoGrid(InvalidInput):
    code = "no_grid"

    def __init__(self, region: Region):
        super().__init__(_("The point lies in %(region)s, which has no grid to file it in.") % {"region": region})


@dataclass(frozen=True)
class InGap:
    """Where a point that no grid holds lies: the deepest region that holds it, and how far the grid chosen is."""

    region: Region
    grid_distance_m: float


class Home(NamedTuple):
    """Where a report at a point is filed: its grid and the grid's community; ``gap`` when no grid holds the point."""

    grid: Region
    community: Region
    gap: InGap | None = None


@dataclass(frozen=True)
class _GridIndex:
    version: tuple
    tree: STRtree
    grid_ids: np.ndarray  # grid id of each geometry in the tree, ordered by path
    # grid id -> (grid, its community), without boundaries: what filing needs, read once per build
    homes: dict[int, tuple[Region, Region]]
    grid_paths: list[str]  # path of each grid in the tree (sorted): the grids under a region are a slice
    # the regions above the grids, for points in a gap: a tree of their boundaries in path order
    region_tree: STRtree
    region_ids: np.ndarray
    region_depths: np.ndarray
    regions: dict[int, Region]  # id -> region above the grids, without boundary


RECHECK_SECONDS = 5.0


def _current_version() -> tuple:
    agg = Region.objects.aggregate(n=Count("id"), latest=Max("updated_at"))  # every region: gaps need them all
    return (agg["n"], agg["latest"])


def _build(version: tuple) -> _GridIndex:
    # sorted here, not by the database's collation, so that bisecting grid_paths agrees with the tree's order
    everything = sorted(Region.objects.values_list("path", "id", "boundary", "depth", "level"))
    rows, above = [], []
    for _path, pk, boundary, depth, level in everything:
        (rows if level == Level.GRID else above).append((pk, boundary, depth))
    geoms = [geometry.parse_boundary(boundary) for _id, boundary, _depth in rows]
    regions = list(Region.objects.defer("boundary"))
    community_of = {r.path: r for r in regions if r.level == Level.COMMUNITY}
    homes = {r.pk: (r, community_of.get(r.path[: Level.COMMUNITY * Region.steplen]))
             for r in regions if r.level == Level.GRID}
    return _GridIndex(
        version, STRtree(geoms), np.array([pk for pk, _b, _d in rows], dtype=np.int64), homes,
        grid_paths=[path for path, _pk, _b, _d, level in everything if level == Level.GRID],
        region_tree=STRtree([geometry.parse_boundary(boundary) for _id, boundary, _depth in above]),
        region_ids=np.array([pk for pk, _b, _d in above], dtype=np.int64),
        region_depths=np.array([depth for _pk, _b, depth in above], dtype=np.int64),
        regions={r.pk: r for r in regions if r.level != Level.GRID},
    )


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
    """Grid ids for many (lat, lng) points at once; None for a point no grid holds (outside the city, or in a gap).

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


def _deepest_region(index: _GridIndex, lat: float, lng: float) -> Region | None:
    """The deepest region above the grids that holds the point (the first in path order among equals)."""
    hits = index.region_tree.query(shapely.points(lng, lat), predicate="covered_by")
    if len(hits) == 0:
        return None
    hits = np.sort(hits)
    best = hits[np.argmax(index.region_depths[hits])]  # argmax keeps the first of the deepest
    return index.regions[int(index.region_ids[best])]


def _nearest_grid(index: _GridIndex, region: Region, lat: float, lng: float) -> tuple[int, float] | None:
    """The grid under ``region`` nearest to the point, and its distance in metres; None when it has no grid."""
    lo = bisect.bisect_left(index.grid_paths, region.path)
    hi = bisect.bisect_left(index.grid_paths, region.path + "\x7f")  # past every path that starts with it
    if lo == hi:
        return None
    # distances on a plane scaled to the point's latitude (equirectangular): metres within a city
    scale = np.array([math.cos(math.radians(lat)), 1.0])
    grids = shapely.transform(index.tree.geometries[lo:hi], lambda coords: coords * scale)
    distances = shapely.distance(grids, shapely.points(lng * scale[0], lat))
    nearest = int(np.argmin(distances))
    return int(index.grid_ids[lo + nearest]), float(distances[nearest]) * geometry.EARTH_RADIUS_M * math.pi / 180


def locate_home(lat: float, lng: float) -> Home:
    """Where a report at the point is filed (grid and community, without boundaries), or ``OutsideCity``.

    In a gap of the territory the grid is the one nearest to the point among the grids of
    the deepest region that holds it (or, if that region has none, of the nearest ancestor
    that has), and ``gap`` says so: the report reaches a grid worker and a command centre.

    Read from the index, not the database: copies, so a caller may keep them on a new
    incident without touching the index. Names are as fresh as the index (a rename
    through ``grids.services`` rebuilds it at once; any other within ``RECHECK_SECONDS``).
    """
    index = grid_index()
    grid_id = _locate_in(index, [(lat, lng)])[0]
    gap = None
    if grid_id is None:
        region = _deepest_region(index, lat, lng)
        if region is None:
            raise OutsideCity(lat, lng)
        nearest = None
        for path in [region.path, *reversed(region.ancestor_paths())]:
            nearest = _nearest_grid(index, Region(path=path), lat, lng)
            if nearest is not None:
                break
        if nearest is None:
            raise NoGrid(region)
        grid_id, distance = nearest
        gap = InGap(region=copy.copy(region), grid_distance_m=distance)
    home = index.homes.get(grid_id)
    if home is None or home[1] is None:
        raise OutsideCity(lat, lng)
    grid, community = home
    return Home(copy.copy(grid), copy.copy(community), gap)


def locate(lat: float, lng: float) -> Region:
    """The grid that holds the point; in a gap, the deepest region that holds it; else ``OutsideCity``."""
    index = grid_index()
    grid_id = _locate_in(index, [(lat, lng)])[0]
    if grid_id is not None:
        return Region.objects.get(pk=grid_id)
    region = _deepest_region(index, lat, lng)
    if region is None:
        raise OutsideCity(lat, lng)
    return Region.objects.get(pk=region.pk)
