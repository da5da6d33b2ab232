"""Deadline, red-risk, untouched and obligation alerts through the alert engine's sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.alerts.models import Alert
from governance.alerts.sweep import run_sweep
from governance.core.testing import page_client
from mediation import services
from mediation.models import RiskLevel

pytestmark = pytest.mark.django_db


def open_alerts(case):
    return {a.kind: a for a in Alert.objects.filter(subject_type="mediation_case", subject_id=case.pk,
                                                    resolved_at__isnull=True)}


def test_yellow_then_red_deadline_to_the_organisation(s11_case, city):
    start = s11_case.registered_at
    run_sweep(now=start + timedelta(days=10))
    assert open_alerts(s11_case) == {}
    run_sweep(now=start + timedelta(days=25))
    yellow = open_alerts(s11_case)["deadline_approaching"]
    assert yellow.severity == "yellow" and yellow.owner_unit == city.unit_s11_mediation
    run_sweep(now=start + timedelta(days=31))
    alerts = open_alerts(s11_case)
    assert set(alerts) == {"overdue"} and alerts["overdue"].severity == "red"
    run_sweep(now=start + timedelta(days=31))  # twice changes nothing
    assert Alert.objects.filter(subject_id=s11_case.pk, kind="overdue").count() == 1


def test_an_outcome_resolves_the_deadline_alert(s11_case, people):
    run_sweep(now=s11_case.registered_at + timedelta(days=31))
    services.case_withdraw(case=s11_case, actor=people.s11_mediator, note="撤回")
    run_sweep(now=s11_case.registered_at + timedelta(days=31, minutes=1))
    assert open_alerts(s11_case) == {}


def test_a_red_case_alerts_the_mediators_and_the_command_centre_sees_it(s12_case, city, people, mw):
    run_sweep(now=timezone.now())
    red = open_alerts(s12_case)["red_risk"]
    assert red.owner_unit == mw.s12_org and red.region == city.c121
    for user in (mw.s12_mediator, people.d1_command, people.s12_command):
        assert Alert.objects.restrict(user).filter(pk=red.pk).exists(), user
    for user in (people.s11_mediator, people.s11_command, people.d2_command):
        assert not Alert.objects.restrict(user).filter(pk=red.pk).exists(), user
    for user in (mw.s12_mediator, people.d1_command):
        assert s12_case.number in page_client(user).get("/alerts/").content.decode()
    assert s12_case.number not in page_client(people.s11_mediator).get("/alerts/").content.decode()
    services.case_set_risk(case=s12_case, actor=mw.s12_mediator, level=RiskLevel.YELLOW, note="已平稳")
    run_sweep(now=timezone.now())
    assert "red_risk" not in open_alerts(s12_case)


def test_a_red_case_untouched_for_24_hours_goes_to_the_district_command_centre(s12_case, city, people, mw):
    later = s12_case.last_activity_at + timedelta(hours=23)
    run_sweep(now=later)
    assert "red_untouched" not in open_alerts(s12_case)
    run_sweep(now=s12_case.last_activity_at + timedelta(hours=25))
    untouched = open_alerts(s12_case)["red_untouched"]
    assert untouched.owner_region == city.d1 and untouched.owner_unit is None
    from governance.alerts.models import ACT_ON_ALERT

    assert Alert.objects.restrict(people.d1_command, ACT_ON_ALERT).filter(pk=untouched.pk).exists()
    assert not Alert.objects.restrict(people.s12_command, ACT_ON_ALERT).filter(pk=untouched.pk).exists()
    # someone acts on the case: the alert resolves
    services.case_accept(case=s12_case, actor=mw.s12_mediator, now=s12_case.last_activity_at + timedelta(hours=26))
    run_sweep(now=s12_case.last_activity_at + timedelta(hours=27))
    assert "red_untouched" not in open_alerts(s12_case)


def test_an_obligation_due_alerts_until_it_is_done(s11_case, people, city):
    from tests.mediation.test_services import walk_to_agreement

    case = walk_to_agreement(s11_case, people.s11_mediator)  # obligation due in 10 days
    run_sweep(now=timezone.now())
    assert "obligation_due" not in open_alerts(case)
    run_sweep(now=timezone.now() + timedelta(days=8))
    assert open_alerts(case)["obligation_due"].owner_unit == city.unit_s11_mediation
    services.case_obligation_done(case=case, actor=people.s11_mediator, obligation=case.agreement.obligations.get())
    run_sweep(now=timezone.now() + timedelta(days=8))
    assert "obligation_due" not in open_alerts(case)
