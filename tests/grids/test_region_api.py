"""The territory API: scoped lists, hidden is missing, and locate."""

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from governance.core.authority import SYSTEM
from grids import services as grid_services
from tests.factories import point, rect

pytestmark = pytest.mark.django_db

D1_SUBTREE = {"440100", "440101", "440102", "440101001", "440102001", "440101001001", "440101001002",
              "440102001001"}


@pytest.fixture(autouse=True)
def _english(settings):
    # Requests pick their language again (LocaleMiddleware): English for them too.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.force_authenticate(user)
    return api


def codes(response):
    return {row["code"] for row in response.json()["results"]}


def assert_error_shape(response, code):
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# --- the list and the detail ---------------------------------------------------

def test_district_staff_list_only_their_subtree(api, city, people):
    response = as_user(api, people.d1_command).get("/api/v1/regions/")
    assert response.status_code == 200
    assert codes(response) == D1_SUBTREE
    assert response.json()["count"] == len(D1_SUBTREE)


def test_the_list_names_each_regions_parent(api, city, people):
    rows = as_user(api, people.d1_command).get("/api/v1/regions/").json()["results"]
    parent_of = {row["code"]: row["parent_id"] for row in rows}
    assert parent_of["440101001001"] == city.c111.pk
    assert parent_of["440100"] == city.city.pk  # the parent exists, even where the user cannot open it


def test_the_list_is_in_tree_order(api, city, people):
    rows = as_user(api, people.city_admin).get("/api/v1/regions/").json()["results"]
    assert [row["code"] for row in rows][:4] == ["440000", "440100", "440101", "440101001"]


def test_a_user_without_a_role_lists_nothing(api, city, people):
    response = as_user(api, people.nobody).get("/api/v1/regions/")
    assert response.status_code == 200
    assert response.json()["results"] == [] and response.json()["count"] == 0


def test_a_grid_worker_lists_only_their_grid(api, city, people):
    assert codes(as_user(api, people.worker_g1111).get("/api/v1/regions/")) == {"440101001001"}


def test_the_list_filters_by_level_and_parent_within_the_scope(api, city, people):
    client = as_user(api, people.d1_command)
    assert codes(client.get("/api/v1/regions/", {"level": 5})) == {"440101001001", "440101001002", "440102001001"}
    assert codes(client.get("/api/v1/regions/", {"parent": city.c111.pk})) == {"440101001001", "440101001002"}
    assert codes(client.get("/api/v1/regions/", {"parent": city.c211.pk})) == set()
    assert codes(client.get("/api/v1/regions/", {"q": "南"})) == {"440101", "440101001", "440101001001",
                                                                  "440101001002"}


def test_the_detail_of_a_region_in_scope_carries_its_boundary(api, city, people):
    response = as_user(api, people.d1_command).get(f"/api/v1/regions/{city.g1111.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "440101001001" and body["parent_id"] == city.c111.pk
    assert body["boundary"] == city.g1111.boundary


def test_a_region_of_another_district_answers_404_exactly_like_a_missing_one(api, city, people):
    client = as_user(api, people.d1_command)
    hidden = client.get(f"/api/v1/regions/{city.g2111.pk}/")
    missing = client.get("/api/v1/regions/987654/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert_error_shape(hidden, "not_found")


def test_the_region_above_ones_scope_is_hidden_too(api, city, people):
    assert as_user(api, people.s11_command).get(f"/api/v1/regions/{city.d1.pk}/").status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/regions/", "/api/v1/regions/1/", "/api/v1/locate/?lat=23.01&lng=116.01"])
def test_an_anonymous_caller_is_refused_in_the_one_error_shape(api, city, url):
    response = api.get(url)
    assert response.status_code in (401, 403)
    assert_error_shape(response, "not_authenticated")


# --- locate ----------------------------------------------------------------------

def locate(client, x, y):
    lat, lng = point(x, y)
    return client.get("/api/v1/locate/", {"lat": lat, "lng": lng})


def test_locate_returns_the_grid_holding_a_point_in_scope(api, city, people):
    response = locate(as_user(api, people.d1_command), 3, 1)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == city.g1112.pk and body["code"] == "440101001002" and body["parent_id"] == city.c111.pk


def test_locate_in_a_grid_of_another_district_answers_404(api, city, people):
    client = as_user(api, people.d1_command)
    hidden = locate(client, 6, 6)
    assert hidden.status_code == 404
    assert hidden.json() == client.get("/api/v1/regions/987654/").json()


def test_locate_for_a_grid_worker_outside_their_grid_answers_404(api, city, people):
    client = as_user(api, people.worker_g1111)
    assert locate(client, 1, 1).status_code == 200
    assert locate(client, 3, 1).status_code == 404


def test_locate_outside_the_city_answers_400_outside_city(api, city, people):
    response = locate(as_user(api, people.d1_command), 9, 9)
    assert response.status_code == 400
    error = assert_error_shape(response, "outside_city")
    assert "outside the city" in error["message"]


def test_locate_in_a_gap_answers_the_deepest_region_that_holds_the_point_and_says_so(api, city, people):
    # x 4..6 of C211: no grid
    grid_services.region_update(acting_user=SYSTEM, region=city.g2111, boundary=rect(6, 0, 8, 8))
    client = as_user(api, people.city_admin)
    body = locate(client, 5, 4).json()
    assert (body["id"], body["level"], body["gap"]) == (city.c211.pk, 4, True)
    body = locate(client, 7, 4).json()
    assert (body["id"], body["level"], body["gap"]) == (city.g2111.pk, 5, False)
    assert locate(as_user(api, people.d1_command), 5, 4).status_code == 404  # the east district is hidden
    assert_error_shape(locate(client, 9, 4), "outside_city")


@pytest.mark.parametrize(("params", "field"), [
    ({}, "lat"),
    ({"lat": "23.01"}, "lng"),
    ({"lat": "north", "lng": "116.01"}, "lat"),
    ({"lat": "23.01", "lng": "nan"}, "lng"),
    ({"lat": "91", "lng": "116.01"}, "lat"),
    ({"lat": "23.01", "lng": "-181"}, "lng"),
])
def test_locate_with_missing_or_invalid_coordinates_answers_400(api, city, people, params, field):
    response = as_user(api, people.d1_command).get("/api/v1/locate/", params)
    assert response.status_code == 400
    error = assert_error_shape(response, "invalid")
    assert field in error["fields"]
