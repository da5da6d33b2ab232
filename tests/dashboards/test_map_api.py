"""Input checks and limits of the map API."""

from __future__ import annotations

import pytest

from dashboards.map import selectors
from tests.dashboards.helpers import client_for
from tests.dashboards.test_map_scope import CITY_BOX

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bbox", ["", "1,2,3", "a,b,c,d", "116.1,23.0,116.0,23.1", "116,23,200,24", "nan,1,2,3"])
def test_bad_bbox_answers_400_in_the_one_error_shape(world, people, bbox):
    response = client_for(people.d1_command).get("/api/v1/map/incidents/", {"bbox": bbox})
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert "bbox" in body["error"]["fields"]


def test_missing_bbox_answers_400(world, people):
    response = client_for(people.d1_command).get("/api/v1/map/incidents/")
    assert response.status_code == 400
    assert "bbox" in response.json()["error"]["fields"]


def test_bad_filter_answers_400(world, people):
    response = client_for(people.d1_command).get("/api/v1/map/stats/", {"status": "nonsense"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_region_of_another_district_is_not_a_valid_filter(world, city, people):
    response = client_for(people.d1_command).get("/api/v1/map/stats/", {"region": city.d2.pk})
    assert response.status_code == 400


def test_points_are_capped_and_flagged_truncated(world, people):
    client = client_for(people.city_admin)
    answer = client.get("/api/v1/map/incidents/", {"bbox": CITY_BOX, "limit": 2}).json()
    assert answer["count"] == 2 and answer["truncated"] is True
    huge = client.get("/api/v1/map/incidents/", {"bbox": CITY_BOX, "limit": 10**6}).json()
    assert huge["limit"] == selectors.MAX_POINTS
    assert huge["truncated"] is False


def test_points_follow_the_shared_filters(world, people):
    client = client_for(people.d1_command)
    overdue = client.get("/api/v1/map/incidents/", {"bbox": CITY_BOX, "overdue": "true"}).json()
    assert [p["id"] for p in overdue["incidents"]] == [world.overdue.pk]
    assert overdue["incidents"][0]["is_overdue"] is True
    open_only = client.get("/api/v1/map/incidents/", {"bbox": CITY_BOX, "open": "true"}).json()
    assert {p["id"] for p in open_only["incidents"]} == {world.reported.pk, world.overdue.pk, world.dispatched.pk}


def test_gcj02_positions_are_shifted_for_display(world, people, settings):
    client = client_for(people.d1_command)
    plain = client.get("/api/v1/map/incidents/", {"bbox": CITY_BOX, "overdue": "true"}).json()["incidents"][0]
    shifted = client.get("/api/v1/map/incidents/", {"bbox": CITY_BOX, "overdue": "true", "coords": "gcj02"}
                         ).json()["incidents"][0]
    assert shifted["id"] == plain["id"]
    assert 0.001 < abs(shifted["lng"] - plain["lng"]) < 0.01


def test_map_endpoints_are_in_the_openapi_schema(db, people):
    schema = client_for(people.city_admin).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for path in ["/api/v1/map/regions/", "/api/v1/map/incidents/", "/api/v1/map/stats/", "/api/v1/map/alerts/"]:
        assert path in schema["paths"], path
    names = {p["name"] for p in schema["paths"]["/api/v1/map/incidents/"]["get"]["parameters"]}
    assert {"bbox", "limit", "status", "category", "overdue"} <= names
