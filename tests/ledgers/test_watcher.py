"""The ledger watcher: "deadline near", "overdue", "filing missing" to units, seen by their supervisors."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from governance.alerts.models import Alert
from governance.alerts.sweep import run_sweep
from governance.ledgers import selectors, services
from governance.ledgers.watcher import SUBJECT_TYPE, last_due_period

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 10, 9, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()


def open_alerts():
    return {(a.subject_id, a.kind, a.step) for a in Alert.objects.open().filter(subject_type=SUBJECT_TYPE)}


def test_last_due_period():
    assert last_due_period("monthly", date(2026, 7, 5)).key == "2026-05"  # June is due on 5 July, not before
    assert last_due_period("monthly", date(2026, 7, 6)).key == "2026-06"
    assert last_due_period("quarterly", date(2026, 7, 10)).key == "2026Q2"


def test_sweep_raises_what_the_rules_say_and_twice_changes_nothing(ledger, lp):
    services.filing_submit(responsibility=ledger.r11_d1, period="2026-06", status="in_progress", percent=90,
                           narrative="收尾", acting_user=lp.d1_police, today=TODAY)
    run_sweep(now=NOW)
    raised = open_alerts()
    assert (ledger.r11_d1.pk, "overdue", "") in raised and (ledger.r11_d2.pk, "overdue", "") in raised
    assert (ledger.r11_d2.pk, "filing_missing", "2026-06") in raised
    assert (ledger.r11_d1.pk, "filing_missing", "2026-06") not in raised  # June was filed
    assert (ledger.r12_d1.pk, "filing_missing", "2026Q2") in raised
    assert not any(kind == "deadline_approaching" for _rid, kind, _step in raised)
    # the same rule as the dashboard's
    report = selectors.programme_report(lp.city_supervisor, ledger.programme, today=TODAY)
    assert {s.responsibility_id for s in report.states if s.overdue} == {
        rid for rid, kind, _step in raised if kind == "overdue"}
    before = Alert.objects.count()
    run_sweep(now=NOW)
    assert Alert.objects.count() == before

    alert = Alert.objects.open().get(subject_id=ledger.r11_d1.pk, kind="overdue")
    assert alert.owner_unit_id == ledger.r11_d1.unit_id
    assert Alert.objects.restrict(lp.d1_supervisor).filter(pk=alert.pk).exists()  # the supervisor sees it
    assert not Alert.objects.restrict(lp.d2_supervisor).filter(pk=alert.pk).exists()
    assert Alert.objects.restrict(lp.d1_police).filter(pk=alert.pk).exists()

    services.filing_submit(responsibility=ledger.r11_d1, period="2026-06", status="completed", percent=100,
                           narrative="已完成", acting_user=lp.d1_police, today=TODAY)
    services.filing_submit(responsibility=ledger.r11_d2, period="2026-06", status="in_progress", percent=50,
                           narrative="推进", acting_user=lp.d2_police, today=TODAY)
    run_sweep(now=NOW)
    now_open = open_alerts()
    assert (ledger.r11_d1.pk, "overdue", "") not in now_open
    assert (ledger.r11_d2.pk, "filing_missing", "2026-06") not in now_open
    assert (ledger.r11_d2.pk, "overdue", "") in now_open


def test_deadline_near_is_yellow(ledger, lp):
    run_sweep(now=datetime(2026, 12, 27, 9, 0, tzinfo=SHANGHAI))
    near = Alert.objects.open().filter(subject_type=SUBJECT_TYPE, kind="deadline_approaching")
    assert {a.subject_id for a in near} == {ledger.r21_d2.pk, ledger.r21_city.pk}
    assert {a.severity for a in near} == {"yellow"}
