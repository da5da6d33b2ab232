"""The command-centre map in a real browser: polygons, markers, the side panel, a dispatch from the map."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from governance.alerts.models import Alert, AlertKind, AlertSeverity
from incidents import services
from incidents.models import Incident, Status
from tests.browser.conftest import foreign_requests, log_in
from tests.factories import point
from tests.incidents.conftest import categories, road  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll ``expression`` with page.evaluate (wait_for_function needs 'unsafe-eval', which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)


@pytest.fixture
def incidents_on_the_map(city, people, road):  # noqa: F811
    def file(at, title, **kwargs):
        lat, lng = point(*at)
        return services.incident_file(reporter=people.worker_g1111, category=road, title=title, lat=lat, lng=lng,
                                      **kwargs).incident

    waiting = file((1, 2), "路面塌陷")
    services.incident_accept(incident=waiting, actor=people.d1_command)
    late = file((1.6, 0.8), "井盖缺失", now=timezone.now() - timedelta(days=3))
    file((0.6, 3.2), "人行道破损")
    Alert.objects.create(subject_type="incident", subject_id=late.pk, subject_label=late.number,
                         kind=AlertKind.OVERDUE, severity=AlertSeverity.RED, region=late.grid,
                         owner_region=late.responsible_region, title=f"{late.number} 超期未受理",
                         raised_at=timezone.now())
    return waiting


def test_command_staff_dispatch_an_incident_from_the_map(page, live_server, city, people, incidents_on_the_map,
                                                         save_screenshot):
    incident = incidents_on_the_map
    log_in(page, live_server, "d1_command", "pw-d1_command")
    page.goto(f"{live_server.url}/dashboards/map/")

    # Polygons of the district's streets, coloured by open incidents, and the numbers.
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    wait_until(page, "window.portalMap && window.portalMap.regionCount() === 2")  # the two streets of D1
    wait_until(page, "document.querySelectorAll('#map-figures dd').length === 6")
    assert page.locator("#map-figures dd").nth(1).inner_text() == "3"  # open
    page.wait_for_selector("#alert-list li[data-alert]")
    assert "超期未受理" in page.locator("#alert-list").inner_text()

    # Zoom into the south street: the incidents appear as markers.
    # Without animation: getZoom() answers the target at once, and a click computed while the map
    # still slides (a slow machine) would land beside the marker.
    page.evaluate("([lat, lng]) => window.portalMap.map.setView([lat, lng], 15, {animate: false})",
                  list(point(2, 2)))
    wait_until(page, "window.portalMap.map.getZoom() >= 15")
    wait_until(page, "window.portalMap.markerCount() === 3")
    save_screenshot("markers")

    # Click the incident's marker: the side panel shows it with its actions.
    x, y = page.evaluate("""([lat, lng]) => {
        const p = window.portalMap.map.latLngToContainerPoint([lat, lng]);
        const box = document.getElementById('map').getBoundingClientRect();
        return [box.left + p.x, box.top + p.y];
    }""", [incident.lat, incident.lng])
    page.mouse.click(x, y)
    panel = page.locator("#incident-panel")
    panel.locator("form[data-action=dispatch]").wait_for()
    assert incident.number in panel.inner_text()

    # Dispatch it to the district's police without leaving the map.
    panel.locator("form[data-action=dispatch] select").select_option(str(city.unit_d1_police.pk))
    panel.locator("form[data-action=dispatch] button").click()
    panel.locator(".panel-msg").wait_for()
    assert panel.locator("form[data-action=dispatch]").count() == 0  # dispatched: no longer on offer
    assert page.url == f"{live_server.url}/dashboards/map/"
    save_screenshot()

    incident.refresh_from_db()
    assert incident.status == Status.DISPATCHED and incident.lead_unit_id == city.unit_d1_police.pk

    # The triage queue shows it dispatched.
    page.goto(f"{live_server.url}/incidents/queue/")
    row = page.locator(f"text={incident.number}").first
    row.wait_for()
    assert page.locator(".status-dispatched").count() >= 1

    assert errors == []
    # Nothing left the portal's own host.
    assert foreign_requests(page, live_server) == []
    assert Incident.objects.filter(status=Status.DISPATCHED).count() == 1


def test_big_screen_fills_itself_without_clicks(page, live_server, people, incidents_on_the_map, save_screenshot):
    log_in(page, live_server, "d1_command", "pw-d1_command")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/dashboards/map/big-screen/")
    wait_until(page, "window.portalMap && window.portalMap.regionCount() === 2")
    wait_until(page, "document.querySelectorAll('#map-figures dd').length === 6")
    page.wait_for_selector("#alert-list li[data-alert]")
    page.wait_for_selector("#chart-trend canvas")
    save_screenshot()
    assert foreign_requests(page, live_server) == []
