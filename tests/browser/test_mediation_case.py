"""A mediator works a red-risk case in a real browser: the alert reaches them and the command centre; they open
the case, record a session and an agreement, and close it."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation

from governance.alerts.models import Alert
from governance.alerts.sweep import run_sweep
from mediation import services
from mediation.models import Case, PartyRole, RiskLevel, Status
from tests.browser.conftest import foreign_requests, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def red_case(city, people):
    from tests.mediation.conftest import dispute_type

    case = services.case_register(
        acting_user=people.s11_mediator, title="邻里排水纠纷", dispute_type=dispute_type("02", "邻里纠纷"),
        region=city.c111, organisation=city.unit_s11_mediation, risk_level=RiskLevel.RED, risk_reason="双方多次冲突",
        parties=[{"role": PartyRole.APPLICANT, "name": "张三", "phone": "13812345678"},
                 {"role": PartyRole.RESPONDENT, "name": "李四", "phone": "13900001111"}])
    run_sweep(now=timezone.now())
    return case


def test_a_mediator_works_a_red_case_from_alert_to_closing(page, live_server, people, red_case, save_screenshot):
    alert = Alert.objects.get(subject_id=red_case.pk, kind="red_risk")
    # the command centre of the district sees the red case among its alerts
    log_in(page, live_server, "d1_command", "pw-d1_command")
    page.goto(f"{live_server.url}/alerts/")
    assert page.locator(f"a[href='/alerts/{alert.pk}/']").count() >= 1
    assert red_case.number in page.locator("main").inner_text()
    save_screenshot("command-centre-alerts")
    # and on the figures' map: the street with a red case carries a red circle
    page.goto(f"{live_server.url}/mediation/figures/")
    page.wait_for_selector("#mediation-map[data-ready='1']")
    assert page.locator("#mediation-map path[fill='#dc2626']").count() == 1
    save_screenshot("figures-map")
    page.context.clear_cookies()

    log_in(page, live_server, "s11_mediator", "pw-s11_mediator")
    assert page.locator(".alerts-link .badge").inner_text().strip() == "1"
    page.goto(f"{live_server.url}/alerts/")
    assert red_case.number in page.locator("main").inner_text()
    page.goto(f"{live_server.url}/mediation/workbench/")
    save_screenshot("workbench")
    with page.expect_navigation():
        page.click(f"a[href='/mediation/{red_case.pk}/']")
    assert "138****5678" in page.locator("#parties ~ section").first.inner_text()

    def act(name: str, fields: dict[str, str] | None = None, *, opened: bool = False) -> None:
        if not opened:
            page.click(f"#act-{name} summary")
        for selector, value in (fields or {}).items():
            page.fill(f"#act-{name} [name='{name}-{selector}']", value)
        with page.expect_navigation():
            page.click(f"#act-{name} button[type=submit]")

    act("accept")
    act("record_session", {"held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "place": "南街道调解室",
                           "attendees": "张三、李四", "notes": "双方同意疏通排水管道"})
    assert Case.objects.get(pk=red_case.pk).status == Status.IN_MEDIATION
    today = timezone.localdate().isoformat()
    page.click("#act-record_agreement summary")
    page.select_option("#act-record_agreement [name='record_agreement-obligations-0-party']", index=2)
    act("record_agreement", {"terms": "李四于十日内疏通排水管道并承担费用", "signed_on": today,
                             "obligations-0-description": "疏通排水管道", "obligations-0-due_on": today},
        opened=True)
    case = Case.objects.get(pk=red_case.pk)
    assert case.status == Status.AGREEMENT and case.agreement.obligations.count() == 1
    save_screenshot("agreement")
    act("close")
    case = Case.objects.get(pk=red_case.pk)
    assert case.status == Status.CLOSED and case.outcome == Status.AGREEMENT
    with translation.override("zh-hans"):
        assert page.locator("#case-status").inner_text().strip() == str(Status.CLOSED.label)
    save_screenshot("closed")
    assert foreign_requests(page, live_server) == []
