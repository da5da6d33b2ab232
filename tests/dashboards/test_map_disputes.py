"""The command map's "Dispute cases" overlay: offered to those who may see cases, with their streets only.

The page carries where to fetch the overlay, not its figures; the figures come from the mediation map API
(``mediation.selectors.by_region``), scoped by the one door.
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from dashboards.map.views import map_config
from governance.access.models import Role, Unit, UnitKind
from governance.core import gcj02
from mediation import services
from mediation.models import OPEN_STATUSES, Case, RiskLevel
from tests.dashboards.helpers import client_for
from tests.factories import make_user
from tests.mediation.conftest import mw, register_case  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputes(city, people, mw, register_case):  # noqa: F811
    """South street: two open cases (one red) and a closed red one; north: one red; east (D2): one red."""
    register_case(title="楼上漏水纠纷")
    register_case(title="宅基地纠纷", risk_level=RiskLevel.RED, risk_reason="扬言报复")
    closed = register_case(title="已结案纠纷", risk_level=RiskLevel.RED, risk_reason="已化解")
    closed = services.case_withdraw(case=closed, actor=people.s11_mediator, note="申请人撤回")
    services.case_close(case=closed, actor=people.s11_mediator)
    register_case(actor=mw.s12_mediator, region=city.c121, organisation=mw.s12_org, title="邻里噪音纠纷",
                  risk_level=RiskLevel.RED, risk_reason="双方多次冲突")
    east_org = Unit.objects.create(code="U-S21-MED", name="东街道人民调解委员会", kind=UnitKind.MEDIATION_ORG,
                                   home_region=city.s21)
    east_mediator = make_user("s21_mediator", role=Role.MEDIATOR, unit=east_org)
    register_case(actor=east_mediator, region=city.c211, organisation=east_org, title="东区欠薪纠纷",
                  risk_level=RiskLevel.RED, risk_reason="群体性")


def page_config(user) -> dict:
    response = client_for(user).get("/dashboards/map/")
    assert response.status_code == 200
    return response.context["map_config"]


def counted(street, **extra) -> int:
    """A count made here, by hand: open cases of the street."""
    return Case.objects.filter(region__path__startswith=street.path, status__in=list(OPEN_STATUSES), **extra).count()


def test_district_command_staff_get_the_overlay_but_no_figures_in_the_page(disputes, people):
    config = page_config(people.d1_command)
    assert config["disputes"]["api"] == "/api/v1/mediation/map/"
    assert config["disputes"]["list"] == "/mediation/"
    assert str(config["disputes"]["labels"]["layer"]) == "矛盾纠纷案件"
    # Fetched when switched on, never in the first paint: the page holds no street and no number.
    assert set(config["disputes"]) == {"api", "list", "labels"}


def test_the_overlay_numbers_are_the_district_streets_open_and_red_cases(disputes, city, people):
    rows = client_for(people.d1_command).get("/api/v1/mediation/map/").json()
    assert [r["region"] for r in sorted(rows, key=lambda r: r["region"])] == sorted([city.s11.pk, city.s12.pk])
    by_street = {r["region"]: r for r in rows}
    for street in (city.s11, city.s12):
        assert by_street[street.pk]["open"] == counted(street)
        assert by_street[street.pk]["red"] == counted(street, risk_level=RiskLevel.RED)
        assert (by_street[street.pk]["lat"], by_street[street.pk]["lng"]) == (street.centroid_lat,
                                                                              street.centroid_lng)
    assert (by_street[city.s11.pk]["open"], by_street[city.s11.pk]["red"]) == (2, 1)  # the closed one left out


def test_other_district_staff_do_not_see_this_districts_streets(disputes, city, people):
    rows = client_for(people.d2_command).get("/api/v1/mediation/map/").json()
    assert [(r["region"], r["open"], r["red"]) for r in rows] == [(city.s21.pk, 1, 1)]
    assert "disputes" in page_config(people.d2_command)


def test_the_overlay_follows_the_maps_coordinates(disputes, city, people):
    wgs = {r["region"]: r for r in client_for(people.d1_command).get("/api/v1/mediation/map/").json()}
    shifted = client_for(people.d1_command).get("/api/v1/mediation/map/", {"coords": "gcj02"}).json()
    for row in shifted:
        expected = gcj02.wgs_to_gcj(wgs[row["region"]]["lat"], wgs[row["region"]]["lng"])
        assert (row["lat"], row["lng"]) == pytest.approx(expected)
        assert (row["lat"], row["lng"]) != pytest.approx((wgs[row["region"]]["lat"], wgs[row["region"]]["lng"]))
    assert client_for(people.d1_command).get("/api/v1/mediation/map/", {"coords": "mars"}).status_code == 400


def test_a_user_who_may_see_no_case_gets_no_overlay_in_the_config(disputes, people):
    request = RequestFactory().get("/dashboards/map/")
    request.user = people.nobody
    config = map_config(request)
    assert "disputes" not in config
    assert client_for(people.nobody).get("/api/v1/mediation/map/").json() == []


@pytest.mark.parametrize("persona", ["worker_g1111", "d1_police_handler", "nobody"])
def test_grid_workers_and_unit_handlers_get_neither_the_map_nor_its_overlay(disputes, people, persona):
    response = client_for(getattr(people, persona)).get("/dashboards/map/")
    assert response.status_code == 403
    assert b"/api/v1/mediation/map/" not in response.content


def test_the_big_screen_carries_no_overlay(disputes, people):
    response = client_for(people.d1_command).get("/dashboards/map/big-screen/")
    assert response.status_code == 200
    assert "disputes" not in response.context["map_config"]


def test_anonymous_users_get_neither_page_nor_figures(disputes):
    client = Client()
    assert client.get("/dashboards/map/").status_code == 302
    assert client.get("/api/v1/mediation/map/").status_code in {401, 403}


def test_a_markers_link_is_a_filter_the_dispute_list_accepts(disputes, city, people):
    response = client_for(people.d1_command).get("/mediation/", {"region": city.s11.pk, "open": "true",
                                                                 "risk": "red"})
    assert response.status_code == 200
    assert [c.title for c in response.context["page"]] == ["宅基地纠纷"]
    # A neighbour district's street is no filter of theirs: nothing of it is shown.
    other = client_for(people.d1_command).get("/mediation/", {"region": city.s21.pk, "open": "true"})
    assert "东区欠薪纠纷" not in other.content.decode()
