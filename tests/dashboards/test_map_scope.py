"""Scope on every endpoint of the map: the west district's staff see only the west district."""

from __future__ import annotations

import pytest

from dashboards.map.stats import refresh_tallies
from tests.dashboards.helpers import client_for
from tests.factories import LAT0, LNG0, SIZE

CITY_BOX = f"{LNG0 - 0.01},{LAT0 - 0.01},{LNG0 + SIZE + 0.01},{LAT0 + SIZE + 0.01}"

pytestmark = pytest.mark.django_db


def test_district_staff_see_only_their_district_polygons(world, city, people):
    client = client_for(people.d1_command)
    districts = client.get("/api/v1/map/regions/", {"level": 2}).json()
    assert [f["properties"]["code"] for f in districts["features"]] == [city.d1.code]
    streets = client.get("/api/v1/map/regions/", {"level": 3}).json()
    assert {f["properties"]["code"] for f in streets["features"]} == {city.s11.code, city.s12.code}
    grids = client.get("/api/v1/map/regions/", {"level": 5, "bbox": CITY_BOX}).json()
    assert city.g2111.code not in {f["properties"]["code"] for f in grids["features"]}


def test_street_staff_asking_for_districts_see_their_street(world, city, people):
    answer = client_for(people.s11_command).get("/api/v1/map/regions/", {"level": 2}).json()
    assert [f["properties"]["code"] for f in answer["features"]] == [city.s11.code]


def test_city_staff_see_both_districts_with_their_counts(world, city, people):
    refresh_tallies()
    answer = client_for(people.city_admin).get("/api/v1/map/regions/", {"level": 2, "measure": "open"}).json()
    by_code = {f["properties"]["code"]: f["properties"] for f in answer["features"]}
    assert set(by_code) == {city.d1.code, city.d2.code}
    assert by_code[city.d1.code]["open"] == 3  # reported, overdue, dispatched
    assert by_code[city.d2.code]["open"] == 2
    assert by_code[city.d1.code]["value"] == by_code[city.d1.code]["open"]


def test_district_staff_see_only_their_district_incidents(world, people):
    answer = client_for(people.d1_command).get("/api/v1/map/incidents/", {"bbox": CITY_BOX}).json()
    assert {p["id"] for p in answer["incidents"]} == {i.pk for i in world.d1}
    assert answer["truncated"] is False
    east = client_for(people.d2_command).get("/api/v1/map/incidents/", {"bbox": CITY_BOX}).json()
    assert {p["id"] for p in east["incidents"]} == {i.pk for i in world.d2}


def test_district_staff_see_only_their_district_alerts(world, people):
    answer = client_for(people.d1_command).get("/api/v1/map/alerts/").json()
    assert [a["id"] for a in answer["alerts"]] == [world.alert_d1.pk]
    assert answer["alerts"][0]["lat"] == pytest.approx(world.overdue.lat)
    assert answer["unread"] == 1


def test_district_staff_cannot_acknowledge_neighbour_district_alert(world, people):
    client = client_for(people.d1_command)
    response = client.post(f"/api/v1/map/alerts/{world.alert_d2.pk}/acknowledge/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    world.alert_d2.refresh_from_db()
    assert world.alert_d2.acknowledged_at is None


def test_command_staff_acknowledge_an_alert_from_the_map(world, people):
    response = client_for(people.d1_command).post(f"/api/v1/map/alerts/{world.alert_d1.pk}/acknowledge/")
    assert response.status_code == 200
    world.alert_d1.refresh_from_db()
    assert world.alert_d1.acknowledged_by == people.d1_command


@pytest.mark.parametrize("live", [False, True])
def test_district_staff_see_only_their_district_numbers(world, people, live):
    refresh_tallies()
    params = {"severity": ["normal", "urgent", "critical"]} if live else {}
    answer = client_for(people.d1_command).get("/api/v1/map/stats/", params).json()
    assert answer["source"] == ("live" if live else "tallies")
    assert answer["total"] == len(world.d1)
    assert {r["name"] for r in answer["by_region"]} == {"南街道", "北街道"}


def test_outsider_gets_404_on_the_incident_panel(world, people):
    response = client_for(people.d1_command).get(f"/api/v1/incidents/{world.east.pk}/")
    assert response.status_code == 404


def test_supervisor_reads_the_map_but_may_take_no_action(world, people):
    client = client_for(people.d1_supervisor)
    assert client.get("/dashboards/map/").status_code == 200
    detail = client.get(f"/api/v1/incidents/{world.reported.pk}/").json()
    assert detail["available_actions"] == []
    response = client.post(f"/api/v1/incidents/{world.reported.pk}/accept/", {"version": 1},
                           content_type="application/json")
    assert response.status_code == 403


def test_grid_worker_and_anonymous_users_do_not_get_the_map_page(world, people):
    assert client_for(people.worker_g1111).get("/dashboards/map/").status_code == 403
    from django.test import Client

    assert Client().get("/dashboards/map/").status_code == 302
    assert Client().get("/api/v1/map/stats/").status_code in (401, 403)


def test_user_without_scope_sees_an_empty_map(world, people):
    client = client_for(people.nobody)
    assert client.get("/api/v1/map/incidents/", {"bbox": CITY_BOX}).json()["incidents"] == []
    assert client.get("/api/v1/map/regions/", {"level": 2}).json()["features"] == []
    assert client.get("/api/v1/map/stats/").json()["total"] == 0
