"""A unit handler meets the alert addressed to their unit in a real browser, and acknowledges it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from governance.alerts.models import Alert
from governance.alerts.sweep import run_sweep
from incidents import services
from tests.browser.conftest import log_in
from tests.factories import point
from tests.incidents.conftest import categories, road  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def overdue_at_the_police(city, people, road):  # noqa: F811
    lat, lng = point(1, 2)
    incident = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷",
                                      lat=lat, lng=lng).incident
    services.incident_accept(incident=incident, actor=people.s11_command)
    services.incident_dispatch(incident=incident, actor=people.s11_command, unit=city.unit_d1_police)
    incident.refresh_from_db()
    run_sweep(now=incident.handle_due_at + timedelta(minutes=1))
    return Alert.objects.get(subject_id=incident.pk, kind="overdue")


def test_the_unit_handler_sees_the_units_alert_and_acknowledges_it(page, live_server, people, overdue_at_the_police,
                                                                   save_screenshot):
    alert = overdue_at_the_police
    assert alert.owner_unit_id is not None
    log_in(page, live_server, "d1_police_handler", "pw-d1_police_handler")
    badge = page.locator(".alerts-link .badge")
    assert badge.inner_text().strip() == "1"
    page.goto(f"{live_server.url}/alerts/")
    row = page.locator(f"tr:has(a[href='/alerts/{alert.pk}/'])")
    assert "超期" in row.inner_text() and alert.subject_label in row.inner_text()
    save_screenshot("feed")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    alert.refresh_from_db()
    assert alert.acknowledged_by == people.d1_police_handler
    assert page.locator(".alerts-link .badge").count() == 0
    save_screenshot("acknowledged")


def test_the_command_centre_sees_the_units_alert_without_a_button(page, live_server, people, overdue_at_the_police):
    alert = overdue_at_the_police
    log_in(page, live_server, "d1_command", "pw-d1_command")
    page.goto(f"{live_server.url}/alerts/")
    row = page.locator(f"tr:has(a[href='/alerts/{alert.pk}/'])")
    assert row.count() == 1
    assert row.locator("form[action$='/acknowledge/']").count() == 0
