import datetime

import pytest

from governance.calendar.models import CalendarDay, CalendarDayKind
from governance.core.authority import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("persona", "dashboard"), [
    ("city_admin", "/dashboards/administrator/"),
    ("d1_command", "/dashboards/command/"),
    ("d1_supervisor", "/dashboards/supervisor/"),
    ("d1_police_handler", "/dashboards/unit/"),
    ("s11_mediator", "/dashboards/mediator/"),
    ("worker_g1111", "/dashboards/grid-worker/"),
])
def test_home_sends_each_role_to_its_dashboard(client, people, persona, dashboard):
    client.force_login(getattr(people, persona))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == dashboard
    assert client.get(dashboard).status_code == 200


def test_user_without_role_is_told_to_ask_for_one(client, people):
    client.force_login(people.nobody)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "No role yet" in response.content.decode()


def test_grid_worker_may_not_open_the_command_dashboard(client, people):
    client.force_login(people.worker_g1111)
    assert client.get("/dashboards/command/").status_code == 403


def test_administrator_is_warned_when_next_year_has_no_holidays(client, people, monkeypatch):
    monkeypatch.setattr("governance.calendar.workcalendar.timezone.localdate",
                        lambda *a, **k: datetime.date(2026, 11, 23))
    client.force_login(people.city_admin)
    page = client.get("/dashboards/administrator/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "holiday schedule for 2027 has not been entered" in page

    CalendarDay.objects.create(date=datetime.date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦")
    page = client.get("/dashboards/administrator/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "schedule for 2027 has not been entered" not in page


def test_audit_log_shows_who_assigned_a_role(client, people):
    client.force_login(people.city_admin)
    page = client.get("/audit/").content.decode()
    assert "d1_command" in page


def test_audit_log_is_for_administrators_only(client, people):
    client.force_login(people.d1_command)
    assert client.get("/audit/").status_code == 403


def test_hidden_page_answers_404_in_the_portal_layout(client, city, people):
    client.force_login(people.s11_command)
    response = client.get(f"/territory/regions/{city.d2.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "outside your territory" in response.content.decode()


def test_audit_log_names_the_changed_fields_in_a_fixed_number_of_queries(client, city, people,
                                                                         django_assert_max_num_queries):
    from grids import services

    for name in ("南街道一", "南街道二", "南街道三"):
        services.region_update(acting_user=SYSTEM, region=city.s11, name=name)
    client.force_login(people.city_admin)
    with django_assert_max_num_queries(25):
        page = client.get("/audit/").content.decode()
    assert "name" in page and "南街道三" in page
