"""Boundary geometry with shapely: parsing and the rules of the tree.

Boundaries are GeoJSON in lng/lat (WGS-84). Areas are compared as shares of a
polygon's own area, so the tolerance means the same at every level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from shapely import STRtree
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from governance.errors import InvalidInput


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


def parse_boundary(geojson) -> Polygon | MultiPolygon:
    """A valid Polygon or MultiPolygon from GeoJSON, or a BoundaryError that says why."""
    if not isinstance(geojson, dict) or "type" not in geojson:
        raise BoundaryError(_("The boundary is not a GeoJSON geometry object."))
    if geojson["type"] not in {"Polygon", "MultiPolygon"}:
        raise BoundaryError(
            _("The boundary must be a Polygon or MultiPolygon, not %(type)s.") % {"type": geojson["type"]}
        )
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise BoundaryError(_("The boundary's coordinates cannot be read: %(error)s.") % {"error": exc}) from exc
    if geom.is_empty:
        raise BoundaryError(_("The boundary is empty."))
    if not geom.is_valid:
        raise BoundaryError(_("The boundary is not a valid polygon: %(reason)s.") % {"reason": explain_validity(geom)})
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


def check_inside_parent(geom: BaseGeometry, parent_geom: BaseGeometry) -> None:
    outside = geom.difference(parent_geom).area
    if outside > tolerance() * geom.area:
        share = 100 * outside / geom.area
        raise BoundaryError(_("The boundary lies %(share).2f%% outside its parent region.") % {"share": share})


def check_no_overlap(geom: BaseGeometry, siblings: Iterable[tuple[str, BaseGeometry]]) -> None:
    """Raise when ``geom`` overlaps any sibling by more than the tolerance."""
    siblings = list(siblings)
    if not siblings:
        return
    tree = STRtree([g for _name, g in siblings])
    for index in tree.query(geom, predicate="intersects"):
        name, other = siblings[int(index)]
        shared = geom.intersection(other).area
        if shared > tolerance() * min(geom.area, other.area):
            raise BoundaryError(_("The boundary overlaps its sibling %(name)s.") % {"name": name})
