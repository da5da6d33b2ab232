"""The working-day calendar: Chinese holidays, make-up working days, the admin table and the weekend fallback.

Facts about 2025 and 2026 are the State Council's published schedules; each test
that relies on one first checks that chinesecalendar says the same, so a library
upgrade that changes them fails loudly here rather than in a deadline.

2027 and 2028 have no published schedule: their public holidays are computed from the
regulation (governance.calendar.statutory_holidays). The lunar dates pinned here were checked
against the Hong Kong general holidays of those years (the same lunar calendar: Lunar New
Year 6 Feb 2027 and 26 Jan 2028, Tuen Ng 9 Jun 2027 and 28 May 2028, the day after the
Mid-Autumn Festival 16 Sep 2027 and 4 Oct 2028, Ching Ming 5 Apr 2027 and 4 Apr 2028) and,
for Qingming, against chinesecalendar's own solar-term formula. Table rows in 2027 are
test data entered the way an administrator would.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from governance.calendar import statutory_holidays, workcalendar
from governance.calendar.models import CalendarDay, CalendarDayKind
from governance.calendar.statutory_holidays import DayOff, Festival, days_off, festival_days, lunar_date, qingming
from governance.calendar.workcalendar import (
    CALENDAR_TZ,
    END_OF_DAY,
    CoverageSource,
    add_working_days,
    add_working_hours,
    calendar_warnings,
    deadline_fallback_used,
    is_working_day,
    uncovered_years_ahead,
    working_days_between,
    year_coverage,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def due(start: datetime, days: int) -> date:
    return add_working_days(start, days).deadline.date()


def holiday(d: date, name: str = "") -> CalendarDay:
    return CalendarDay.objects.create(date=d, kind=CalendarDayKind.HOLIDAY, name=name)


def makeup_day(d: date, name: str = "") -> CalendarDay:
    return CalendarDay.objects.create(date=d, kind=CalendarDayKind.WORKING_DAY, name=name)


def library_days(first: date, last: date) -> list[tuple[date, bool, bool, str | None]]:
    out = []
    d = first
    while d <= last:
        is_holiday, name = chinese_calendar.get_holiday_detail(d)
        out.append((d, chinese_calendar.is_workday(d), is_holiday, name))
        d += timedelta(days=1)
    return out


# --- The library holds the published schedules these tests rely on ------------------


def test_library_knows_the_2026_spring_festival_feb_15_to_23_with_saturdays_14_and_28_worked():
    for d, works, is_holiday, name in library_days(date(2026, 2, 15), date(2026, 2, 23)):
        assert (works, is_holiday, name) == (False, True, "Spring Festival"), d
    for d in (date(2026, 2, 14), date(2026, 2, 28)):
        assert d.weekday() == 5
        assert chinese_calendar.is_workday(d)
        assert chinese_calendar.get_holiday_detail(d) == (False, "Spring Festival")
    assert chinese_calendar.is_workday(date(2026, 2, 24))


def test_library_knows_national_day_2025_oct_1_to_8_with_sep_28_and_oct_11_worked():
    for d, works, _holiday, _name in library_days(date(2025, 10, 1), date(2025, 10, 8)):
        assert not works, d
    assert chinese_calendar.get_holiday_detail(date(2025, 10, 6)) == (True, "Mid-autumn Festival")
    assert date(2025, 9, 28).weekday() == 6 and chinese_calendar.is_workday(date(2025, 9, 28))
    assert date(2025, 10, 11).weekday() == 5 and chinese_calendar.is_workday(date(2025, 10, 11))
    assert not chinese_calendar.is_workday(date(2025, 9, 27))  # an ordinary Saturday


def test_library_knows_national_day_2026_oct_1_to_7_with_sep_20_and_oct_10_worked():
    for d, works, is_holiday, name in library_days(date(2026, 10, 1), date(2026, 10, 7)):
        assert (works, is_holiday, name) == (False, True, "National Day"), d
    assert date(2026, 9, 20).weekday() == 6 and chinese_calendar.is_workday(date(2026, 9, 20))
    assert date(2026, 10, 10).weekday() == 5 and chinese_calendar.is_workday(date(2026, 10, 10))
    assert chinese_calendar.is_workday(date(2026, 10, 8))


def test_library_does_not_know_2027():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


# --- Working days ---------------------------------------------------------------------


def test_working_days_follow_the_library_for_covered_years():
    assert not is_working_day(date(2026, 2, 16))  # Spring Festival, a Monday
    assert is_working_day(date(2026, 2, 14))  # make-up Saturday
    assert is_working_day(date(2025, 9, 28))  # make-up Sunday
    assert not is_working_day(date(2026, 3, 1))  # ordinary Sunday


@pytest.mark.parametrize("year", [1, 1900, 2003])
def test_a_year_before_the_library_and_the_regulation_counts_weekends_only(year):
    assert is_working_day(date(year, 6, 15)) == (date(year, 6, 15).weekday() < 5)
    assert is_working_day(date(year, 1, 1)) == (date(year, 1, 1).weekday() < 5)
    assert year_coverage(year).weekends_only


@pytest.mark.parametrize("year", [2027, 2100, 9999])
def test_any_later_year_answers_with_the_holidays_the_law_fixes(year):
    off = {d.day for d in days_off(year)}
    # 13 working days off a year: each festival day on a weekday, and one given back for each on a weekend
    assert len({d for d in off if d.weekday() < 5}) == 13
    for day in (date(year, 1, 1), date(year, 5, 1), date(year, 10, 1), date(year, 6, 15)):
        assert is_working_day(day) == (day.weekday() < 5 and day not in off)
    assert not is_working_day(date(year, 10, 2))


def test_an_aware_datetime_is_taken_as_its_date_in_shanghai():
    # 16:30 UTC on 13 Feb is 00:30 on Saturday 14 Feb in Shanghai, a make-up working day.
    assert is_working_day(datetime(2026, 2, 13, 16, 30, tzinfo=ZoneInfo("UTC")))
    # 16:30 UTC on 14 Feb is already the first day of the Spring Festival in Shanghai.
    assert not is_working_day(datetime(2026, 2, 14, 16, 30, tzinfo=ZoneInfo("UTC")))


# --- Deadlines ------------------------------------------------------------------------


def test_deadline_is_the_last_instant_of_the_nth_working_day_in_shanghai():
    result = add_working_days(at(2026, 3, 5, 8, 0), 1)  # a Thursday
    assert result.deadline == datetime(2026, 3, 6, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert result.deadline.tzinfo == CALENDAR_TZ
    assert result.deadline.time() == END_OF_DAY
    assert not result.fallback_used and result.fallback_note() == ""


def test_report_filed_late_on_a_working_day_still_counts_from_the_next_working_day():
    assert due(at(2026, 3, 5, 23, 59), 1) == date(2026, 3, 6)
    assert due(at(2026, 3, 6, 18, 0), 1) == date(2026, 3, 9)  # Friday evening → Monday


def test_deadline_across_spring_festival_2026_skips_the_holiday_and_counts_makeup_saturdays():
    filed = at(2026, 2, 13)  # Friday before the festival
    assert [due(filed, n) for n in range(1, 8)] == [
        date(2026, 2, 14),  # make-up Saturday
        date(2026, 2, 24),  # first day after Feb 15–23
        date(2026, 2, 25),
        date(2026, 2, 26),
        date(2026, 2, 27),
        date(2026, 2, 28),  # make-up Saturday
        date(2026, 3, 2),  # Sunday 1 March is not worked
    ]


def test_report_filed_during_spring_festival_counts_from_the_first_working_day_after():
    assert due(at(2026, 2, 18), 1) == date(2026, 2, 24)
    assert due(at(2026, 2, 23, 23, 0), 1) == date(2026, 2, 24)


def test_deadline_across_national_day_2025_counts_the_makeup_sunday_and_saturday():
    filed = at(2025, 9, 26)  # Friday
    assert due(filed, 1) == date(2025, 9, 28)  # Saturday 27 is off, Sunday 28 is worked
    assert due(filed, 3) == date(2025, 9, 30)
    assert due(filed, 4) == date(2025, 10, 9)  # 1–8 October off
    assert due(filed, 6) == date(2025, 10, 11)  # make-up Saturday


def test_deadline_across_national_day_2026_skips_oct_1_to_7_and_counts_saturday_oct_10():
    filed = at(2026, 9, 30)
    assert due(filed, 1) == date(2026, 10, 8)
    assert due(filed, 3) == date(2026, 10, 10)
    assert due(filed, 4) == date(2026, 10, 12)


def test_a_start_in_utc_is_counted_from_its_shanghai_date():
    # 17:30 UTC on Friday 13 Feb is 01:30 on the make-up Saturday 14 Feb in Shanghai:
    # counting starts on the next working day, 24 February.
    assert due(datetime(2026, 2, 13, 17, 30, tzinfo=ZoneInfo("UTC")), 1) == date(2026, 2, 24)


def test_zero_working_days_means_the_end_of_the_filing_day():
    assert add_working_days(at(2026, 2, 16), 0).deadline == datetime(2026, 2, 16, 23, 59, 59, 999999, tzinfo=SHANGHAI)


def test_naive_datetimes_and_negative_limits_are_refused():
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 3, 5, 8, 0), 1)
    with pytest.raises(ValueError):
        add_working_days(at(2026, 3, 5), -1)
    with pytest.raises(ValueError):
        add_working_hours(datetime(2026, 3, 5, 8, 0), 2)


def test_overdue_only_after_the_last_instant_of_the_due_day():
    from incidents.models import Status, is_overdue

    deadline = add_working_days(at(2026, 3, 5), 1).deadline
    assert not is_overdue(Status.ACCEPTED, None, deadline, datetime(2026, 3, 6, 23, 59, 59, 999999, tzinfo=SHANGHAI))
    assert is_overdue(Status.ACCEPTED, None, deadline, datetime(2026, 3, 7, 0, 0, tzinfo=SHANGHAI))


def test_accept_hours_are_clock_hours_through_nights_and_holidays():
    start = at(2026, 2, 15, 22, 0)  # first evening of the Spring Festival
    assert add_working_hours(start, 2) == at(2026, 2, 16, 0, 0)
    assert add_working_hours(start, 0.5) == at(2026, 2, 15, 22, 30)


# --- Years the library does not know ------------------------------------------------


def test_deadline_into_2027_skips_new_years_day_and_says_the_schedule_is_not_published():
    result = add_working_days(at(2026, 12, 31, 15, 0), 1)  # Thursday
    assert result.deadline.date() == date(2027, 1, 4)  # Friday 1 January is New Year's Day, by law
    assert result.fallback_years == (2027,)
    assert result.fallback_used
    assert deadline_fallback_used(at(2026, 12, 31), result.deadline)
    with translation.override("en"):
        note = result.fallback_note()
    assert "2027" in note and "not published" in note and "Monday to Friday" not in note
    assert due(at(2026, 12, 31), 2) == date(2027, 1, 5)


def test_a_deadline_into_a_year_before_the_regulation_still_says_weekends_only():
    result = add_working_days(at(2003, 12, 30), 1)
    assert result.fallback_years == (2003,)
    with translation.override("en"):
        assert "Monday to Friday" in result.fallback_note()


def test_deadline_into_2027_skips_a_holiday_entered_in_the_table():
    holiday(date(2027, 1, 4), "test day off")
    result = add_working_days(at(2026, 12, 31, 15, 0), 1)
    assert result.deadline.date() == date(2027, 1, 5)  # 1 January by law, 4 January by the table
    assert result.fallback_years == ()  # the table now holds the schedule of 2027


def test_deadline_into_2027_counts_a_makeup_saturday_entered_in_the_table():
    holiday(date(2027, 1, 1), "元旦")
    makeup_day(date(2027, 1, 9), "test make-up Saturday")
    assert date(2027, 1, 9).weekday() == 5
    # After 31 Dec: 4, 5, 6, 7, 8 January, then the make-up Saturday 9 January.
    assert due(at(2026, 12, 31), 6) == date(2027, 1, 9)
    assert due(at(2026, 12, 31), 7) == date(2027, 1, 11)


def test_a_table_row_overrides_the_library_in_a_covered_year():
    holiday(date(2026, 2, 24), "extended festival")  # the library says Tuesday 24 Feb is worked
    makeup_day(date(2026, 2, 23), "correction")  # the library says Monday 23 Feb is a holiday
    assert not is_working_day(date(2026, 2, 24))
    assert is_working_day(date(2026, 2, 23))
    filed = at(2026, 2, 13)
    assert [due(filed, n) for n in (1, 2, 3)] == [date(2026, 2, 14), date(2026, 2, 23), date(2026, 2, 25)]
    assert year_coverage(2026).source == CoverageSource.LIBRARY


# --- The holidays the law fixes (全国年节及纪念日放假办法, as amended in 2024) ---------------


def test_a_year_the_library_knows_is_unchanged_day_by_day():
    for year in (2025, 2026):
        day, last = date(year, 1, 1), date(year, 12, 31)
        while day <= last:
            assert is_working_day(day) == chinese_calendar.is_workday(day), day
            day += timedelta(days=1)


def test_the_lunar_and_solar_term_dates_agree_with_every_festival_the_library_knows():
    """2004-2026: the library's holidays are the State Council's, so each computed festival day must be one."""
    names = {"spring": "Spring Festival", "qingming": "Tomb-sweeping Day", "dragon_boat": "Dragon Boat Festival",
             "mid_autumn": "Mid-autumn Festival"}
    # Festival days the library names otherwise: 23 Jun 2012 was a Saturday (the day off given back was
    # Friday 22), and 1 Oct 2020 was the Mid-Autumn Festival and National Day at once.
    named_otherwise = {(2012, "dragon_boat"): None, (2020, "mid_autumn"): "National Day"}
    for year in range(2004, 2027):
        days = {"spring": lunar_date(year, 1, 1)}
        if year >= 2008:  # Qingming, Dragon Boat and Mid-Autumn became holidays in 2008
            days |= {"qingming": qingming(year), "dragon_boat": lunar_date(year, 5, 5),
                     "mid_autumn": lunar_date(year, 8, 15)}
        for festival, day in days.items():
            assert not chinese_calendar.is_workday(day), (year, festival, day)
            expected = named_otherwise.get((year, festival), names[festival])
            assert chinese_calendar.get_holiday_detail(day) == (True, expected), (year, festival, day)


def test_qingming_agrees_with_the_solar_term_formula_of_chinesecalendar_to_2099():
    for year in range(2025, 2100):
        (formula_day,) = [d for d, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
                          if name == "清明"]
        assert qingming(year) == formula_day, year


def test_the_regulations_days_of_2025_and_2026_are_days_off_in_the_published_schedules():
    for year in (2025, 2026):
        computed = days_off(year)
        assert sum(not d.in_lieu for d in computed) == 13
        for day_off in computed:
            assert not chinese_calendar.is_workday(day_off.day), day_off


def test_2027_festival_days_by_the_lunar_calendar():
    assert festival_days(2027) == {
        Festival.NEW_YEAR: (date(2027, 1, 1),),
        Festival.SPRING_FESTIVAL: (date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)),
        Festival.QINGMING: (date(2027, 4, 5),),
        Festival.LABOUR_DAY: (date(2027, 5, 1), date(2027, 5, 2)),
        Festival.DRAGON_BOAT: (date(2027, 6, 9),),
        Festival.MID_AUTUMN: (date(2027, 9, 15),),
        Festival.NATIONAL_DAY: (date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3)),
    }


def test_new_years_eve_is_the_day_before_the_first_of_the_first_month_whether_the_29th_or_the_30th():
    # the twelfth month of the lunar year begun in 2026 has 29 days: its eve is the 29th
    assert lunar_date(2026, 12, 29) == date(2027, 2, 5) == festival_days(2027)[Festival.SPRING_FESTIVAL][0]
    with pytest.raises(ValueError):
        lunar_date(2026, 12, 30)
    # the one begun in 2029 has 30
    assert lunar_date(2029, 12, 30) == date(2030, 2, 2) == festival_days(2030)[Festival.SPRING_FESTIVAL][0]
    # 2025, the first year with the eve a holiday again, agrees with the library
    assert lunar_date(2024, 12, 29) == date(2025, 1, 28) == festival_days(2025)[Festival.SPRING_FESTIVAL][0]
    assert chinese_calendar.get_holiday_detail(date(2025, 1, 28)) == (True, "Spring Festival")


def test_2027_days_off_give_back_the_festival_days_that_fall_on_a_weekend():
    assert [(d.day, d.in_lieu) for d in days_off(2027)] == [
        (date(2027, 1, 1), False),
        (date(2027, 2, 5), False), (date(2027, 2, 6), False), (date(2027, 2, 7), False), (date(2027, 2, 8), False),
        (date(2027, 2, 9), True), (date(2027, 2, 10), True),  # for Saturday 6 and Sunday 7 February
        (date(2027, 4, 5), False),
        (date(2027, 5, 1), False), (date(2027, 5, 2), False),
        (date(2027, 5, 3), True), (date(2027, 5, 4), True),  # 1 and 2 May are a Saturday and a Sunday
        (date(2027, 6, 9), False),
        (date(2027, 9, 15), False),
        (date(2027, 10, 1), False), (date(2027, 10, 2), False), (date(2027, 10, 3), False),
        (date(2027, 10, 4), True), (date(2027, 10, 5), True),
    ]


def test_2028_festival_days_and_days_given_back():
    assert festival_days(2028) == {
        Festival.NEW_YEAR: (date(2028, 1, 1),),
        Festival.SPRING_FESTIVAL: (date(2028, 1, 25), date(2028, 1, 26), date(2028, 1, 27), date(2028, 1, 28)),
        Festival.QINGMING: (date(2028, 4, 4),),
        Festival.LABOUR_DAY: (date(2028, 5, 1), date(2028, 5, 2)),
        Festival.DRAGON_BOAT: (date(2028, 5, 28),),
        Festival.NATIONAL_DAY: (date(2028, 10, 1), date(2028, 10, 2), date(2028, 10, 3)),
        Festival.MID_AUTUMN: (date(2028, 10, 3),),
    }
    assert [d for d in days_off(2028) if d.in_lieu] == [
        DayOff(date(2028, 1, 3), Festival.NEW_YEAR, in_lieu=True),  # 1 January is a Saturday
        DayOff(date(2028, 5, 29), Festival.DRAGON_BOAT, in_lieu=True),  # 28 May is a Sunday
        DayOff(date(2028, 10, 4), Festival.NATIONAL_DAY, in_lieu=True),  # 1 October is a Sunday
        DayOff(date(2028, 10, 5), Festival.MID_AUTUMN, in_lieu=True),  # 3 October is both festivals' day
    ]


def test_the_regulation_of_2024_is_not_applied_to_earlier_years():
    assert days_off(2024) == ()
    assert not statutory_holidays.rules_known(2024) and statutory_holidays.rules_known(2025)
    with pytest.raises(ValueError):
        festival_days(2003)


@pytest.mark.parametrize(
    ("filed", "days", "expected", "why"),
    [
        (at(2027, 2, 4), 1, date(2027, 2, 11), "5-8 Feb the festival, 9-10 Feb given back for the weekend"),
        (at(2027, 2, 4), 3, date(2027, 2, 15), "11, 12 and (after the weekend) 15 February"),
        (at(2027, 4, 2), 1, date(2027, 4, 6), "Monday 5 April is Qingming"),
        (at(2027, 4, 30), 1, date(2027, 5, 5), "1-2 May on a weekend, given back on 3-4 May"),
        (at(2027, 6, 8), 1, date(2027, 6, 10), "Wednesday 9 June is the Dragon Boat Festival"),
        (at(2027, 9, 14), 1, date(2027, 9, 16), "Wednesday 15 September is the Mid-Autumn Festival"),
        (at(2027, 9, 30), 1, date(2027, 10, 6), "1-3 October, and 4-5 October given back"),
        (at(2027, 12, 31), 1, date(2028, 1, 4), "1 January 2028 a Saturday, given back on Monday 3 January"),
    ],
)
def test_2027_deadlines_skip_the_holidays_the_law_fixes(filed, days, expected, why):
    result = add_working_days(filed, days)
    assert result.deadline.date() == expected, why
    assert result.fallback_used  # the make-up working days of 2027 are still unknown


def test_entering_the_schedule_replaces_the_guessed_days_given_back_but_keeps_the_law():
    assert not is_working_day(date(2027, 2, 9)) and not is_working_day(date(2027, 2, 10))
    # The administrator starts entering the State Council's notice for 2027 ...
    holiday(date(2027, 1, 1), "元旦")
    # ... from now on the notice says where the days given back go: none is guessed any more,
    assert is_working_day(date(2027, 2, 9)) and is_working_day(date(2027, 2, 10))
    assert is_working_day(date(2027, 5, 3)) and is_working_day(date(2027, 10, 4))
    # while the festival days themselves stay off, entered or not.
    assert not is_working_day(date(2027, 2, 5)) and not is_working_day(date(2027, 2, 8))
    assert not is_working_day(date(2027, 10, 1)) and not is_working_day(date(2027, 6, 9))
    assert year_coverage(2027).source == CoverageSource.TABLE


def test_a_table_row_overrides_the_regulation():
    makeup_day(date(2027, 2, 10), "corrected")
    assert is_working_day(date(2027, 2, 10))
    assert year_coverage(2027).source == CoverageSource.STATUTORY  # a make-up day alone is no schedule
    assert not is_working_day(date(2027, 2, 9))


# --- Coverage and warnings -----------------------------------------------------------


def test_year_coverage_names_its_source():
    assert year_coverage(2026).source == CoverageSource.LIBRARY
    assert year_coverage(2004).source == CoverageSource.LIBRARY
    assert year_coverage(2003).source == CoverageSource.WEEKENDS_ONLY
    assert year_coverage(2003).provisional
    assert year_coverage(2027).source == CoverageSource.STATUTORY
    assert year_coverage(2027).provisional and not year_coverage(2027).weekends_only
    makeup_day(date(2027, 2, 6))
    assert year_coverage(2027).source == CoverageSource.STATUTORY  # a make-up day alone is not a schedule
    holiday(date(2027, 1, 1))
    coverage = year_coverage(2027)
    assert (coverage.source, coverage.table_holidays, coverage.table_working_days) == (CoverageSource.TABLE, 1, 1)
    assert not coverage.provisional


def test_administrators_are_warned_in_autumn_when_next_years_schedule_is_not_entered():
    assert uncovered_years_ahead(date(2026, 11, 23)) == [2027]
    with translation.override("en"):
        warnings = calendar_warnings(date(2026, 11, 23))
    assert warnings == [
        "The State Council's holiday schedule for 2027 has not been entered: deadlines in 2027 skip the public "
        "holidays the law fixes, but know no make-up working days. Enter the schedule for 2027 under Calendar days."]
    with translation.override("zh-hans"):
        assert "2027" in calendar_warnings(date(2026, 11, 23))[0] and "调休" in calendar_warnings(date(2026, 11, 23))[0]


def test_no_warning_once_a_holiday_of_next_year_is_in_the_table():
    holiday(date(2027, 1, 1), "元旦")
    assert calendar_warnings(date(2026, 11, 23)) == []


def test_a_makeup_day_alone_does_not_silence_the_warning():
    makeup_day(date(2027, 2, 6))
    assert uncovered_years_ahead(date(2026, 11, 23)) == [2027]


def test_no_warning_about_next_year_before_october():
    assert calendar_warnings(date(2026, 6, 1)) == []
    assert uncovered_years_ahead(date(2026, 9, 30)) == []
    assert uncovered_years_ahead(date(2026, 10, 1)) == [2027]


def test_the_current_year_is_warned_about_when_unknown():
    assert uncovered_years_ahead(date(2027, 3, 1)) == [2027]


# --- Counting between dates ---------------------------------------------------------


def test_working_days_between_counts_after_the_first_date_up_to_the_last():
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6
    assert working_days_between(date(2026, 2, 28), date(2026, 2, 13)) == -6
    assert working_days_between(date(2026, 3, 5), date(2026, 3, 5)) == 0


def test_working_days_between_agrees_with_the_library_over_whole_years():
    first, last = date(2023, 6, 30), date(2026, 1, 15)
    expected = sum(
        chinese_calendar.is_workday(first + timedelta(days=i)) for i in range(1, (last - first).days + 1)
    )
    assert working_days_between(first, last) == expected


@pytest.mark.parametrize("start", [at(2025, 9, 26), at(2026, 2, 13), at(2026, 2, 18), at(2026, 12, 28)])
@pytest.mark.parametrize("days", [0, 1, 3, 5, 10, 20])
def test_working_days_between_inverts_add_working_days(start, days):
    assert working_days_between(start, add_working_days(start, days).deadline) == days


# --- The cache ---------------------------------------------------------------------


def test_a_new_table_row_is_seen_by_the_next_computation():
    filed = at(2027, 3, 4)  # Thursday
    assert due(filed, 1) == date(2027, 3, 5)
    row = holiday(date(2027, 3, 5))
    assert due(filed, 1) == date(2027, 3, 8)
    row.kind = CalendarDayKind.WORKING_DAY
    row.save()
    assert due(filed, 1) == date(2027, 3, 5)
    row.delete()
    assert not CalendarDay.objects.exists()
    assert year_coverage(2027).source == CoverageSource.STATUTORY


@pytest.fixture
def quiet_process(monkeypatch):
    """A process that has not written the table itself, with a clock the test moves by hand."""
    clock = [1000.0]
    monkeypatch.setattr(workcalendar, "_clock", lambda: clock[0])
    workcalendar.clear_cache()
    yield clock
    workcalendar.clear_cache()


def test_a_write_by_another_process_is_seen_within_the_recheck_interval(quiet_process):
    clock = quiet_process
    filed = at(2027, 3, 4)
    assert due(filed, 1) == date(2027, 3, 5)
    # bulk_create sends no signal: this process learns of the row as another process would.
    CalendarDay.objects.bulk_create([CalendarDay(date=date(2027, 3, 5), kind=CalendarDayKind.HOLIDAY)])
    assert due(filed, 1) == date(2027, 3, 5)  # within the interval: the cached table
    clock[0] += workcalendar.RECHECK_SECONDS
    assert due(filed, 1) == date(2027, 3, 8)
    CalendarDay.objects.update(kind=CalendarDayKind.WORKING_DAY)  # no signal, no updated_at change
    clock[0] += workcalendar.RECHECK_SECONDS
    assert due(filed, 1) == date(2027, 3, 5)


def test_after_its_own_write_commits_a_process_rereads_once_per_interval_again(
    quiet_process, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        holiday(date(2027, 3, 5))
        assert workcalendar.TABLE.pending()  # uncommitted: re-read on every call
    assert not workcalendar.TABLE.pending()
    with django_assert_max_num_queries(1):
        for _ in range(50):
            assert due(at(2027, 3, 4), 1) == date(2027, 3, 8)


def test_a_rolled_back_row_is_not_seen():
    filed = at(2027, 3, 4)
    with pytest.raises(RuntimeError), transaction.atomic():
        holiday(date(2027, 3, 5))
        assert due(filed, 1) == date(2027, 3, 8)
        raise RuntimeError("rolled back")
    assert due(filed, 1) == date(2027, 3, 5)


def test_after_a_rolled_back_write_the_process_reads_the_table_once_per_interval(
    quiet_process, django_assert_num_queries
):
    filed = at(2027, 3, 4)  # a Thursday of an ordinary week
    assert due(filed, 1) == date(2027, 3, 5)
    with pytest.raises(RuntimeError), transaction.atomic():
        holiday(date(2027, 3, 5))
        for _ in range(2):
            with CaptureQueriesContext(connection) as reads:  # its own write, uncommitted: read on every call
                assert due(filed, 1) == date(2027, 3, 8)
            assert len(reads) >= 1
        raise RuntimeError("rolled back")
    with django_assert_num_queries(0):  # the table kept before the write still stands
        for _ in range(20):
            assert due(filed, 1) == date(2027, 3, 5)


def test_many_deadlines_read_the_table_at_most_once(django_assert_max_num_queries, quiet_process):
    with django_assert_max_num_queries(1):
        for i in range(500):
            add_working_days(at(2026, 1, 1) + timedelta(hours=17 * i), 5)


# --- Admin -------------------------------------------------------------------------


def test_the_calendar_admin_lists_days_and_warns_about_unknown_years(admin_client, monkeypatch):
    row = holiday(date(2026, 10, 1), "国庆节")
    monkeypatch.setattr("governance.calendar.admin.calendar_warnings", lambda today=None: ["Calendar warning"])
    response = admin_client.get("/admin/governance/calendarday/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "国庆节" in body and "Calendar warning" in body
    assert admin_client.get("/admin/governance/calendarday/?date__year=2026&kind=holiday").status_code == 200
    assert admin_client.get("/admin/governance/calendarday/?q=国庆").status_code == 200
    history = admin_client.get(f"/admin/governance/calendarday/{row.pk}/history/")
    assert history.status_code == 200 and row.history.count() == 1
