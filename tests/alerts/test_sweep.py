"""The incident sweep: yellow, red, escalation, resolution, idempotence, crash safety."""

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from governance.alerts import sweep as sweep_module
from governance.alerts.models import Alert
from governance.alerts.sweep import SweepContext
from grids.models import Level
from incidents import services as incident_services
from incidents.models import Event, Incident
from tests.alerts.conftest import SHANGHAI, T0, minutes, open_alerts, snapshot

pytestmark = pytest.mark.django_db

ACCEPT = timedelta(hours=4)  # 道路破损


def test_nothing_is_raised_before_80_percent_of_the_accept_time(reported, sweep):
    sweep(T0 + ACCEPT * 0.79)
    assert open_alerts(reported) == set()


def test_yellow_at_80_percent_of_the_accept_time(reported, sweep, city):
    sweep(T0 + ACCEPT * 0.8)
    assert open_alerts(reported) == {("deadline_approaching", "accept")}
    alert = Alert.objects.get(subject_id=reported.pk)
    assert (alert.severity, alert.region_id, alert.owner_region_id) == ("yellow", city.g1111.pk, city.c111.pk)
    assert alert.due_at == reported.accept_due_at
    assert alert.subject_label == reported.number


def test_red_when_the_accept_deadline_passes_and_yellow_resolves(reported, sweep):
    sweep(T0 + ACCEPT * 0.9)
    sweep(T0 + ACCEPT + minutes(1))
    assert open_alerts(reported) == {("overdue", "accept")}
    yellow = Alert.objects.get(subject_id=reported.pk, kind="deadline_approaching")
    assert yellow.resolved_at == T0 + ACCEPT + minutes(1)
    assert Alert.objects.get(subject_id=reported.pk, kind="overdue").severity == "red"


def test_red_is_not_escalated_within_the_grace(reported, sweep, city):
    sweep(T0 + ACCEPT + minutes(1))
    sweep(T0 + ACCEPT + minutes(119))
    reported.refresh_from_db()
    assert (reported.responsible_region_id, reported.escalation_count) == (city.c111.pk, 0)


def test_red_past_the_grace_escalates_to_the_street_with_a_new_deadline(reported, sweep, city):
    sweep(T0 + ACCEPT + minutes(1))
    now = T0 + ACCEPT + minutes(121)
    result = sweep(now)
    reported.refresh_from_db()
    assert reported.responsible_region_id == city.s11.pk
    assert reported.responsible_level == Level.STREET
    assert reported.escalation_count == 1
    assert reported.version == 2
    assert reported.accept_due_at == now + ACCEPT
    event = Event.objects.get(incident=reported, action="escalate")
    assert event.actor_id is None and event.at == now
    assert "escalated automatically" in event.note or "自动" in event.note or event.note
    assert event.data["to_level"] == Level.STREET and event.data["to_region"] == city.s11.name
    assert open_alerts(reported) == {("escalated", "accept")}
    assert Alert.objects.get(subject_id=reported.pk, kind="overdue").resolved_at == now
    assert result.counts["escalated"] == 1


def test_no_yellow_right_after_an_escalation_the_new_allowed_time_counts(reported, sweep):
    sweep(T0 + ACCEPT + minutes(1))
    escalated_at = T0 + ACCEPT + minutes(121)
    sweep(escalated_at)
    sweep(escalated_at + ACCEPT * 0.5)
    assert open_alerts(reported) == {("escalated", "accept")}
    sweep(escalated_at + ACCEPT * 0.85)
    assert open_alerts(reported) == {("escalated", "accept"), ("deadline_approaching", "accept")}


def test_escalation_climbs_to_the_city_and_stops_there(reported, sweep, city):
    now = T0
    seen = []
    for _ in range(5):
        reported.refresh_from_db()
        now = reported.accept_due_at + minutes(1)
        sweep(now)
        sweep(now + minutes(121))
        reported.refresh_from_db()
        seen.append(reported.responsible_region_id)
    assert seen == [city.s11.pk, city.d1.pk, city.city.pk, city.city.pk, city.city.pk]
    assert reported.responsible_level == Level.CITY and reported.escalation_count == 3
    assert Event.objects.filter(incident=reported, action="escalate").count() == 3
    # Red at the city, with nowhere to climb; the last escalation's alert stays until the deadline moves.
    assert open_alerts(reported) == {("overdue", "accept"), ("escalated", "accept")}


def test_handle_deadline_yellow_red_and_escalation(reported, sweep, people, city):
    """道路破损: 5 working days. Accepted Wednesday 12 March 2025: 13, 14, 17, 18 and 19 March count;
    yellow when one working day is left, at the start of the 19th."""
    accepted_at = T0 + minutes(30)
    incident_services.incident_accept(incident=reported, actor=people.s11_command, now=accepted_at)
    reported.refresh_from_db()
    assert reported.handle_due_at == datetime(2025, 3, 19, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert reported.handle_warn_at == datetime(2025, 3, 19, 0, 0, tzinfo=SHANGHAI)
    sweep(datetime(2025, 3, 18, 23, 59, tzinfo=SHANGHAI))
    assert open_alerts(reported) == set()
    sweep(datetime(2025, 3, 19, 0, 0, tzinfo=SHANGHAI))
    assert open_alerts(reported) == {("deadline_approaching", "handle")}
    sweep(reported.handle_due_at + minutes(1))
    assert open_alerts(reported) == {("overdue", "handle")}
    now = reported.handle_due_at + minutes(125)
    sweep(now)
    old_due = reported.handle_due_at
    reported.refresh_from_db()
    assert reported.responsible_region_id == city.s11.pk
    assert reported.handle_due_at > old_due and reported.handle_due_at > now
    assert open_alerts(reported) == {("escalated", "handle")}


def test_accepting_resolves_the_accept_alerts(reported, sweep, people):
    sweep(T0 + ACCEPT + minutes(1))
    assert open_alerts(reported) == {("overdue", "accept")}
    incident_services.incident_accept(incident=reported, actor=people.s11_command, now=T0 + ACCEPT + minutes(2))
    sweep(T0 + ACCEPT + minutes(3))
    assert open_alerts(reported) == set()


def test_voiding_resolves_every_alert(reported, sweep, people):
    sweep(T0 + ACCEPT + minutes(1))
    sweep(T0 + ACCEPT + minutes(130))  # escalated: an open "escalated" alert
    assert open_alerts(reported)
    incident_services.incident_void(incident=reported, actor=people.d1_command, note="重复上报")
    sweep(T0 + ACCEPT + minutes(131))
    assert open_alerts(reported) == set()


def test_a_second_sweep_changes_nothing(reported, file_incident, sweep):
    file_incident(now=T0 - timedelta(hours=3))  # another one, further along
    for at in (T0 + ACCEPT * 0.9, T0 + ACCEPT + minutes(1), T0 + ACCEPT + minutes(121)):
        sweep(at)
        first = snapshot()
        again = sweep(at)
        assert snapshot() == first
        assert again.raised == 0 and again.counts.get("escalated", 0) == 0
        later = sweep(at + timedelta(seconds=1))
        assert later.raised == 0 and later.counts.get("escalated", 0) == 0


def test_the_database_refuses_a_second_open_alert_for_the_same_subject_and_kind(city):
    fields = {"subject_type": "incident", "subject_id": 1, "kind": "overdue", "severity": "red", "region": city.g1111,
              "raised_at": T0}
    Alert.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(**fields)
    Alert.objects.create(**fields, resolved_at=T0)  # resolved ones do not count
    Alert.objects.create(**{**fields, "kind": "deadline_approaching", "severity": "yellow"})


def test_a_sweep_killed_midway_and_run_again_ends_like_one_clean_run(reported, file_incident, sweep, monkeypatch):
    file_incident(now=T0 - timedelta(hours=3))
    sweep(T0 + ACCEPT + minutes(1))
    at = T0 + ACCEPT + minutes(125)  # escalates the first, raises red for none, yellow for none

    savepoint = transaction.savepoint()
    sweep(at)
    clean = snapshot()
    transaction.savepoint_rollback(savepoint)
    before = snapshot()
    assert before != clean

    execute = SweepContext.execute

    def killed(self, name, sql, params=None):
        if name == "raised_escalated":
            raise RuntimeError("worker killed")
        return execute(self, name, sql, params)

    # The escalation UPDATE, its timeline events and the resolution have run when the batch dies.
    monkeypatch.setattr(SweepContext, "execute", killed)
    with pytest.raises(RuntimeError):
        sweep(at)
    assert snapshot() == before
    monkeypatch.undo()
    sweep(at)
    assert snapshot() == clean


def _escalating(file_incident, sweep, n: int, *, first: int = 0) -> None:
    """File ``n`` incidents and let them go red: the next sweep a grace later escalates them."""
    for k in range(first, first + n):
        file_incident(now=T0 - timedelta(minutes=k + 1), title=f"t{k}")
    sweep(T0 + ACCEPT + minutes(1))


def _queries(sweep, at) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        sweep(at)
    # The working-day calendar re-reads its small table at most once a second, whoever calls it.
    return [q["sql"] for q in captured.captured_queries if "governance_calendarday" not in q["sql"]]


def test_the_sweep_runs_as_many_statements_for_30_escalations_as_for_3(file_incident, sweep):
    _escalating(file_incident, sweep, 3)
    few = _queries(sweep, T0 + ACCEPT + minutes(200))
    assert Incident.objects.filter(escalation_count=1).count() == 3
    _escalating(file_incident, sweep, 30, first=3)
    many = _queries(sweep, T0 + ACCEPT + minutes(400))
    assert Incident.objects.filter(escalation_count=1).count() == 33
    assert len(many) == len(few)


def test_escalation_goes_in_batches_each_one_update(file_incident, sweep, monkeypatch):
    monkeypatch.setattr(sweep_module, "ESCALATION_BATCH", 4)
    _escalating(file_incident, sweep, 10)
    at = T0 + ACCEPT + minutes(200)
    statements = _queries(sweep, at)
    updates = [sql for sql in statements if "RETURNING" in sql and "UPDATE" in sql]
    assert len(updates) == 3, "10 incidents in batches of 4"
    assert Incident.objects.filter(escalation_count=1).count() == 10
    assert Event.objects.filter(action="escalate", at=at).count() == 10
    assert Alert.objects.open().filter(kind="escalated").count() == 10
    assert not Alert.objects.open().filter(kind="overdue").exists()


def test_a_sweep_killed_in_its_second_batch_keeps_the_first_and_the_next_run_finishes(file_incident, sweep,
                                                                                     monkeypatch):
    monkeypatch.setattr(sweep_module, "ESCALATION_BATCH", 3)
    _escalating(file_incident, sweep, 6)
    at = T0 + ACCEPT + minutes(200)
    savepoint = transaction.savepoint()
    sweep(at)
    clean = snapshot()
    transaction.savepoint_rollback(savepoint)

    execute, calls = SweepContext.execute, []

    def killed(self, name, sql, params=None):
        if name == "raised_escalated":
            calls.append(name)
            if len(calls) == 2:
                raise RuntimeError("worker killed")
        return execute(self, name, sql, params)

    monkeypatch.setattr(SweepContext, "execute", killed)
    with pytest.raises(RuntimeError):
        sweep(at)
    assert Incident.objects.filter(escalation_count=1).count() == 3, "the first batch was committed"
    assert Event.objects.filter(action="escalate").count() == 3
    monkeypatch.setattr(SweepContext, "execute", execute)
    sweep(at)
    assert snapshot() == clean


def test_handle_alerts_follow_the_working_day_calendar_across_national_day(file_incident, sweep, people, road):
    """道路破损: 5 working days. Accepted on 30 September 2026, the week-long holiday does not count and
    Saturday 10 October, a make-up working day, does: the deadline is the end of Tuesday 13 October."""
    filed_at = datetime(2026, 9, 30, 9, 0, tzinfo=SHANGHAI)
    incident = file_incident(now=filed_at)
    accepted_at = filed_at + minutes(60)
    incident_services.incident_accept(incident=incident, actor=people.s11_command, now=accepted_at)
    incident.refresh_from_db()
    assert incident.handle_due_at.astimezone(SHANGHAI).date() == datetime(2026, 10, 13).date()

    # Counting weekends only, the incident would be red from 8 October; across the holiday it is not.
    sweep(datetime(2026, 10, 8, 12, 0, tzinfo=SHANGHAI))
    assert ("overdue", "handle") not in open_alerts(incident)

    # Yellow with one of the five working days left: from the start of Tuesday 13 October. Measured in
    # clock time, 80 % of the 13.6 days would have fallen on Sunday 11 October.
    sweep(datetime(2026, 10, 12, 23, 59, tzinfo=SHANGHAI))
    assert open_alerts(incident) == set()
    sweep(datetime(2026, 10, 13, 0, 0, tzinfo=SHANGHAI))
    assert open_alerts(incident) == {("deadline_approaching", "handle")}

    # Without the make-up Saturday the deadline would be 14 October: it is red early on the 14th.
    sweep(datetime(2026, 10, 14, 0, 30, tzinfo=SHANGHAI))
    assert open_alerts(incident) == {("overdue", "handle")}
