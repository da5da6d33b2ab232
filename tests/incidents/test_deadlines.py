"""Handling deadlines count working days: Chinese holidays, make-up working days, and years nobody entered.

Facts from chinesecalendar 1.11 for 2026 (State Council notice 国办发明电〔2025〕7号):

* Spring Festival: 15–23 February off; Saturday 14 and Saturday 28 February are make-up working days.
* National Day: 1–7 October off; Sunday 20 September and Saturday 10 October are make-up working days.
* 2027 is not known to the library at all: its public holidays come from the regulation.

Counting starts on the first working day after the acceptance date; the deadline is the
end (23:59:59.999999, Beijing time) of the n-th working day counted.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from governance.calendar import workcalendar
from governance.calendar.models import CalendarDay, CalendarDayKind
from incidents import services
from tests.factories import point

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _fresh_calendar():
    workcalendar.clear_cache()
    yield
    workcalendar.clear_cache()


@pytest.fixture
def accept_with_limit(people, road):
    """File on the day before and accept at ``when``; the category allows ``days`` working days."""

    def accept(when: datetime, days: int):
        road.handle_working_days = days
        road.save(update_fields=["handle_working_days"])
        lat, lng = point(1, 2)
        incident = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat,
                                          lng=lng, now=when).incident
        return services.incident_accept(incident=incident, actor=people.s11_command, now=when)

    return accept


def on(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=SHANGHAI)


def due_day(incident) -> date:
    local = incident.handle_due_at.astimezone(SHANGHAI)
    assert (local.hour, local.minute, local.second) == (23, 59, 59), "a deadline ends with its day"
    return local.date()


@pytest.mark.parametrize(
    ("accepted", "days", "due", "why"),
    [
        (on(2026, 2, 13), 1, date(2026, 2, 14), "Saturday 14 February is a make-up working day"),
        (on(2026, 2, 13), 3, date(2026, 2, 25), "14 Feb works, 15–23 Feb off, then 24 and 25 Feb"),
        (on(2026, 2, 16), 1, date(2026, 2, 24), "accepted during the holiday: the first working day after it"),
        (on(2026, 2, 25), 3, date(2026, 2, 28), "Saturday 28 February is a make-up working day"),
        (on(2026, 2, 27), 2, date(2026, 3, 2), "28 Feb works, Sunday 1 March does not"),
    ],
    ids=["make-up-saturday-before", "across-the-festival", "accepted-on-a-holiday", "make-up-saturday-after",
         "after-the-make-up-day"],
)
def test_handle_deadline_across_the_spring_festival(accept_with_limit, accepted, days, due, why):
    incident = accept_with_limit(accepted, days)
    assert due_day(incident) == due, why
    assert incident.deadline_note == ""
    assert incident.accepted_at == accepted


@pytest.mark.parametrize(
    ("accepted", "days", "due", "why"),
    [
        (on(2026, 9, 18), 1, date(2026, 9, 20), "Saturday 19 Sep off, Sunday 20 Sep is a make-up working day"),
        (on(2026, 9, 30), 2, date(2026, 10, 9), "1–7 October off, then 8 and 9 October"),
        (on(2026, 9, 30), 3, date(2026, 10, 10), "Saturday 10 October is a make-up working day"),
        (on(2026, 9, 29, hour=23), 5, date(2026, 10, 12), "30 Sep, 8, 9, 10 and 12 Oct; late in the evening too"),
    ],
    ids=["make-up-sunday-before", "across-the-golden-week", "make-up-saturday-after", "late-evening-acceptance"],
)
def test_handle_deadline_across_national_day(accept_with_limit, accepted, days, due, why):
    incident = accept_with_limit(accepted, days)
    assert due_day(incident) == due, why
    assert incident.deadline_note == ""


def test_deadline_into_a_year_nobody_entered_skips_the_holidays_the_law_fixes_and_says_so(accept_with_limit):
    # 31 Dec 2026 (Thu) works; Friday 1 January 2027 is New Year's Day by law, though no schedule is entered.
    with translation.override("en"):
        incident = accept_with_limit(on(2026, 12, 30), 3)
    assert due_day(incident) == date(2027, 1, 5)
    assert "2027" in incident.deadline_note and "not published" in incident.deadline_note


def test_deadline_inside_the_known_year_has_no_note_even_in_december(accept_with_limit):
    incident = accept_with_limit(on(2026, 12, 28), 3)
    assert due_day(incident) == date(2026, 12, 31)
    assert incident.deadline_note == ""


def test_holidays_entered_in_the_admin_table_count_for_the_unknown_year(accept_with_limit):
    CalendarDay.objects.create(date=date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦")

    incident = accept_with_limit(on(2026, 12, 30), 3)

    assert due_day(incident) == date(2027, 1, 5), "31 Dec, then 4 and 5 January"
    assert incident.deadline_note == "", "the table covers 2027 now"


def test_make_up_working_day_entered_in_the_admin_table_counts(accept_with_limit):
    CalendarDay.objects.create(date=date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦")
    CalendarDay.objects.create(date=date(2027, 1, 2), kind=CalendarDayKind.WORKING_DAY, name="元旦调休")

    incident = accept_with_limit(on(2026, 12, 30), 3)

    assert due_day(incident) == date(2027, 1, 4), "31 Dec, Saturday 2 January (make-up), 4 January"


def test_escalation_gives_a_fresh_deadline_counted_the_same_way(accept_with_limit, people):
    incident = accept_with_limit(on(2026, 9, 30), 2)
    services.incident_escalate(incident=incident, actor=people.s11_command, note="街道协调", now=on(2026, 10, 9))
    incident.refresh_from_db()
    assert due_day(incident) == date(2026, 10, 12), "10 October (make-up) and 12 October"
