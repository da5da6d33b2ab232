import pytest

from governance.core import gcj02


@pytest.mark.parametrize("lat,lng", [(23.35, 116.68), (39.9087, 116.3975), (31.2304, 121.4737), (22.54, 114.06)])
def test_gcj02_shift_is_a_few_hundred_metres_and_inverts(lat, lng):
    g_lat, g_lng = gcj02.wgs_to_gcj(lat, lng)
    assert 0.0005 < abs(g_lng - lng) + abs(g_lat - lat) < 0.01
    back = gcj02.gcj_to_wgs(g_lat, g_lng)
    assert back == pytest.approx((lat, lng), abs=1e-7)


def test_positions_outside_china_are_left_alone():
    assert gcj02.wgs_to_gcj(48.8566, 2.3522) == (48.8566, 2.3522)
    assert gcj02.gcj_to_wgs(-33.86, 151.2) == (-33.86, 151.2)


def test_a_polygon_is_converted_position_by_position():
    ring = [[116.0, 23.0], [116.1, 23.0], [116.1, 23.1], [116.0, 23.0]]
    converted = gcj02.convert_geometry({"type": "Polygon", "coordinates": [ring]})
    lat, lng = gcj02.wgs_to_gcj(23.0, 116.1)
    assert converted["coordinates"][0][1] == [lng, lat]
    multi = gcj02.convert_geometry({"type": "MultiPolygon", "coordinates": [[ring]]})
    assert multi["coordinates"][0][0][1] == [lng, lat]
