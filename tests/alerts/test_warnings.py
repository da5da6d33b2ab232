"""Yellow warnings: 80 % of the allowed time in the limit's own unit, and escalations that restart the clock.

The dates are issue 12's. 2026 in chinesecalendar: the Spring Festival holiday runs 15–23 February
with Saturday 14 and Saturday 28 February worked; 10–13 March 2026 is an ordinary week.
"""

from datetime import datetime, timedelta

import pytest

from governance.alerts.models import Alert
from governance.calendar import workcalendar
from incidents import services
from incidents.models import Event, Incident
from tests.alerts.conftest import SHANGHAI, minutes, open_alerts
from tests.factories import point

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


END = (23, 59, 59, 999999)


@pytest.fixture
def accepted_with(people, road):
    """File an incident of 道路破损 shortly before ``when`` and accept it then; the category allows ``days``."""

    def accept(when: datetime, days: int, title: str = "路面塌陷") -> Incident:
        road.handle_working_days = days
        road.save(update_fields=["handle_working_days"])
        lat, lng = point(1, 2)
        incident = services.incident_file(reporter=people.worker_g1111, category=road, title=title, lat=lat,
                                          lng=lng, now=when - minutes(30)).incident
        return services.incident_accept(incident=incident, actor=people.s11_command, now=when)

    return accept


def test_yellow_counts_working_time_across_the_spring_festival(accepted_with, sweep):
    """Accepted Fri 13 Feb 10:00 with 3 working days: 14, 24 and 25 February count. Yellow once 2.4 of the
    3 working days have passed: 14 and 24 February whole and 0.4 of the 25th, at 09:36."""
    incident = accepted_with(at(2026, 2, 13, 10, 0), 3)
    assert incident.handle_due_at == at(2026, 2, 25, *END)
    assert incident.handle_warn_at == at(2026, 2, 25, 9, 36)

    # The last day of the holiday, when the clock-time rule turned it yellow: one working day of three used.
    sweep(at(2026, 2, 23, 11, 36))
    assert open_alerts(incident) == set()
    sweep(at(2026, 2, 25, 9, 35, 59))
    assert open_alerts(incident) == set()
    sweep(at(2026, 2, 25, 9, 36))
    assert open_alerts(incident) == {("deadline_approaching", "handle")}
    sweep(at(2026, 2, 26, 0, 0, 1))
    assert open_alerts(incident) == {("overdue", "handle")}


def test_yellow_of_the_accept_limit_counts_clock_time_over_a_holiday(file_incident, sweep):
    """道路破损: accept within 4 hours, on the clock, holiday or not: yellow 48 minutes before the deadline."""
    incident = file_incident(now=at(2026, 2, 17, 22, 0))  # the Spring Festival holiday, late evening
    assert incident.accept_due_at == at(2026, 2, 18, 2, 0)
    assert incident.accept_warn_at == at(2026, 2, 18, 1, 12)
    sweep(at(2026, 2, 18, 1, 11))
    assert open_alerts(incident) == set()
    sweep(at(2026, 2, 18, 1, 12))
    assert open_alerts(incident) == {("deadline_approaching", "accept")}


def test_a_manual_escalation_restarts_the_clock_of_the_yellow_warning(accepted_with, sweep, people):
    """Accepted Tue 10 March 09:00 with 1 working day (the 11th), escalated by hand on the 11th at 20:00: a new
    working day, the 12th, and yellow when a fifth of it is left, at 19:12 — not at 14:54, when the old rule
    (measured from the acceptance) had it yellow."""
    incident = accepted_with(at(2026, 3, 10, 9, 0), 1)
    assert (incident.handle_due_at, incident.handle_warn_at) == (at(2026, 3, 11, *END), at(2026, 3, 11, 19, 12))
    sweep(at(2026, 3, 11, 19, 30))
    assert open_alerts(incident) == {("deadline_approaching", "handle")}

    services.incident_escalate(incident=incident, actor=people.s11_command, note="社区协调不了",
                               now=at(2026, 3, 11, 20, 0))
    incident.refresh_from_db()
    assert (incident.handle_due_at, incident.handle_warn_at) == (at(2026, 3, 12, *END), at(2026, 3, 12, 19, 12))
    sweep(at(2026, 3, 11, 20, 1))
    assert open_alerts(incident) == set(), "the old deadline's yellow resolves"
    sweep(at(2026, 3, 12, 14, 54))
    assert open_alerts(incident) == set()
    sweep(at(2026, 3, 12, 19, 11, 59))
    assert open_alerts(incident) == set()
    sweep(at(2026, 3, 12, 19, 12))
    assert open_alerts(incident) == {("deadline_approaching", "handle")}


def _escalate_both_ways(first: Incident, second: Incident, red_at: datetime, sweep, people) -> datetime:
    """Red at ``red_at``; a grace later the sweep escalates ``second``, and a person ``first``, at the same instant."""
    sweep(red_at)
    now = red_at + minutes(121)
    services.incident_escalate(incident=first, actor=people.s11_command, note="手动升级", now=now)
    result = sweep(now)
    assert result.counts["escalated"] == 1
    return now


DEADLINE_COLUMNS = ("status", "responsible_region_id", "responsible_level", "escalation_count", "accept_due_at",
                    "accept_warn_at", "handle_due_at", "handle_warn_at", "handle_days_left", "deadline_note")


def _same_escalation(first: Incident, second: Incident, now: datetime) -> None:
    by_hand, by_sweep = (Incident.objects.values(*DEADLINE_COLUMNS).get(pk=i.pk) for i in (first, second))
    assert by_hand == by_sweep
    manual = Event.objects.get(incident=first, action="escalate", at=now)
    automatic = Event.objects.get(incident=second, action="escalate", at=now)
    assert manual.actor_id is not None and automatic.actor_id is None
    assert manual.data["deadline"] == automatic.data["deadline"]
    assert (automatic.data["to_level"], automatic.data["to_region"]) == (manual.data["to_level"],
                                                                        manual.data["to_region"])


def test_the_sweep_escalates_to_the_same_deadlines_as_a_person_accept_step(file_incident, sweep, people):
    first, second = (file_incident(now=at(2026, 3, 10, 9, 0), title=t) for t in ("手动", "自动"))
    now = _escalate_both_ways(first, second, at(2026, 3, 10, 13, 1), sweep, people)
    second.refresh_from_db()
    assert second.accept_due_at == now + timedelta(hours=4)
    assert second.accept_warn_at == now + timedelta(hours=4) - minutes(48)
    _same_escalation(first, second, now)
    assert Event.objects.get(incident=second, action="escalate").data["deadline"] == {
        "step": "accept", "clock": "restart", "due_at": "2026-03-10T19:02:00+08:00",
        "warn_at": "2026-03-10T18:14:00+08:00", "days_left": None, "note": ""}


def test_the_sweep_escalates_to_the_same_deadlines_as_a_person_handle_step_into_an_unknown_year(
        accepted_with, sweep, people):
    """Accepted Thu 24 Dec 2026 with 3 working days: due 29 December. Escalated on 30 December, the new count
    runs into 2027, whose schedule nobody has entered: both escalations count it the calendar's way and carry
    the calendar's note."""
    first = accepted_with(at(2026, 12, 24, 10, 0), 3, "手动")
    second = accepted_with(at(2026, 12, 24, 10, 0), 3, "自动")
    assert second.handle_due_at == at(2026, 12, 29, *END)
    now = _escalate_both_ways(first, second, at(2026, 12, 30, 0, 1), sweep, people)
    second.refresh_from_db()
    count = workcalendar.add_working_days(now, 3)
    assert second.handle_due_at == count.deadline and count.deadline.year == 2027
    assert second.handle_warn_at == workcalendar.working_time_before(count.deadline, 0.6)
    assert second.deadline_note == count.fallback_note() != ""
    _same_escalation(first, second, now)


def test_an_escalated_alert_and_the_new_warning_follow_the_new_deadline(file_incident, sweep):
    incident = file_incident(now=at(2026, 3, 10, 9, 0))
    sweep(at(2026, 3, 10, 13, 1))
    escalated_at = at(2026, 3, 10, 15, 2)
    sweep(escalated_at)
    incident.refresh_from_db()
    assert open_alerts(incident) == {("escalated", "accept")}
    assert Alert.objects.get(subject_id=incident.pk, kind="escalated").due_at == incident.accept_due_at
    sweep(incident.accept_warn_at - timedelta(seconds=1))
    assert open_alerts(incident) == {("escalated", "accept")}
    sweep(incident.accept_warn_at)
    assert open_alerts(incident) == {("escalated", "accept"), ("deadline_approaching", "accept")}
