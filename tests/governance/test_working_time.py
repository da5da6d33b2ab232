"""Working time: the hours of working days, which a share of a working-day limit is measured in.

2026 in chinesecalendar: 15–23 February off for the Spring Festival, Saturday 14 February worked.
"""

from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from governance.calendar import workcalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_a_share_of_the_last_working_day_before_its_deadline():
    due = workcalendar.end_of_day(date(2026, 2, 25))
    assert workcalendar.working_time_before(due, Fraction(3, 5)) == at(2026, 2, 25, 9, 36)
    assert workcalendar.working_time_before(due, 1) == at(2026, 2, 25, 0, 0)


def test_working_time_skips_the_holiday_backwards_to_the_make_up_saturday():
    due = workcalendar.end_of_day(date(2026, 2, 24))
    assert workcalendar.working_time_before(due, 1.6) == at(2026, 2, 14, 9, 36)


def test_from_an_instant_inside_a_working_day():
    assert workcalendar.working_time_before(at(2026, 2, 24, 6, 0), 0.5) == at(2026, 2, 14, 18, 0)


def test_midnight_ends_the_day_before():
    assert workcalendar.working_time_before(at(2026, 2, 25, 0, 0), 0.25) == at(2026, 2, 24, 18, 0)


def test_no_working_time_answers_the_instant_itself():
    due = at(2026, 2, 25, 12, 0)
    assert workcalendar.working_time_before(due, 0) == due


@pytest.mark.parametrize("start", [at(2026, 2, 13, 10, 0), at(2026, 2, 16, 9, 0), at(2026, 9, 29, 23, 0),
                                   at(2026, 12, 28, 8, 0)])
@pytest.mark.parametrize("days", [1, 3, 6])
def test_a_whole_limit_before_its_deadline_is_the_start_of_the_first_counted_day(start, days):
    """The same counting as ``add_working_days``: the limit's working time ends where counting began."""
    due = workcalendar.add_working_days(start, days).deadline
    first_counted = start.date() + timedelta(days=1)
    while not workcalendar.is_working_day(first_counted):
        first_counted += timedelta(days=1)
    assert workcalendar.working_time_before(due, days) == at(first_counted.year, first_counted.month,
                                                             first_counted.day)
