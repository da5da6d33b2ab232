"""Scope on every incidents API endpoint: outsiders get 404, read-only users 403 on actions, hidden is missing."""

import pytest

from governance.core.testing import page_client as as_user
from incidents.actions import ACTIONS as INCIDENT_ACTIONS
from incidents.models import Event, Incident, Status
from tests.factories import point

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"
ACTIONS = [action.path for action in INCIDENT_ACTIONS.values()]


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


@pytest.fixture
def incident(file_incident):
    """An incident in grid G1111 (district D1, street S11), filed by its grid worker."""
    return file_incident()


def unchanged(incident) -> bool:
    fresh = Incident.objects.get(pk=incident.pk)
    return (fresh.status, fresh.version, fresh.events.count()) == (incident.status, incident.version, 1)


def test_every_transition_has_an_endpoint():
    assert len(ACTIONS) == 14


# --- Outsiders: 404, exactly like a missing incident ---------------------------

def test_outsider_gets_404_on_incident_detail(people, incident):
    response = as_user(people.s12_command).get(f"{LIST}{incident.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_hidden_and_missing_incidents_look_the_same(people, incident):
    client = as_user(people.s12_command)
    hidden = client.get(f"{LIST}{incident.pk}/")
    missing = client.get(f"{LIST}999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


@pytest.mark.parametrize("action", ACTIONS)
def test_outsider_gets_404_on_every_action(people, incident, action):
    client = as_user(people.s12_command)
    response = post(client, f"{LIST}{incident.pk}/{action}/", {"note": "越权", "version": 1})
    missing = post(client, f"{LIST}999999/{action}/", {"note": "越权", "version": 1})
    assert response.status_code == 404
    assert response.json() == missing.json()
    assert unchanged(incident)


@pytest.mark.parametrize("persona", ["s12_command", "d2_command", "s11_mediator", "nobody", "d1_police_handler"])
def test_outsiders_do_not_see_the_incident_in_the_list(people, incident, persona):
    response = as_user(getattr(people, persona)).get(LIST)
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_nobody_sees_an_empty_list_and_may_file_nowhere(people, incident, road):
    client = as_user(people.nobody)
    assert client.get(LIST).json() == {"count": 0, "next": None, "previous": None, "results": []}
    lat, lng = point(1, 2)
    response = post(client, LIST, {"category": road.pk, "title": "x", "lat": lat, "lng": lng})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_your_grid"
    assert Incident.objects.count() == 1


def test_duplicates_do_not_leak_hidden_incidents(people, incident, road):
    lat, lng = point(1, 2)
    query = {"category": road.pk, "lat": lat, "lng": lng}
    assert as_user(people.s12_command).get(f"{LIST}duplicates/", query).json() == []
    assert [row["id"] for row in as_user(people.s11_command).get(f"{LIST}duplicates/", query).json()] == [incident.pk]


def test_merge_into_a_hidden_incident_is_refused_like_a_missing_one(people, incident, file_incident):
    elsewhere = file_incident(reporter=people.d2_command, at=(6, 2))  # grid G2111, district D2
    client = as_user(people.s11_command)
    hidden = post(client, f"{LIST}{incident.pk}/merge/", {"into": elsewhere.pk})
    missing = post(client, f"{LIST}{incident.pk}/merge/", {"into": 999999})
    assert hidden.status_code == missing.status_code == 400
    said = hidden.json()["error"]["fields"]["into"][0].replace(str(elsewhere.pk), "N")
    assert said == missing.json()["error"]["fields"]["into"][0].replace("999999", "N")
    assert unchanged(incident)


# --- Read-only: 200 on reads, 403 on every action ------------------------------

def test_supervisor_reads_list_and_detail(people, incident):
    client = as_user(people.d1_supervisor)
    assert [row["id"] for row in client.get(LIST).json()["results"]] == [incident.pk]
    detail = client.get(f"{LIST}{incident.pk}/")
    assert detail.status_code == 200
    assert detail.json()["available_actions"] == []


@pytest.mark.parametrize("action", ACTIONS)
def test_supervisor_gets_403_on_every_action(people, incident, action):
    response = post(as_user(people.d1_supervisor), f"{LIST}{incident.pk}/{action}/", {"note": "只读", "version": 1})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert unchanged(incident)


def test_grid_worker_may_not_triage(people, incident):
    response = post(as_user(people.worker_g1111), f"{LIST}{incident.pk}/accept/")
    assert response.status_code == 403
    assert unchanged(incident)


def test_street_no_longer_triages_what_the_district_holds(people, incident):
    command = as_user(people.s11_command)
    post(command, f"{LIST}{incident.pk}/escalate/", {"note": "社区无法协调"})  # community -> street
    post(command, f"{LIST}{incident.pk}/escalate/", {"note": "街道无法协调"})  # street -> district
    assert command.get(f"{LIST}{incident.pk}/").status_code == 200  # still sees it
    assert post(command, f"{LIST}{incident.pk}/accept/").status_code == 403
    assert post(as_user(people.d1_command), f"{LIST}{incident.pk}/accept/").json()["status"] == Status.ACCEPTED


# --- Units see what was dispatched to them ---------------------------------------

def test_unit_handler_sees_an_incident_once_dispatched_to_their_unit(city, people, incident):
    handler = as_user(people.d1_police_handler)
    assert handler.get(f"{LIST}{incident.pk}/").status_code == 404
    command = as_user(people.s11_command)
    post(command, f"{LIST}{incident.pk}/accept/")
    post(command, f"{LIST}{incident.pk}/dispatch/", {"unit": city.unit_d1_police.pk})
    assert handler.get(f"{LIST}{incident.pk}/").status_code == 200
    assert [row["id"] for row in handler.get(LIST).json()["results"]] == [incident.pk]
    actions = [a["name"] for a in handler.get(f"{LIST}{incident.pk}/").json()["available_actions"]]
    assert actions == ["report_back", "unit_return"]
    assert post(handler, f"{LIST}{incident.pk}/accept/").status_code == 403


def test_another_unit_may_not_report_back(city, people, incident):
    command = as_user(people.s11_command)
    post(command, f"{LIST}{incident.pk}/accept/")
    post(command, f"{LIST}{incident.pk}/dispatch/", {"unit": city.unit_city_urban.pk})
    response = post(as_user(people.d1_police_handler), f"{LIST}{incident.pk}/report-back/", {"note": "已处理"})
    assert response.status_code == 404
    assert not Event.objects.filter(incident=incident, action="report_back").exists()


# --- Filters never widen the scope ---------------------------------------------

def test_region_filter_outside_scope_is_not_a_valid_choice(city, people, incident):
    client = as_user(people.s11_command)
    for region in (city.s12, city.d2, city.d1):
        response = client.get(LIST, {"region": region.pk})
        assert response.status_code == 400
        assert "region" in response.json()["error"]["fields"]
    assert client.get(LIST, {"region": city.s11.pk}).json()["count"] == 1


def test_region_filter_answers_the_same_for_hidden_and_missing_regions(city, people):
    client = as_user(people.s11_command)
    hidden = client.get(LIST, {"region": city.d2.pk})
    missing = client.get(LIST, {"region": 999999})
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()


def test_district_staff_see_every_incident_of_their_district(people, incident, file_incident):
    north = file_incident(reporter=people.d1_command, at=(1, 6))
    seen = {row["id"] for row in as_user(people.d1_command).get(LIST).json()["results"]}
    assert seen == {incident.pk, north.pk}
    assert {row["id"] for row in as_user(people.s11_command).get(LIST).json()["results"]} == {incident.pk}
