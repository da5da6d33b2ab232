"""What each transition does to the deadline: restarts, pauses (挂账), resumes, runs on, or stops.

The rule of each transition is the ``clock`` column of ``incidents.workflow.TRANSITIONS``
(the exhaustive matrix in test_workflow.py checks every transition against it); these
tests pin issue 12's cases with its dates. 2026 in chinesecalendar: Labour Day 1–5 May
off, Saturday 9 May worked; 10–17 March is ordinary.
"""

import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from incidents import services
from incidents.models import Event, Incident, Status
from incidents.workflow import TRANSITIONS, Clock
from tests.alerts.conftest import open_alerts

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
END = (23, 59, 59, 999999)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def sweep():
    from governance.alerts.sweep import run_sweep

    return lambda when: run_sweep(now=when)


def test_the_transition_table_names_a_clock_for_every_transition():
    assert {name: t.clock for name, t in TRANSITIONS.items()} == {
        "accept": Clock.RESTART, "resubmit": Clock.RESTART, "escalate": Clock.RESTART,
        "park": Clock.PAUSE, "unpark": Clock.RESUME,
        "dispatch": Clock.RUN, "report_back": Clock.RUN, "unit_return": Clock.RUN, "verify_fail": Clock.RUN,
        "reassign": Clock.RUN,
        "verify_pass": Clock.STOP, "close_on_spot": Clock.STOP, "return": Clock.STOP, "void": Clock.STOP,
        "merge": Clock.STOP,
    }


# --- Resubmission restarts the accept clock ---------------------------------------------------


def test_a_report_resubmitted_five_hours_later_gets_a_fresh_accept_deadline(file_incident, people, sweep):
    """道路破损: accept within 4 hours. Returned half an hour after filing, resubmitted five hours later: it was
    red at once and escalated two hours later; now it has four hours from the resubmission."""
    filed_at = at(2026, 3, 10, 9, 0)
    incident = file_incident(now=filed_at)
    services.incident_return(incident=incident, actor=people.s11_command, note="请补充现场照片",
                             now=filed_at + timedelta(minutes=30))
    resubmitted_at = filed_at + timedelta(hours=5, minutes=30)
    services.incident_resubmit(incident=incident, actor=people.worker_g1111, now=resubmitted_at)
    incident.refresh_from_db()
    assert incident.accept_due_at == at(2026, 3, 10, 18, 30)
    assert incident.accept_warn_at == at(2026, 3, 10, 17, 42)

    sweep(resubmitted_at + timedelta(minutes=1))
    assert open_alerts(incident) == set()
    sweep(resubmitted_at + timedelta(hours=2, minutes=2))
    incident.refresh_from_db()
    assert incident.escalation_count == 0 and open_alerts(incident) == set()
    sweep(at(2026, 3, 10, 17, 42))
    assert open_alerts(incident) == {("deadline_approaching", "accept")}


# --- Parking pauses the handling clock; unparking gives back what was left -----------------------


@pytest.fixture
def parked(file_incident, people):
    """道路破损 (5 working days) accepted Tue 10 March 09:00: due Tue 17 March (11, 12, 13, 16, 17).
    Parked Thu 12 March 15:00: the 12th counts as used, 13, 16 and 17 March are left."""
    incident = file_incident(now=at(2026, 3, 10, 8, 30))
    services.incident_accept(incident=incident, actor=people.s11_command, now=at(2026, 3, 10, 9, 0))
    incident.refresh_from_db()
    assert incident.handle_due_at == at(2026, 3, 17, *END)
    services.incident_park(incident=incident, actor=people.s11_command, note="涉及历史遗留问题",
                           review_on=at(2026, 4, 30).date(), now=at(2026, 3, 12, 15, 0))
    incident.refresh_from_db()
    return incident


def test_parking_stops_the_clock_and_keeps_the_working_days_left(parked, sweep):
    assert (parked.status, parked.handle_days_left) == (Status.PARKED, 3)
    assert parked.handle_due_at is None and parked.handle_warn_at is None
    sweep(at(2026, 3, 18, 9, 0))  # past the old deadline
    assert open_alerts(parked) == set(), "no deadline runs while parked"


def test_an_incident_unparked_on_30_april_gets_its_three_days_back_after_labour_day(parked, people, sweep):
    """Unparked Thu 30 April 10:00, the old deadline (17 March) went red a minute later. Now: 6, 7 and 8 May
    (1–5 May are Labour Day); yellow with one working day of the five left, from the start of 8 May."""
    services.incident_unpark(incident=parked, actor=people.s11_command, now=at(2026, 4, 30, 10, 0))
    parked.refresh_from_db()
    assert parked.status == Status.ACCEPTED and parked.handle_days_left is None
    assert parked.handle_due_at == at(2026, 5, 8, *END)
    assert parked.handle_warn_at == at(2026, 5, 8, 0, 0)

    sweep(at(2026, 4, 30, 10, 1))
    assert open_alerts(parked) == set()
    sweep(at(2026, 5, 7, 23, 59))
    assert open_alerts(parked) == set()
    sweep(at(2026, 5, 8, 0, 0))
    assert open_alerts(parked) == {("deadline_approaching", "handle")}
    sweep(at(2026, 5, 9, 0, 0, 1))
    assert open_alerts(parked) == {("overdue", "handle")}


def test_an_incident_parked_when_already_yellow_is_yellow_again_as_soon_as_it_is_unparked(file_incident,
                                                                                          people, sweep):
    incident = file_incident(now=at(2026, 3, 10, 8, 30))
    services.incident_accept(incident=incident, actor=people.s11_command, now=at(2026, 3, 10, 9, 0))
    services.incident_park(incident=incident, actor=people.s11_command, note="需多部门协调",
                           review_on=at(2026, 4, 30).date(), now=at(2026, 3, 17, 10, 0))  # the last day
    incident.refresh_from_db()
    assert incident.handle_days_left == 0
    services.incident_unpark(incident=incident, actor=people.s11_command, now=at(2026, 4, 30, 10, 0))
    incident.refresh_from_db()
    assert incident.handle_due_at == at(2026, 4, 30, *END)
    assert incident.handle_warn_at == at(2026, 4, 30, 10, 0)
    sweep(at(2026, 4, 30, 10, 0))
    assert open_alerts(incident) == {("deadline_approaching", "handle")}


# --- The deadline's history on the timeline ------------------------------------------------------


@pytest.fixture
def unparked(parked, people):
    services.incident_unpark(incident=parked, actor=people.s11_command, now=at(2026, 4, 30, 10, 0))
    return parked


def test_the_timeline_records_every_change_of_the_deadline(unparked):
    history = [(e.action, e.data.get("deadline")) for e in Event.objects.filter(incident=unparked).order_by("at")]
    assert history == [
        ("report", {"step": "accept", "clock": "restart", "due_at": "2026-03-10T12:30:00+08:00",
                    "warn_at": "2026-03-10T11:42:00+08:00", "days_left": None, "note": ""}),
        ("accept", {"step": "handle", "clock": "restart", "due_at": "2026-03-17T23:59:59.999999+08:00",
                    "warn_at": "2026-03-17T00:00:00+08:00", "days_left": None, "note": ""}),
        ("park", {"step": "handle", "clock": "pause", "due_at": None, "warn_at": None, "days_left": 3,
                  "note": ""}),
        ("unpark", {"step": "handle", "clock": "resume", "due_at": "2026-05-08T23:59:59.999999+08:00",
                    "warn_at": "2026-05-08T00:00:00+08:00", "days_left": 3, "note": ""}),
    ]


def test_a_transition_whose_clock_runs_on_leaves_the_deadline_and_records_none(unparked, people, city):
    before = Incident.objects.values("handle_due_at", "handle_warn_at").get(pk=unparked.pk)
    services.incident_dispatch(incident=unparked, actor=people.s11_command, unit=city.unit_d1_police,
                               now=at(2026, 5, 6, 9, 0))
    assert Incident.objects.values("handle_due_at", "handle_warn_at").get(pk=unparked.pk) == before
    assert "deadline" not in Event.objects.get(incident=unparked, action="dispatch").data


def test_the_detail_page_shows_the_deadline_history(unparked, people):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people.s11_command)
    page = client.get(f"/incidents/{unparked.pk}/").content.decode()
    assert "Handle by 2026-03-17 23:59 · warning from 2026-03-17 00:00" in page
    assert "Handling time paused with 3 working days left" in page
    assert "Handle by 2026-05-08 23:59 · warning from 2026-05-08 00:00 · resumed with 3 working days left" in page


def test_the_detail_page_says_how_much_time_a_parked_incident_has_left(parked, people):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(people.s11_command)
    with translation.override("zh-hans"):
        page = client.get(f"/incidents/{parked.pk}/").content.decode()
    assert "暂停计时：剩余 3 个工作日" in page


def test_the_api_shows_the_deadline_history_and_the_warnings(unparked, people):
    client = Client()
    client.force_login(people.s11_command)
    body = client.get(f"/api/v1/incidents/{unparked.pk}/").json()
    assert [e["data"].get("deadline", {}).get("clock") for e in body["events"]] == [
        "restart", "restart", "pause", "resume"]
    assert body["events"][-1]["data"]["deadline"]["due_at"] == "2026-05-08T23:59:59.999999+08:00"
    assert body["handle_warn_at"].startswith("2026-05-08T00:00:00")
    assert body["handle_days_left"] is None


# --- Incidents filed before: the migration fills what the code now computes ---------------------


def test_the_migration_fills_the_warnings_and_the_time_left_of_parked_incidents(parked, file_incident, people):
    accepted = file_incident(now=at(2026, 3, 11, 8, 0), title="已受理")
    services.incident_accept(incident=accepted, actor=people.s11_command, now=at(2026, 3, 11, 9, 0))
    reported = file_incident(now=at(2026, 3, 11, 10, 0), title="待受理")
    computed = {i.pk: i for i in Incident.objects.filter(pk__in=[accepted.pk, reported.pk])}
    # As the rows were before the migration: no warnings; a parked incident still had its deadline.
    Incident.objects.update(accept_warn_at=None, handle_warn_at=None)
    Incident.objects.filter(pk=parked.pk).update(handle_due_at=at(2026, 3, 17, *END), handle_days_left=None)

    migration = importlib.import_module("incidents.migrations.0002_deadline_warnings_and_paused_clock")
    migration.fill(apps, None)

    for pk, want in computed.items():
        got = Incident.objects.get(pk=pk)
        assert (got.accept_warn_at, got.handle_warn_at) == (want.accept_warn_at, want.handle_warn_at)
    assert Incident.objects.get(pk=accepted.pk).handle_warn_at == at(2026, 3, 18, 0, 0)
    parked_now = Incident.objects.get(pk=parked.pk)
    assert (parked_now.handle_due_at, parked_now.handle_days_left) == (None, 3)
