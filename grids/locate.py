"""Which grid holds a point: an STRtree over grid polygons, cached per process.

The cache is keyed by a version read from the database (the number of grids
and the latest ``updated_at``), so a boundary changed by any process, web or
worker, rebuilds the tree on the next lookup everywhere. One small indexed
query per lookup is the price of never answering from a stale tree.

Timestamps alone can miss a change: ``updated_at`` is set by the writer's
clock before its commit, so a writer whose clock lags, or whose transaction
commits after a later one, may leave the maximum where it was. The services
therefore also put a fresh token in the shared cache after each commit that
changes the territory (``territory_changed``); the token is part of the
version too.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils.translation import gettext as _
from shapely import STRtree

from governance.errors import InvalidInput
from grids import geometry
from grids.models import Level, Region


class OutsideCity(InvalidInput):
    code = "outside_city"

    def __init__(self, lat: float, lng: float):
        super().__init__(_("The point (%(lat).6f, %(lng).6f) lies outside the city.") % {"lat": lat, "lng": lng})


@dataclass(frozen=True)
class _GridIndex:
    version: tuple
    tree: STRtree
    grid_ids: np.ndarray  # grid id of each geometry in the tree, ordered by path


_lock = threading.Lock()
_index: _GridIndex | None = None

CHANGE_TOKEN_KEY = "grids:territory-change-token"
logger = logging.getLogger(__name__)


def territory_changed() -> None:
    """Tell every process that boundaries changed, once the current transaction commits.

    A fresh random token rather than a counter: two writers can never leave
    the same value behind, whatever order they commit in.
    """
    transaction.on_commit(lambda: cache.set(CHANGE_TOKEN_KEY, uuid.uuid4().hex, timeout=None), robust=True)


def _change_token() -> str | None:
    try:
        return cache.get(CHANGE_TOKEN_KEY)
    except Exception:  # the cache server is down: the database part of the version still holds
        logger.warning("cannot read the territory change token from the cache", exc_info=True)
        return None


def _current_version() -> tuple:
    agg = Region.objects.filter(level=Level.GRID).aggregate(n=Count("id"), latest=Max("updated_at"))
    return (agg["n"], agg["latest"], _change_token())


def _build(version: tuple) -> _GridIndex:
    rows = list(Region.objects.filter(level=Level.GRID).order_by("path").values_list("id", "boundary"))
    geoms = [geometry.parse_boundary(boundary) for _id, boundary in rows]
    return _GridIndex(version, STRtree(geoms), np.array([pk for pk, _b in rows], dtype=np.int64))


def grid_index() -> _GridIndex:
    global _index
    version = _current_version()
    index = _index
    if index is None or index.version != version:
        with _lock:
            if _index is None or _index.version != version:
                _index = _build(version)
            index = _index
    return index


def invalidate() -> None:
    global _index
    _index = None


def locate_many(points: Sequence[tuple[float, float]]) -> list[int | None]:
    """Grid ids for many (lat, lng) points at once; None for a point outside the city.

    A point on an edge or corner shared by several grids belongs to the grid
    first in tree order, so the answer is the same every time.
    """
    if not points:
        return []
    index = grid_index()
    geoms = shapely.points([(lng, lat) for lat, lng in points])
    point_idx, tree_idx = index.tree.query(geoms, predicate="covered_by")
    # the tree is in path order: for each point keep the lowest tree index
    none = len(index.grid_ids)
    best = np.full(len(points), none, dtype=np.int64)
    np.minimum.at(best, point_idx, tree_idx)
    return [int(index.grid_ids[t]) if t != none else None for t in best.tolist()]


def locate(lat: float, lng: float) -> Region:
    """The grid that holds the point, or ``OutsideCity``."""
    grid_id = locate_many([(lat, lng)])[0]
    if grid_id is None:
        raise OutsideCity(lat, lng)
    return Region.objects.get(pk=grid_id)
