"""The rules of boundaries: parsing with shapely, inside the parent, no overlap beyond the tolerance."""

import math

import pytest
from django.utils import translation
from shapely.geometry import Polygon, box

from grids import geometry
from grids.geometry import BoundaryError
from tests.factories import rect


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


BOW_TIE = {"type": "Polygon", "coordinates": [[[116.0, 23.0], [116.01, 23.01], [116.01, 23.0], [116.0, 23.01],
                                                [116.0, 23.0]]]}


def test_a_rectangle_parses_to_a_valid_polygon():
    geom = geometry.parse_boundary(rect(0, 0, 2, 4))
    assert geom.is_valid and geom.geom_type == "Polygon"


def test_a_multipolygon_parses():
    multi = {"type": "MultiPolygon", "coordinates": [rect(0, 0, 1, 1)["coordinates"], rect(2, 2, 3, 3)["coordinates"]]}
    assert geometry.parse_boundary(multi).geom_type == "MultiPolygon"


@pytest.mark.parametrize(("boundary", "reason"), [
    (None, "not a GeoJSON geometry object"),
    ("POLYGON((0 0, 1 0, 1 1, 0 0))", "not a GeoJSON geometry object"),
    ({"type": "Point", "coordinates": [116.0, 23.0]}, "must be a Polygon or MultiPolygon, not Point"),
    ({"type": "Polygon"}, "cannot be read"),
    ({"type": "Polygon", "coordinates": [[[116.0, 23.0], [116.1, 23.1]]]}, "cannot be read"),
    ({"type": "Polygon", "coordinates": [[["a", 23.0], [116.1, 23.0], [116.1, 23.1], ["a", 23.0]]]}, "cannot be read"),
    ({"type": "Polygon", "coordinates": [[[116.0, 23.0], [float("nan"), 23.0], [116.1, 23.1], [116.0, 23.0]]]},
     "not all finite numbers"),
    ({"type": "Polygon", "coordinates": []}, "empty"),
    (BOW_TIE, "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[2600000.0, 23.0], [2600001.0, 23.0], [2600001.0, 24.0],
                                          [2600000.0, 23.0]]]}, "not longitude/latitude"),
])
def test_a_bad_boundary_is_refused_with_the_reason(boundary, reason):
    with pytest.raises(BoundaryError) as caught:
        geometry.parse_boundary(boundary)
    assert reason in str(caught.value.message)
    assert caught.value.code == "invalid_boundary"


def _unclosed(boundary: dict) -> list:
    ring = boundary["coordinates"][0]
    return [ring[:-1]]


@pytest.mark.parametrize(("boundary", "where"), [
    ({"type": "Polygon", "coordinates": _unclosed(rect(0, 0, 1, 1))}, "ring 1 is not closed"),
    ({"type": "Polygon", "coordinates": [[[116.0, 23.0], [116.01, 23.0], [116.0, 23.01]]]}, "ring 1 is not closed"),
    ({"type": "Polygon", "coordinates": rect(0, 0, 4, 4)["coordinates"] + _unclosed(rect(1, 1, 2, 2))},
     "ring 2 is not closed"),
    ({"type": "MultiPolygon", "coordinates": [rect(0, 0, 1, 1)["coordinates"], _unclosed(rect(2, 2, 3, 3))]},
     "ring 1 of polygon 2 is not closed"),
])
def test_an_unclosed_ring_is_refused_though_shapely_would_close_it(boundary, where):
    with pytest.raises(BoundaryError) as caught:
        geometry.parse_boundary(boundary)
    assert where in str(caught.value.message) and "GeoJSON requires" in str(caught.value.message)


def test_the_area_of_a_region_is_measured_in_square_metres_on_the_portals_sphere():
    # 0.01 x 0.01 degrees at 23 N: (0.01 * pi R / 180)^2 * cos(23 N), to a part in ten thousand
    cell = geometry.parse_boundary(rect(0, 0, 1, 1))
    side = 0.01 * math.pi * geometry.EARTH_RADIUS_M / 180
    assert geometry.area_m2(cell) == pytest.approx(side * side * math.cos(math.radians(23.005)), rel=1e-4)


def test_uncovered_measures_the_hole_its_children_leave():
    parent = geometry.parse_boundary(rect(0, 0, 4, 4))
    gap = geometry.uncovered(parent, [geometry.parse_boundary(rect(0, 0, 4, 3))])
    assert (round(gap.share, 6), gap.pieces) == (0.25, 1)
    assert 23.03 < gap.lat < 23.04 and 116.0 < gap.lng < 116.04
    assert geometry.uncovered(parent, [geometry.parse_boundary(rect(0, 0, 4, 4))]) is None
    assert geometry.uncovered(parent, []).share == 1.0  # no child at all: a gap as a whole


def test_heights_in_the_coordinates_are_dropped():
    with_heights = {"type": "Polygon", "coordinates": [[[x, y, 5.0] for x, y in rect(0, 0, 1, 1)["coordinates"][0]]]}
    geom = geometry.parse_boundary(with_heights)
    assert not geom.has_z
    assert geometry.to_geojson(geom) == rect(0, 0, 1, 1)


def test_geojson_comes_back_as_lists_that_parse_to_the_same_shape():
    data = geometry.to_geojson(geometry.parse_boundary(rect(0, 0, 2, 4)))
    assert isinstance(data["coordinates"][0][0], list)
    assert data == rect(0, 0, 2, 4)


def test_the_centroid_of_a_crescent_lies_inside_it():
    crescent = box(0, 0, 10, 10).difference(box(2, 2, 10, 8))  # a "C": its centroid falls in the gap
    extent = geometry.extent(crescent)
    assert crescent.contains(Polygon.from_bounds(extent.centroid_lng, extent.centroid_lat,
                                                 extent.centroid_lng + 1e-9, extent.centroid_lat + 1e-9))
    assert (extent.min_lng, extent.min_lat, extent.max_lng, extent.max_lat) == (0, 0, 10, 10)


def test_a_child_sharing_its_parents_edge_is_inside():
    geometry.check_inside_parent(box(0, 0, 5, 10), box(0, 0, 10, 10))


def test_a_child_reaching_outside_its_parent_is_refused_with_the_share_outside():
    with pytest.raises(BoundaryError, match="25.00% outside its parent"):
        geometry.check_inside_parent(box(0, 0, 4, 10), box(1, 0, 10, 10))


def test_a_sliver_outside_within_the_tolerance_is_accepted(settings):
    settings.TERRITORY_AREA_TOLERANCE = 1e-3
    geometry.check_inside_parent(box(0, 0, 10, 10.001), box(0, 0, 10, 10))


def test_siblings_sharing_an_edge_or_a_corner_do_not_overlap():
    tiles = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(1, 1, 2, 2)]
    assert geometry.overlapping_pairs(tiles) == []
    geometry.check_no_overlap(box(0, 1, 1, 2), [(f"tile {i}", t) for i, t in enumerate(tiles)])


def test_overlapping_siblings_are_found_once_per_pair():
    tiles = [box(0, 0, 2, 1), box(1, 0, 3, 1), box(5, 5, 6, 6), box(2.5, 0, 4, 1)]
    assert geometry.overlapping_pairs(tiles) == [(0, 1), (1, 3)]


def test_only_the_queried_geometries_are_checked_against_the_rest():
    new, known_a, known_b = box(0, 0, 1, 1), box(0.5, 0, 2, 1), box(1.5, 0, 3, 1)  # the known two overlap too
    assert geometry.overlapping_pairs([new, known_a, known_b], queried=1) == [(0, 1)]


def test_an_overlap_names_the_sibling():
    with pytest.raises(BoundaryError, match="overlaps its sibling East"):
        geometry.check_no_overlap(box(0, 0, 2, 1), [("West", box(-1, 0, 0, 1)), ("East", box(1, 0, 3, 1))])


def test_an_overlap_within_the_tolerance_is_accepted(settings):
    settings.TERRITORY_AREA_TOLERANCE = 1e-3
    assert geometry.overlapping_pairs([box(0, 0, 1, 1), box(0.9999, 0, 2, 1)]) == []
    settings.TERRITORY_AREA_TOLERANCE = 1e-6
    assert geometry.overlapping_pairs([box(0, 0, 1, 1), box(0.9999, 0, 2, 1)]) == [(0, 1)]
