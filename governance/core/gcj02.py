"""WGS-84 ⇄ GCJ-02, for tile servers that draw China in GCJ-02 ("Mars coordinates").

Incidents and boundaries are stored in WGS-84 (what phones' GPS reports). Tiles
published in China are usually shifted into GCJ-02 by a few hundred metres;
``settings.MAP_TILES_GCJ02`` says so, and the map API then converts what it sends
for display (and the bounding box it receives back). Why a module of our own and
not a package: docs/map.md, "GCJ-02".

The forward formula is the widely published one (krasnogorsk ellipsoid, the
same constants as every open implementation). The inverse has no closed form;
a few fixed-point iterations of the forward transform bring it below 1e-7°
(about a centimetre), far below what a map shows.
"""

from __future__ import annotations

import math

A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02
EE = 0.00669342162296594323  # its first eccentricity squared


def out_of_china(lat: float, lng: float) -> bool:
    """Outside the rough box where GCJ-02 applies: positions there are left alone."""
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _offset(lat: float, lng: float) -> tuple[float, float]:
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((A * (1 - EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lat, d_lng


def wgs_to_gcj(lat: float, lng: float) -> tuple[float, float]:
    """(lat, lng) in WGS-84 → (lat, lng) in GCJ-02."""
    if out_of_china(lat, lng):
        return lat, lng
    d_lat, d_lng = _offset(lat, lng)
    return lat + d_lat, lng + d_lng


def gcj_to_wgs(lat: float, lng: float, *, iterations: int = 6) -> tuple[float, float]:
    """(lat, lng) in GCJ-02 → (lat, lng) in WGS-84, by fixed-point iteration of the forward transform."""
    if out_of_china(lat, lng):
        return lat, lng
    w_lat, w_lng = lat, lng
    for _ in range(iterations):
        g_lat, g_lng = wgs_to_gcj(w_lat, w_lng)
        w_lat, w_lng = w_lat - (g_lat - lat), w_lng - (g_lng - lng)
    return w_lat, w_lng


def convert_geometry(geometry: dict) -> dict:
    """A GeoJSON Polygon or MultiPolygon (lng, lat order) with every position moved into GCJ-02."""

    def ring(positions):
        return [list(reversed(wgs_to_gcj(p[1], p[0]))) for p in positions]

    kind = geometry.get("type")
    if kind == "Polygon":
        return {"type": kind, "coordinates": [ring(r) for r in geometry["coordinates"]]}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [[ring(r) for r in poly] for poly in geometry["coordinates"]]}
    return geometry
