"""The working-day calendar: Chinese holidays, make-up working days, the admin table and the weekend fallback.

Facts about 2025 and 2026 are the State Council's published schedules; each test
that relies on one first checks that chinesecalendar says the same, so a library
upgrade that changes them fails loudly here rather than in a deadline.
Dates in 2027 are NOT the real 2027 schedule (unknown when this was written):
they are test data entered the way an administrator would.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from governance import workcalendar
from governance.models import CalendarDay, CalendarDayKind
from governance.workcalendar import (
    CALENDAR_TZ,
    END_OF_DAY,
    CoverageSource,
    add_working_days,
    add_working_hours,
    calendar_warnings,
    deadline_fallback_used,
    is_overdue,
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


@pytest.mark.parametrize("year", [1900, 2003, 2027, 2100, 9999])
def test_any_year_answers_without_raising(year):
    assert is_working_day(date(year, 6, 15)) == (date(year, 6, 15).weekday() < 5)


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
    deadline = add_working_days(at(2026, 3, 5), 1).deadline
    assert not is_overdue(deadline, now=datetime(2026, 3, 6, 23, 59, 59, tzinfo=SHANGHAI))
    assert is_overdue(deadline, now=datetime(2026, 3, 7, 0, 0, tzinfo=SHANGHAI))


def test_accept_hours_are_clock_hours_through_nights_and_holidays():
    start = at(2026, 2, 15, 22, 0)  # first evening of the Spring Festival
    assert add_working_hours(start, 2) == at(2026, 2, 16, 0, 0)
    assert add_working_hours(start, 0.5) == at(2026, 2, 15, 22, 30)


# --- Years the library does not know ------------------------------------------------


def test_deadline_into_2027_falls_back_to_weekends_and_says_so():
    result = add_working_days(at(2026, 12, 31, 15, 0), 1)  # Thursday
    assert result.deadline.date() == date(2027, 1, 1)  # a Friday, counted: nobody said it is a holiday
    assert result.fallback_years == (2027,)
    assert result.fallback_used
    assert deadline_fallback_used(at(2026, 12, 31), result.deadline)
    with translation.override("en"):
        assert "2027" in result.fallback_note()
    assert due(at(2026, 12, 31), 2) == date(2027, 1, 4)  # the weekend of 2–3 January is skipped


def test_deadline_into_2027_skips_a_holiday_entered_in_the_table():
    holiday(date(2027, 1, 1), "元旦")
    result = add_working_days(at(2026, 12, 31, 15, 0), 1)
    assert result.deadline.date() == date(2027, 1, 4)
    assert result.fallback_years == ()  # the table now covers 2027


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


# --- Coverage and warnings -----------------------------------------------------------


def test_year_coverage_names_its_source():
    assert year_coverage(2026).source == CoverageSource.LIBRARY
    assert year_coverage(2004).source == CoverageSource.LIBRARY
    assert year_coverage(2003).source == CoverageSource.WEEKENDS_ONLY
    assert year_coverage(2027).weekends_only
    makeup_day(date(2027, 2, 6))
    assert year_coverage(2027).weekends_only  # a make-up day alone is not a schedule
    holiday(date(2027, 1, 1))
    coverage = year_coverage(2027)
    assert (coverage.source, coverage.table_holidays, coverage.table_working_days) == (CoverageSource.TABLE, 1, 1)


def test_administrators_are_warned_in_autumn_when_next_year_is_unknown():
    assert uncovered_years_ahead(date(2026, 11, 23)) == [2027]
    with translation.override("en"):
        warnings = calendar_warnings(date(2026, 11, 23))
    assert len(warnings) == 1 and "2027" in warnings[0]


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
    filed = at(2026, 12, 31)
    assert due(filed, 1) == date(2027, 1, 1)
    row = holiday(date(2027, 1, 1))
    assert due(filed, 1) == date(2027, 1, 4)
    row.kind = CalendarDayKind.WORKING_DAY
    row.save()
    assert due(filed, 1) == date(2027, 1, 1)
    row.delete()
    assert not CalendarDay.objects.exists()
    assert year_coverage(2027).weekends_only


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
    filed = at(2026, 12, 31)
    assert due(filed, 1) == date(2027, 1, 1)
    # bulk_create sends no signal: this process learns of the row as another process would.
    CalendarDay.objects.bulk_create([CalendarDay(date=date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY)])
    assert due(filed, 1) == date(2027, 1, 1)  # within the interval: the cached table
    clock[0] += workcalendar.RECHECK_SECONDS
    assert due(filed, 1) == date(2027, 1, 4)
    CalendarDay.objects.update(kind=CalendarDayKind.WORKING_DAY)  # no signal, no updated_at change
    clock[0] += workcalendar.RECHECK_SECONDS
    assert due(filed, 1) == date(2027, 1, 1)


def test_after_its_own_write_commits_a_process_rereads_once_per_interval_again(
    quiet_process, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        holiday(date(2027, 1, 1))
        assert workcalendar.TABLE.pending()  # uncommitted: re-read on every call
    assert not workcalendar.TABLE.pending()
    with django_assert_max_num_queries(1):
        for _ in range(50):
            assert due(at(2026, 12, 31), 1) == date(2027, 1, 4)


def test_a_rolled_back_row_is_not_seen():
    filed = at(2026, 12, 31)
    with pytest.raises(RuntimeError), transaction.atomic():
        holiday(date(2027, 1, 1))
        assert due(filed, 1) == date(2027, 1, 4)
        raise RuntimeError("rolled back")
    assert due(filed, 1) == date(2027, 1, 1)


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
    monkeypatch.setattr("governance.admin.calendar_warnings", lambda today=None: ["Calendar warning"])
    response = admin_client.get("/admin/governance/calendarday/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "国庆节" in body and "Calendar warning" in body
    assert admin_client.get("/admin/governance/calendarday/?date__year=2026&kind=holiday").status_code == 200
    assert admin_client.get("/admin/governance/calendarday/?q=国庆").status_code == 200
    history = admin_client.get(f"/admin/governance/calendarday/{row.pk}/history/")
    assert history.status_code == 200 and row.history.count() == 1
