"""The ledger watcher: "deadline near", "overdue", "filing missing" to units, seen by their supervisors."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from governance.alerts.models import Alert
from governance.alerts.sweep import run_sweep
from governance.ledgers import selectors, services
from governance.ledgers.watcher import SUBJECT_TYPE

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 10, 9, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()


def open_alerts():
    return {(a.subject_id, a.kind, a.step) for a in Alert.objects.open().filter(subject_type=SUBJECT_TYPE)}


def missing_alerts():
    return {a.subject_id: a for a in Alert.objects.open().filter(subject_type=SUBJECT_TYPE, kind="filing_missing")}


def assert_missing_as_dashboard(lp, ledger, today):
    """The watcher's "filing missing" is the dashboard's rule: the same responsibilities, the same periods."""
    report = selectors.programme_report(lp.city_supervisor, ledger.programme, today=today)
    expected = {s.responsibility_id: s.missing for s in report.states if s.missing}
    alerts = missing_alerts()
    assert set(alerts) == set(expected)
    for rid, missing in expected.items():
        assert alerts[rid].step == min(missing)
        assert alerts[rid].data == {"missing_periods": len(missing), "oldest_period": min(missing)}
    return alerts


def file(ledger_r, user, period, status="in_progress", percent=50, today=TODAY):
    return services.filing_submit(responsibility=ledger_r, period=period, status=status, percent=percent,
                                  narrative="推进", acting_user=user, today=today)


def test_sweep_raises_what_the_rules_say_and_twice_changes_nothing(ledger, lp):
    file(ledger.r11_d1, lp.d1_police, "2026-06", percent=90)
    run_sweep(now=NOW)
    raised = open_alerts()
    assert (ledger.r11_d1.pk, "overdue", "") in raised and (ledger.r11_d2.pk, "overdue", "") in raised
    # every due period counts, not only the last: January to June for 1.1, Q1 and Q2 for 1.2
    assert (ledger.r11_d2.pk, "filing_missing", "2026-01") in raised
    assert (ledger.r11_d1.pk, "filing_missing", "2026-01") in raised  # June was filed, January to May were not
    assert (ledger.r12_d1.pk, "filing_missing", "2026Q1") in raised
    assert not any(kind == "deadline_approaching" for _rid, kind, _step in raised)
    # the same rules as the dashboard's
    report = selectors.programme_report(lp.city_supervisor, ledger.programme, today=TODAY)
    assert {s.responsibility_id for s in report.states if s.overdue} == {
        rid for rid, kind, _step in raised if kind == "overdue"}
    alerts = assert_missing_as_dashboard(lp, ledger, TODAY)
    assert alerts[ledger.r11_d1.pk].data == {"missing_periods": 5, "oldest_period": "2026-01"}
    assert alerts[ledger.r11_d2.pk].data == {"missing_periods": 6, "oldest_period": "2026-01"}
    before = Alert.objects.count()
    run_sweep(now=NOW)
    assert Alert.objects.count() == before

    alert = Alert.objects.open().get(subject_id=ledger.r11_d1.pk, kind="overdue")
    assert alert.owner_unit_id == ledger.r11_d1.unit_id
    assert Alert.objects.restrict(lp.d1_supervisor).filter(pk=alert.pk).exists()  # the supervisor sees it
    assert not Alert.objects.restrict(lp.d2_supervisor).filter(pk=alert.pk).exists()
    assert Alert.objects.restrict(lp.d1_police).filter(pk=alert.pk).exists()

    file(ledger.r11_d1, lp.d1_police, "2026-06", status="completed", percent=100)
    file(ledger.r11_d2, lp.d2_police, "2026-06")
    run_sweep(now=NOW)
    now_open = open_alerts()
    assert (ledger.r11_d1.pk, "overdue", "") not in now_open
    assert ledger.r11_d1.pk not in missing_alerts()  # completed: nothing more is due from it
    assert (ledger.r11_d2.pk, "filing_missing", "2026-01") in now_open  # June filed, January to May still missing
    assert (ledger.r11_d2.pk, "overdue", "") in now_open
    assert_missing_as_dashboard(lp, ledger, TODAY)


def test_filing_missing_is_one_alert_while_any_period_is_missing(ledger, lp):
    run_sweep(now=NOW)
    first = missing_alerts()[ledger.r11_d2.pk]
    assert (first.step, first.data["missing_periods"]) == ("2026-01", 6)
    # the oldest is filed: the same alert names the next oldest and one fewer
    file(ledger.r11_d2, lp.d2_police, "2026-01")
    run_sweep(now=NOW)
    alerts = assert_missing_as_dashboard(lp, ledger, TODAY)
    assert alerts[ledger.r11_d2.pk].pk == first.pk
    assert (alerts[ledger.r11_d2.pk].step, alerts[ledger.r11_d2.pk].data["missing_periods"]) == ("2026-02", 5)
    # the latest is filed, older ones are not: still missing
    file(ledger.r11_d2, lp.d2_police, "2026-06")
    run_sweep(now=NOW)
    alerts = assert_missing_as_dashboard(lp, ledger, TODAY)
    assert alerts[ledger.r11_d2.pk].pk == first.pk and alerts[ledger.r11_d2.pk].data["missing_periods"] == 4
    # a returned filing does not count
    returned = file(ledger.r11_d2, lp.d2_police, "2026-02")
    services.filing_review(filing=returned, accept=False, comment="证据不足", acting_user=lp.lead)
    run_sweep(now=NOW)
    assert missing_alerts()[ledger.r11_d2.pk].step == "2026-02"
    assert_missing_as_dashboard(lp, ledger, TODAY)
    # every period filed: resolved, and no other alert of the kind opens for it
    for period in ("2026-02", "2026-03", "2026-04", "2026-05"):
        file(ledger.r11_d2, lp.d2_police, period)
    run_sweep(now=NOW)
    assert ledger.r11_d2.pk not in missing_alerts()
    assert Alert.objects.get(pk=first.pk).resolved_at is not None
    assert Alert.objects.filter(subject_type=SUBJECT_TYPE, subject_id=ledger.r11_d2.pk,
                                kind="filing_missing").count() == 1
    assert_missing_as_dashboard(lp, ledger, TODAY)


def test_filing_missing_counts_new_periods_and_the_once_filing(ledger, lp):
    file(ledger.r12_d1, lp.d1_police, "2026Q1")
    file(ledger.r12_d1, lp.d1_police, "2026Q2")
    run_sweep(now=NOW)
    assert ledger.r12_d1.pk not in missing_alerts()  # both due quarters filed
    later = datetime(2027, 1, 10, 9, 0, tzinfo=SHANGHAI)
    file(ledger.r21_city, lp.lead, "once", status="completed", percent=100, today=later.date())
    run_sweep(now=later)
    alerts = assert_missing_as_dashboard(lp, ledger, later.date())
    # Q3 and Q4 came due since; the "once" filing was due on the deadline
    assert (alerts[ledger.r12_d1.pk].step, alerts[ledger.r12_d1.pk].data["missing_periods"]) == ("2026Q3", 2)
    assert (alerts[ledger.r21_d2.pk].step, alerts[ledger.r21_d2.pk].data["missing_periods"]) == ("once", 1)
    assert ledger.r21_city.pk not in alerts


def test_deadline_near_is_yellow(ledger, lp):
    run_sweep(now=datetime(2026, 12, 27, 9, 0, tzinfo=SHANGHAI))
    near = Alert.objects.open().filter(subject_type=SUBJECT_TYPE, kind="deadline_approaching")
    assert {a.subject_id for a in near} == {ledger.r21_d2.pk, ledger.r21_city.pk}
    assert {a.severity for a in near} == {"yellow"}
