"""The command map's "Dispute cases" overlay in a real browser: nothing asked until it is switched on, then a
circle per street of the district, red where a red-risk case is open, and a click lands on the filtered list."""

from __future__ import annotations

import pytest

from governance.access.models import Role, Unit, UnitKind
from mediation import services
from mediation.models import PartyRole, RiskLevel
from tests.browser.conftest import foreign_requests, log_in
from tests.browser.test_map import wait_until
from tests.factories import make_user

pytestmark = pytest.mark.browser

MAP_API = "/api/v1/mediation/map/"


@pytest.fixture
def cases_in_two_districts(city, people):
    from tests.mediation.conftest import dispute_type

    kind = dispute_type("02", "邻里纠纷")
    parties = [{"role": PartyRole.APPLICANT, "name": "张三"}, {"role": PartyRole.RESPONDENT, "name": "李四"}]

    def register(title, region, organisation, actor, **kwargs):
        return services.case_register(acting_user=actor, title=title, dispute_type=kind, region=region,
                                      organisation=organisation, parties=parties, **kwargs)

    south = city.unit_s11_mediation
    register("楼上漏水纠纷", city.c111, south, people.s11_mediator)
    red = register("宅基地纠纷", city.c111, south, people.s11_mediator, risk_level=RiskLevel.RED,
                   risk_reason="扬言报复")
    north = Unit.objects.create(code="U-S12-MED", name="北街道人民调解委员会", kind=UnitKind.MEDIATION_ORG,
                                home_region=city.s12)
    register("邻里噪音纠纷", city.c121, north, make_user("s12_mediator", role=Role.MEDIATOR, unit=north))
    east = Unit.objects.create(code="U-S21-MED", name="东街道人民调解委员会", kind=UnitKind.MEDIATION_ORG,
                               home_region=city.s21)
    register("东区欠薪纠纷", city.c211, east, make_user("s21_mediator", role=Role.MEDIATOR, unit=east),
             risk_level=RiskLevel.RED, risk_reason="群体性")
    return red


def test_command_staff_switch_the_dispute_overlay_on(page, live_server, city, people, cases_in_two_districts,
                                                     save_screenshot):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, "d1_command", "pw-d1_command")
    page.goto(f"{live_server.url}/dashboards/map/")
    wait_until(page, "window.portalMap && window.portalMap.regionCount() === 2")
    wait_until(page, "document.querySelectorAll('#map-figures dd').length === 6")
    # The first paint asks nothing of the overlay.
    assert not [url for url in page.requested_urls if MAP_API in url]

    control = page.locator(".leaflet-control-layers")
    assert "矛盾纠纷案件" in control.inner_text()
    key = page.locator(".map-legend .dispute-key")
    assert not key.is_visible()  # the legend names the overlay's colours only while it is on
    control.locator("input[type=checkbox]").check()
    wait_until(page, "window.portalMap.disputes().streets === 2")  # the district's two streets, not the east's
    assert key.is_visible() and key.inner_text().split() == ["矛盾纠纷案件", "红色风险案件"]
    assert page.evaluate("window.portalMap.disputes()") == {"streets": 2, "red": 1}
    assert [url for url in page.requested_urls if MAP_API in url]

    # Hover the south street's circle: its name and both numbers.
    x, y = page.evaluate("""([lat, lng]) => {
        const p = window.portalMap.map.latLngToContainerPoint([lat, lng]);
        const box = document.getElementById('map').getBoundingClientRect();
        return [box.left + p.x, box.top + p.y];
    }""", [city.s11.centroid_lat, city.s11.centroid_lng])
    page.mouse.move(x, y)
    tooltip = page.locator(".leaflet-tooltip", has_text="在办案件")
    tooltip.wait_for()
    assert tooltip.inner_text() == "南街道 · 在办案件 2 · 红色风险案件 1"
    save_screenshot()
    control.locator("input[type=checkbox]").uncheck()
    assert not key.is_visible()
    control.locator("input[type=checkbox]").check()
    wait_until(page, "window.portalMap.disputes().streets === 2")

    # A click opens the dispute list filtered to that street's open red-risk cases.
    with page.expect_navigation():
        page.mouse.click(x, y)
    assert f"region={city.s11.pk}" in page.url and "risk=red" in page.url
    assert cases_in_two_districts.number in page.locator("main").inner_text()
    assert "楼上漏水纠纷" not in page.locator("main").inner_text()
    assert errors == []
    assert foreign_requests(page, live_server) == []
