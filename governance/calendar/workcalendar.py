"""The working-day calendar: which days are working days in China, and deadlines counted in them.

Where a day's status comes from, first match wins:

1. the admin-editable table ``CalendarDay`` (a holiday or a make-up working day);
2. the ``chinesecalendar`` library, for the years it knows (1.11.0: 2004–2026);
3. for later years, the public holidays the law fixes (``governance.calendar.statutory_holidays``:
   the 13 days of 全国年节及纪念日放假办法 and, until the State Council's schedule is in the
   table, the working days that give back a holiday fallen on a weekend);
4. the weekend fallback: Monday to Friday are working days.

Nothing here raises for a year nobody knows. A deadline that runs into a year whose
schedule is not published (make-up working days unknown) says so through
``WorkingDayDeadline.fallback_years``.

Rules (docs/workcalendar.md explains why):

* The calendar is China's: dates are taken in Asia/Shanghai, whatever the caller's zone.
* ``add_working_days(start, n)``: counting starts on the first working day *after*
  the local date of ``start`` (filed on a working day or on a holiday alike); the
  deadline is the end of the n-th counted working day, 23:59:59.999999 Asia/Shanghai.
  A case is overdue when ``now > deadline`` (``is_overdue``). ``n == 0`` means the end
  of the filing day itself.
* ``add_working_hours(start, h)`` counts clock hours: command centres accept day and night.
* A year's schedule is in the table when the table holds at least one *holiday* row in it.

The table is kept per process (``governance.core.memo``) and re-read at most every
``RECHECK_SECONDS``: the re-read compares the whole table (a few dozen rows a year),
so every write path is seen by every process (web, Celery worker, beat) within
``RECHECK_SECONDS``. A save or delete in this process is seen at once when its
transaction commits; until then only the writer's transaction reads the table on
every call, and a rollback leaves the kept table as it was.
"""

from __future__ import annotations

import time as _time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
from django.db import models
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.calendar import statutory_holidays
from governance.calendar.models import CalendarDay, CalendarDayKind
from governance.core.memo import SharedMemo

# Public holidays are announced in Beijing time, for the whole country.
CALENDAR_TZ = ZoneInfo("Asia/Shanghai")
# The last instant of a day: a deadline "on" a day ends here, so ``deadline.date()`` is the due day.
END_OF_DAY = time(23, 59, 59, 999999)
# How stale another process's change may be, in seconds.
RECHECK_SECONDS = 1.0
# Warn about a coming uncovered year this many days ahead: from 1 October for the next year.
# The State Council publishes the next year's schedule in late October to November.
WARNING_LOOKAHEAD_DAYS = 92


class CoverageSource(models.TextChoices):
    LIBRARY = "library", _("Holiday library (chinesecalendar)")
    TABLE = "table", _("Calendar days table")
    STATUTORY = "statutory", _("Holidays known, make-up days not yet published")
    WEEKENDS_ONLY = "weekends_only", _("Weekends only (no holidays known)")


@dataclass(frozen=True)
class Coverage:
    """Where a year's working days come from."""

    year: int
    source: CoverageSource
    table_holidays: int = 0
    table_working_days: int = 0

    @property
    def weekends_only(self) -> bool:
        return self.source == CoverageSource.WEEKENDS_ONLY

    @property
    def provisional(self) -> bool:
        """No published schedule covers the year: make-up working days (and any extra days off) are unknown."""
        return self.source in (CoverageSource.STATUTORY, CoverageSource.WEEKENDS_ONLY)


@dataclass(frozen=True)
class WorkingDayDeadline:
    """A deadline, and the years between start and deadline that no published schedule covered."""

    deadline: datetime
    fallback_years: tuple[int, ...] = ()

    @property
    def fallback_used(self) -> bool:
        return bool(self.fallback_years)

    def fallback_note(self) -> str:
        """A sentence for the people who read the deadline, or "" when none is needed."""
        if not self.fallback_years:
            return ""
        years = ", ".join(str(y) for y in self.fallback_years)
        if all(statutory_holidays.rules_known(y) for y in self.fallback_years):
            return gettext(
                "The holiday schedule for %(years)s is not published yet: this deadline skips the public holidays "
                "the law fixes, but knows no make-up working days."
            ) % {"years": years}
        return gettext(
            "No public holidays are known for %(years)s: this deadline counts Monday to Friday as working days."
        ) % {"years": years}


# --- Library coverage ---------------------------------------------------------


# The years chinesecalendar has a schedule for (it raises for any other), read from its own tables.
_LIBRARY_YEARS = frozenset(day.year for day in chinese_calendar.constants.holidays)


@cache
def library_covers(year: int) -> bool:
    """Whether chinesecalendar knows the holidays of ``year``. Fixed for the life of the process."""
    return year in _LIBRARY_YEARS


# --- The cached table -----------------------------------------------------------


@dataclass
class _Snapshot:
    """The table as read, and per-year working-day flags built from it on demand."""

    entries: dict[date, bool]  # date -> is a working day
    holidays_by_year: Counter[int]
    working_days_by_year: Counter[int]
    # year -> (flags, prefix): flags[i] is 1 when day i of the year works; prefix[i] = sum(flags[:i]).
    years: dict[int, tuple[bytes, array]] = field(default_factory=dict)


_clock = _time.monotonic


def _read_table() -> dict[date, bool]:
    return {
        day: kind == CalendarDayKind.WORKING_DAY
        for day, kind in CalendarDay.objects.order_by().values_list("date", "kind")
    }


def _build(entries: dict[date, bool]) -> _Snapshot:
    holidays: Counter[int] = Counter()
    working: Counter[int] = Counter()
    for day, works in entries.items():
        (working if works else holidays)[day.year] += 1
    return _Snapshot(entries=entries, holidays_by_year=holidays, working_days_by_year=working)


# The whole table is its own version: a table whose rows read the same keeps the flags already built.
# No shared token: every call would pay a cache read for a table that changes once a year.
TABLE: SharedMemo[_Snapshot] = SharedMemo(
    "governance:calendar-days", version=lambda: _read_table(), build=lambda entries: _build(entries),
    recheck_seconds=RECHECK_SECONDS, token=False, clock=lambda: _clock(),
)


def clear_cache() -> None:
    """Forget the table; the next call re-reads it. For tests that empty tables without signals."""
    TABLE.forget()


def _snapshot() -> _Snapshot:
    return TABLE.get()


def _year(snap: _Snapshot, year: int) -> tuple[bytes, array]:
    built = snap.years.get(year)
    if built is None:
        first = date(year, 1, 1)
        length = (date(year + 1, 1, 1) - first).days if year < 9999 else 365
        covered = library_covers(year)
        # The law's holidays (and, until the schedule is entered, the days that give back those
        # fallen on a weekend) where the library has no data; rows of the table override them.
        days_off = set() if covered else {
            d.day for d in statutory_holidays.days_off(year, in_lieu=not snap.holidays_by_year[year])}
        flags = bytearray(length)
        prefix = array("H", [0]) * (length + 1)
        for i in range(length):
            day = first + timedelta(days=i)
            works = snap.entries.get(day)
            if works is None:
                works = chinese_calendar.is_workday(day) if covered else day.weekday() < 5 and day not in days_off
            flags[i] = works
            prefix[i + 1] = prefix[i] + works
        built = (bytes(flags), prefix)
        snap.years[year] = built
    return built


def _works(snap: _Snapshot, day: date) -> bool:
    flags, _prefix = _year(snap, day.year)
    return bool(flags[day.timetuple().tm_yday - 1])


def _working_days_through(snap: _Snapshot, day: date) -> int:
    """Working days from 1 January of ``day``'s year up to and including ``day``."""
    _flags, prefix = _year(snap, day.year)
    return prefix[day.timetuple().tm_yday]


def _on_table_change(sender, using: str = "default", **kwargs) -> None:
    TABLE.changed(using=using)


def _on_migrate(sender, **kwargs) -> None:
    # ``flush`` (TransactionTestCase teardown) and migrations emit post_migrate, not row signals.
    clear_cache()


post_save.connect(_on_table_change, sender=CalendarDay, dispatch_uid="workcalendar_saved")
post_delete.connect(_on_table_change, sender=CalendarDay, dispatch_uid="workcalendar_deleted")
post_migrate.connect(_on_migrate, dispatch_uid="workcalendar_migrated")


# --- Days -----------------------------------------------------------------------


def _local_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return _local(value).date()
    return value


def _local(value: datetime) -> datetime:
    if timezone.is_naive(value):
        raise ValueError("The working-day calendar needs timezone-aware datetimes.")
    return value.astimezone(CALENDAR_TZ)


def is_working_day(d: date) -> bool:
    """Whether ``d`` is a working day: table row, else chinesecalendar, else Monday to Friday.

    Never raises for a year: years nobody knows fall back to weekends. An aware
    datetime is taken as its date in Asia/Shanghai.
    """
    return _works(_snapshot(), _local_date(d))


def year_coverage(year: int) -> Coverage:
    """Where ``year``'s working days come from.

    The library when it knows the year (table rows still override single days);
    else the table when it holds at least one holiday in the year (an administrator
    has entered the State Council's notice); else the holidays the law fixes, when
    the regulation in force covers the year; else weekends only.
    """
    snap = _snapshot()
    holidays = snap.holidays_by_year[year]
    if library_covers(year):
        source = CoverageSource.LIBRARY
    elif holidays:
        source = CoverageSource.TABLE
    elif statutory_holidays.rules_known(year):
        source = CoverageSource.STATUTORY
    else:
        source = CoverageSource.WEEKENDS_ONLY
    return Coverage(
        year=year, source=source, table_holidays=holidays, table_working_days=snap.working_days_by_year[year]
    )


def uncovered_years_ahead(today: date, *, lookahead_days: int = WARNING_LOOKAHEAD_DAYS) -> list[int]:
    """Years from ``today`` to ``lookahead_days`` ahead whose holiday schedule nobody has entered."""
    last = today + timedelta(days=lookahead_days)
    return [y for y in range(today.year, last.year + 1) if year_coverage(y).provisional]


def calendar_warnings(today: date | None = None) -> list[str]:
    """Messages for the administrators' dashboard: coming years whose holiday schedule nobody has entered."""
    if today is None:
        today = timezone.localdate(timezone=CALENDAR_TZ)
    return [_calendar_warning(year) for year in uncovered_years_ahead(today)]


def _calendar_warning(year: int) -> str:
    if statutory_holidays.rules_known(year):
        return gettext(
            "The State Council's holiday schedule for %(year)s has not been entered: deadlines in %(year)s skip "
            "the public holidays the law fixes, but know no make-up working days. Enter the schedule for "
            "%(year)s under Calendar days."
        ) % {"year": year}
    return gettext(
        "The public holidays and make-up working days of %(year)s are not known: deadlines in %(year)s "
        "count Monday to Friday only. Enter the State Council's holiday schedule for %(year)s under "
        "Calendar days."
    ) % {"year": year}


# --- Deadlines and counts ---------------------------------------------------------


def end_of_day(d: date) -> datetime:
    """The last instant of ``d`` in Asia/Shanghai: where a deadline on ``d`` ends."""
    return datetime.combine(d, END_OF_DAY, tzinfo=CALENDAR_TZ)


def add_working_days(start: datetime, days: int) -> WorkingDayDeadline:
    """The deadline ``days`` working days after ``start``.

    Counting starts on the first working day after ``start``'s date (Asia/Shanghai),
    whether ``start`` fell on a working day or a holiday; the deadline is the end of the
    ``days``-th working day counted. ``days == 0``: the end of ``start``'s own day.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    local_start = _local(start)
    snap = _snapshot()
    day = local_start.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if _works(snap, day):
            counted += 1
    deadline = end_of_day(day)
    return WorkingDayDeadline(deadline=deadline, fallback_years=deadline_fallback_years(local_start, deadline))


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The deadline ``hours`` after ``start``, in clock hours.

    Acceptance limits ("accept within 2 hours") count clock hours, nights and
    holidays included: command centres are staffed around the clock, and a report
    filed on a holiday evening must not wait for the next working morning.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    return _local(start) + timedelta(hours=hours)


_DAY_US = 86_400_000_000


def working_time_before(end: datetime, days: float | Fraction) -> datetime:
    """The instant ``days`` of working time before ``end``.

    Working time runs on working days only, all 24 hours of each (the unit a limit in
    working days is counted in: whole days, ending at midnight); other days add none.
    ``end`` at the last instant of a day (``end_of_day``, where every working-day
    deadline lies) stands for the midnight that ends it, so 0.2 working days before a
    deadline on a working day is 19:12 of that day. ``days <= 0`` answers ``end``.
    """
    local = _local(end)
    left = round(Fraction(days) * _DAY_US)
    if left <= 0:
        return end
    day = local.date()
    offset = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond
    if local.time() == END_OF_DAY:
        offset = _DAY_US
    elif offset == 0:  # midnight ends the day before
        day, offset = day - timedelta(days=1), _DAY_US
    snap = _snapshot()
    while True:
        if _works(snap, day):
            if left <= offset:
                midnight = datetime.combine(day, time(0), tzinfo=CALENDAR_TZ)
                return midnight + timedelta(microseconds=offset - left)
            left -= offset
        day, offset = day - timedelta(days=1), _DAY_US


def working_days_between(a: date | datetime, b: date | datetime) -> int:
    """Working days after ``a``'s date up to and including ``b``'s date (negative when ``b`` is before ``a``).

    The same counting as ``add_working_days``:
    ``working_days_between(s, add_working_days(s, n).deadline) == n``.
    """
    first, last = _local_date(a), _local_date(b)
    if last < first:
        return -working_days_between(last, first)
    snap = _snapshot()
    if first.year == last.year:
        return _working_days_through(snap, last) - _working_days_through(snap, first)
    total = _working_days_through(snap, date(first.year, 12, 31)) - _working_days_through(snap, first)
    for year in range(first.year + 1, last.year):
        total += _working_days_through(snap, date(year, 12, 31))
    return total + _working_days_through(snap, last)


def deadline_fallback_years(start: date | datetime, end: date | datetime) -> tuple[int, ...]:
    """Years from ``start`` to ``end`` (inclusive) that no published schedule covers."""
    first, last = _local_date(start), _local_date(end)
    if last < first:
        first, last = last, first
    return tuple(y for y in range(first.year, last.year + 1) if year_coverage(y).provisional)


def deadline_fallback_used(start: date | datetime, end: date | datetime) -> bool:
    return bool(deadline_fallback_years(start, end))
