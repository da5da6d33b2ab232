"""The admin site as a district administrator: every page scoped, history included; nothing outside changes.

The personas: ``d1_admin`` administers the west district D1; the east district D2, its
regions, units, people and alerts are outside. A superuser sees everything; a read-only
supervisor and an anonymous visitor do not get in.
"""

import json

import pytest
from django.contrib.auth import get_user_model

from governance.access.models import Role, RoleAssignment, Unit
from grids.models import Region
from tests.dashboards.helpers import client_for
from tests.factories import make_user, rect

User = get_user_model()


@pytest.fixture
def d1_admin(city):
    return make_user("d1_admin", role=Role.ADMINISTRATOR, region=city.d1)


@pytest.fixture
def admin(d1_admin):
    return client_for(d1_admin)


def history_id(obj) -> int:
    return obj.history.latest("history_date").history_id


def test_district_admin_gets_into_the_admin_and_sees_their_records_only(admin, city, people):
    index = admin.get("/admin/")
    assert index.status_code == 200
    for model in ("region", "unit", "roleassignment"):
        assert f"/admin/{'grids' if model == 'region' else 'governance'}/{model}/" in index.content.decode()
    regions = admin.get("/admin/grids/region/")
    codes = {r.code for r in regions.context["cl"].result_list}
    assert city.s11.code in codes and city.d1.code in codes
    assert city.d2.code not in codes and city.city.code not in codes and city.g2111.code not in codes
    units = {u.code for u in admin.get("/admin/governance/unit/").context["cl"].result_list}
    assert units == {"U-D1-POL", "U-S11-MED"}
    assignments = admin.get("/admin/governance/roleassignment/").context["cl"].result_list
    holders = {a.user.username for a in assignments}
    assert {"d1_command", "s11_command", "worker_g1111", "d1_police_handler", "s11_mediator"} <= holders
    assert not holders & {"d2_command", "city_admin"}


def test_other_districts_objects_and_their_history_are_missing(admin, city, people):
    d2_unit = city.unit_d2_police
    d2_role = RoleAssignment.objects.get(user=people.d2_command)
    for url_base, obj in [("/admin/grids/region/", city.d2), ("/admin/governance/unit/", d2_unit),
                          ("/admin/governance/roleassignment/", d2_role)]:
        change = admin.get(f"{url_base}{obj.pk}/change/")
        assert change.status_code == 302 and change.url == "/admin/"  # Django's "does not exist"
        assert admin.get(f"{url_base}{obj.pk}/history/").status_code == 404
        assert admin.get(f"{url_base}{obj.pk}/history/{history_id(obj)}/").status_code == 404


def test_posting_an_old_version_of_another_district_renames_nothing(admin, city):
    url = f"/admin/grids/region/{city.d2.pk}/history/{history_id(city.d2)}/"
    response = admin.post(url, {"name": "被改名的东区", "boundary": json.dumps(city.d2.boundary)})
    assert response.status_code == 404
    assert Region.objects.get(pk=city.d2.pk).name == "东区"


def test_history_is_read_never_reverted_even_inside(admin, city):
    url = f"/admin/grids/region/{city.s11.pk}/history/{history_id(city.s11)}/"
    assert admin.get(url).status_code == 200
    response = admin.post(url, {"name": "回滚的名字", "boundary": json.dumps(city.s11.boundary)})
    assert response.status_code == 403
    assert Region.objects.get(pk=city.s11.pk).name == "南街道"


def test_district_admin_cannot_make_themself_city_administrator(admin, city, d1_admin):
    response = admin.post("/admin/governance/roleassignment/add/",
                          {"username": "d1_admin", "role": Role.ADMINISTRATOR, "region": city.city.pk})
    assert response.status_code == 200  # the form again, with its error
    assert not RoleAssignment.objects.filter(user=d1_admin, region=city.city).exists()
    assert "region" in response.context["adminform"].form.errors


def test_district_admin_grants_a_role_inside_by_username(admin, city, d1_admin):
    newcomer = make_user("newcomer")
    response = admin.post("/admin/governance/roleassignment/add/",
                          {"username": "newcomer", "role": Role.GRID_WORKER, "region": city.g1112.pk})
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=newcomer)
    assert assignment.region == city.g1112 and assignment.assigned_by == d1_admin


def test_district_admin_cannot_add_a_unit_in_another_district(admin, city):
    response = admin.post("/admin/governance/unit/add/",
                          {"code": "U-D2-X", "name": "东区某局", "kind": "department", "home_region": city.d2.pk,
                           "is_active": "on"})
    assert response.status_code == 200
    assert "home_region" in response.context["adminform"].form.errors
    assert not Unit.objects.filter(code="U-D2-X").exists()
    response = admin.post("/admin/governance/unit/add/",
                          {"code": "U-D1-X", "name": "西区某局", "kind": "department", "home_region": city.s12.pk,
                           "is_active": "on"})
    assert response.status_code == 302
    assert Unit.objects.get(code="U-D1-X").home_region == city.s12


def test_district_admin_cannot_move_a_region_form_into_another_district(admin, city):
    response = admin.post("/admin/grids/region/add/", {
        "level": 5, "code": "440201001002", "name": "越界网格", "parent_code": city.c211.code,
        "boundary": json.dumps(rect(4, 0, 5, 1))})
    assert response.status_code == 200
    assert "parent_code" in response.context["adminform"].form.errors
    assert not Region.objects.filter(code="440201001002").exists()


def test_district_admin_manages_the_accounts_of_their_people_only(admin, city, people, d1_admin):
    listed = {u.username for u in admin.get("/admin/auth/user/").context["cl"].result_list}
    assert {"worker_g1111", "s11_command", "d1_admin"} <= listed
    assert not listed & {"d2_command", "city_admin", "nobody"}
    assert admin.get(f"/admin/auth/user/{people.d2_command.pk}/change/").status_code == 302
    page = admin.get(f"/admin/auth/user/{people.worker_g1111.pk}/change/")
    assert page.status_code == 200
    assert "is_superuser" not in page.context["adminform"].form.fields
    assert "is_staff" not in page.context["adminform"].form.fields
    password = admin.post(f"/admin/auth/user/{people.d2_command.pk}/password/",
                          {"password1": "Takeover-12345", "password2": "Takeover-12345"})
    assert password.status_code == 404  # hidden is missing
    people.d2_command.refresh_from_db()
    assert not people.d2_command.check_password("Takeover-12345")


def test_district_admin_opens_an_account_then_gives_it_a_role(admin, city):
    response = admin.post("/admin/auth/user/add/", {"username": "new_worker", "usable_password": "true",
                                                     "password1": "Grid-Worker-2026", "password2": "Grid-Worker-2026"})
    assert response.status_code == 302
    assert response.url.startswith("/admin/governance/roleassignment/add/?username=new_worker")
    created = User.objects.get(username="new_worker")
    assert not created.is_staff and not created.is_superuser


def test_alert_and_incident_admin_lists_are_scoped(admin, world):
    alerts = admin.get("/admin/governance/alert/").context["cl"].result_list
    assert [a.pk for a in alerts] == [world.alert_d1.pk]
    incidents = {i.pk for i in admin.get("/admin/incidents/incident/").context["cl"].result_list}
    assert world.east.pk not in incidents and world.reported.pk in incidents


@pytest.mark.parametrize("username", ["d1_supervisor", "d1_command", "worker_g1111", "nobody"])
def test_people_who_administer_nothing_do_not_get_in(city, people, username):
    client = client_for(getattr(people, username))
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_anonymous_visitors_are_sent_to_the_admin_login(client, city):
    response = client.get(f"/admin/grids/region/{city.d1.pk}/history/")
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_a_superuser_still_sees_everything(city, people):
    root = make_user("root", is_superuser=True, is_staff=True)
    client = client_for(root)
    codes = {r.code for r in client.get("/admin/grids/region/").context["cl"].result_list}
    assert {city.d1.code, city.d2.code, city.city.code} <= codes
    assert client.get(f"/admin/grids/region/{city.d2.pk}/history/").status_code == 200
