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

from governance.core.errors import InvalidInput

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
    _check_rings_closed(geojson)
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


def _check_rings_closed(geojson: dict) -> None:
    """GeoJSON requires every ring to end where it starts (RFC 7946, 3.1.6); shapely would close it silently.

    A ring that cannot be read at all, or has fewer than three positions, is left to shapely, which says why.
    """
    polygons = geojson.get("coordinates")
    if geojson["type"] == "Polygon":
        polygons = [polygons]
    if not isinstance(polygons, list):
        return
    for p, rings in enumerate(polygons, start=1):
        if not isinstance(rings, list):
            continue
        for r, ring in enumerate(rings, start=1):
            if isinstance(ring, list) and len(ring) >= 3 and ring[0] != ring[-1]:
                where = (_("ring %(ring)d of polygon %(polygon)d") % {"ring": r, "polygon": p}
                         if geojson["type"] == "MultiPolygon" else _("ring %(ring)d") % {"ring": r})
                raise BoundaryError(
                    _("The boundary's %(where)s is not closed: GeoJSON requires its last position to repeat "
                      "its first.") % {"where": where})


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


# --- Areas and gaps ------------------------------------------------------------------

def area_m2(geom: BaseGeometry) -> float:
    """The area of a lng/lat geometry in square metres, on the sphere of ``EARTH_RADIUS_M``.

    The sinusoidal projection (x = lng·cos(lat), y = lat) keeps areas: exact on the sphere
    up to the straightness of the edges, which at the size of a city is far below a metre.
    """
    def project(coords: np.ndarray) -> np.ndarray:
        lng, lat = np.radians(coords[:, 0]), np.radians(coords[:, 1])
        return np.column_stack((EARTH_RADIUS_M * lng * np.cos(lat), EARTH_RADIUS_M * lat))

    return float(shapely.transform(geom, project).area)


@dataclass(frozen=True)
class Gap:
    """The part of a region that none of its children covers."""

    share: float  # of the region's area, 0..1
    area_m2: float
    pieces: int
    lat: float  # a point inside the largest piece
    lng: float

    def describe(self) -> str:
        area = (_("about %(km2).2f km²") % {"km2": self.area_m2 / 1e6} if self.area_m2 >= 1e5
                else _("about %(m2).0f m²") % {"m2": self.area_m2})
        return _("%(share).2f%% of its area (%(area)s, in %(pieces)d piece(s)) is covered by none of its "
                 "children, around %(lat).6f, %(lng).6f") % {
            "share": 100 * self.share, "area": area, "pieces": self.pieces, "lat": self.lat, "lng": self.lng}


def uncovered(region: BaseGeometry, children: Sequence[BaseGeometry]) -> Gap | None:
    """What of ``region`` its ``children`` leave uncovered, or None when it is within the tolerance.

    A region without children is uncovered as a whole: no point in it lands in a grid.
    """
    rest = region.difference(shapely.union_all(children)) if children else region
    share = rest.area / region.area
    if rest.is_empty or share <= tolerance():
        return None
    pieces = list(getattr(rest, "geoms", [rest]))
    pieces = [piece for piece in pieces if piece.area > 0]
    largest = max(pieces, key=lambda piece: piece.area)
    where = largest.representative_point()
    return Gap(share=share, area_m2=area_m2(rest), pieces=len(pieces), lat=where.y, lng=where.x)
