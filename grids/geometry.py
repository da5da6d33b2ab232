"""Boundary geometry with shapely: parsing and the rules of the tree.

Boundaries are GeoJSON in lng/lat (WGS-84). Areas are compared as shares of a
polygon's own area, so the tolerance means the same at every level.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.utils.translation import gettext as _
from shapely import STRtree
from shapely.errors import ShapelyError
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from governance.errors import InvalidInput

# The one Earth of the portal: a sphere of the mean radius. Distances (incidents' duplicates),
# the search boxes around a point and the areas of regions are all measured on it.
EARTH_RADIUS_M = 6_371_000.0


class BoundaryError(InvalidInput):
    code = "invalid_boundary"


@dataclass(frozen=True)
class Extent:
    centroid_lat: float
    centroid_lng: float
    min_lat: float
    min_lng: float
    max_lat: float
    max_lng: float


def parse_boundary(geojson: Any) -> Polygon | MultiPolygon:
    """A valid Polygon or MultiPolygon from GeoJSON, or a BoundaryError that says why."""
    if not isinstance(geojson, dict) or "type" not in geojson:
        raise BoundaryError(_("The boundary is not a GeoJSON geometry object."))
    if geojson["type"] not in {"Polygon", "MultiPolygon"}:
        raise BoundaryError(
            _("The boundary must be a Polygon or MultiPolygon, not %(type)s.") % {"type": geojson["type"]}
        )
    try:
        with warnings.catch_warnings():
            # NaN coordinates make numpy warn; they are reported below as unreadable
            warnings.simplefilter("ignore", RuntimeWarning)
            geom = shape(geojson)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ShapelyError) as exc:
        raise BoundaryError(_("The boundary's coordinates cannot be read: %(error)s.") % {"error": exc}) from exc
    if geom.is_empty:
        raise BoundaryError(_("The boundary is empty."))
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        raise BoundaryError(_("The boundary's coordinates cannot be read: they are not all finite numbers."))
    # Heights, when a file carries them, mean nothing to the tree.
    geom = shapely.force_2d(geom)
    if not geom.is_valid:
        raise BoundaryError(_("The boundary is not a valid polygon: %(reason)s.") % {"reason": explain_validity(geom)})
    if geom.area <= 0:
        raise BoundaryError(_("The boundary encloses no area."))
    min_lng, min_lat, max_lng, max_lat = geom.bounds
    if not (-180 <= min_lng <= max_lng <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise BoundaryError(_("The boundary's coordinates are not longitude/latitude."))
    return geom


def extent(geom: BaseGeometry) -> Extent:
    # representative_point() lies inside even for a crescent-shaped region
    centroid = geom.centroid if geom.contains(geom.centroid) else geom.representative_point()
    min_lng, min_lat, max_lng, max_lat = geom.bounds
    return Extent(centroid.y, centroid.x, min_lat, min_lng, max_lat, max_lng)


def to_geojson(geom: BaseGeometry) -> dict:
    data = mapping(geom)
    # shapely gives tuples; JSON fields and exports want lists
    return {"type": data["type"], "coordinates": _listify(data["coordinates"])}


def _listify(value):
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    return value


def tolerance() -> float:
    return settings.TERRITORY_AREA_TOLERANCE


def outside_share(geom: BaseGeometry, parent_geom: BaseGeometry) -> float:
    """The share (0..1) of ``geom``'s area that lies outside ``parent_geom``."""
    # covers() is cheap, and cheaper still on a prepared parent shared by many
    # children; the difference is only computed when it can be non-zero.
    if parent_geom.covers(geom):
        return 0.0
    return geom.difference(parent_geom).area / geom.area


def check_inside_parent(geom: BaseGeometry, parent_geom: BaseGeometry) -> None:
    share = outside_share(geom, parent_geom)
    if share > tolerance():
        raise BoundaryError(
            _("The boundary lies %(share).2f%% outside its parent region.") % {"share": 100 * share}
        )


def overlaps_beyond_tolerance(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Do two siblings share more area than the tolerance allows? A shared edge or corner is fine."""
    if a.touches(b):
        return False
    return a.intersection(b).area > tolerance() * min(a.area, b.area)


def check_no_overlap(geom: BaseGeometry, siblings: Iterable[tuple[str, BaseGeometry]]) -> None:
    """Raise when ``geom`` overlaps any sibling by more than the tolerance."""
    siblings = list(siblings)
    if not siblings:
        return
    tree = STRtree([g for _name, g in siblings])
    for index in sorted(tree.query(geom, predicate="intersects").tolist()):
        name, other = siblings[index]
        if overlaps_beyond_tolerance(geom, other):
            raise BoundaryError(_("The boundary overlaps its sibling %(name)s.") % {"name": name})


def overlapping_pairs(geoms: Sequence[BaseGeometry], *, queried: int | None = None) -> list[tuple[int, int]]:
    """Every pair ``(i, j)``, ``i < j``, of geometries that overlap beyond the tolerance.

    With ``queried``, only pairs whose first member is among the first
    ``queried`` geometries (the new ones; the rest are already known to fit).
    One STRtree for the whole group, so a community with hundreds of grids
    costs one bulk query, not a tree per grid.
    """
    geoms = list(geoms)
    queried = len(geoms) if queried is None else queried
    if len(geoms) < 2 or queried == 0:
        return []
    tree = STRtree(geoms)
    left, right = tree.query(geoms[:queried], predicate="intersects")
    pairs = []
    for i, j in sorted(zip(left.tolist(), right.tolist(), strict=True)):
        if i < j and overlaps_beyond_tolerance(geoms[i], geoms[j]):
            pairs.append((i, j))
    return pairs
