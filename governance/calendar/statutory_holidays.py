"""The public holidays the law fixes, for any year: 全国年节及纪念日放假办法, as amended in 2024.

The regulation (State Council Order No. 795 of 10 November 2024, in force from 1 January 2025)
fixes in Article 2 the holidays of all citizens, 13 days a year:

=====================  =====  ===================================================
New Year's Day         1 day  1 January
Spring Festival        4 days lunar New Year's Eve and the 1st-3rd of the first lunar month
Qingming Festival      1 day  the day of the Qingming solar term
Labour Day             2 days 1 and 2 May
Dragon Boat Festival   1 day  the 5th of the 5th lunar month
Mid-Autumn Festival    1 day  the 15th of the 8th lunar month
National Day           3 days 1-3 October
=====================  =====  ===================================================

Article 6: a holiday of all citizens that falls on a Saturday or a Sunday is given back on a
working day (补假). Article 7: the State Council joins holidays and weekends into longer breaks
with make-up working days (调休); that schedule is published each year, late in the year before,
and only an administrator can enter it (``governance.CalendarDay``).

What this module cannot know is *which* working day a holiday is given back on: the
regulation does not say. ``days_off(year)`` places it on the first Monday-Friday after the
festival that is not itself a holiday, where the State Council placed it in 47 of the 49 cases
from 2008 to 2026 (the exceptions: the Dragon Boat Festival of 2012, given back the Friday
before, and the Mid-Autumn Festival of 2015, folded into the National Day week). A day that is
the holiday of two festivals at once (the Mid-Autumn Festival on 1-3 October) is given back too,
as in 2009 and 2020.

Lunar dates and the solar term come from tyme4py, which computes the Chinese calendar by the
national standard GB/T 33661-2017 (农历的编算和颁行) in Beijing time, for years up to 9999. The
rules are those in force from 2025; earlier years are chinesecalendar's, or unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from django.db import models
from django.utils.translation import gettext_lazy as _
from tyme4py.lunar import LunarDay
from tyme4py.solar import SolarDay, SolarTerm

# The first year of the rules above (the 2024 amendment); the last year the lunar library computes.
RULES_IN_FORCE_FROM = 2025
LAST_YEAR = 9999


class Festival(models.TextChoices):
    NEW_YEAR = "new_year", _("New Year's Day")
    SPRING_FESTIVAL = "spring_festival", _("Spring Festival")
    QINGMING = "qingming", _("Qingming Festival")
    LABOUR_DAY = "labour_day", _("Labour Day")
    DRAGON_BOAT = "dragon_boat", _("Dragon Boat Festival")
    MID_AUTUMN = "mid_autumn", _("Mid-Autumn Festival")
    NATIONAL_DAY = "national_day", _("National Day")


@dataclass(frozen=True)
class DayOff:
    """A day off the law gives: a festival's own day, or a working day given back for one (``in_lieu``)."""

    day: date
    festival: Festival
    in_lieu: bool = False


def rules_known(year: int) -> bool:
    """Whether the regulation's holidays of ``year`` can be computed (2025 to 9999)."""
    return RULES_IN_FORCE_FROM <= year <= LAST_YEAR


def _gregorian(day: SolarDay) -> date:
    return date(day.get_year(), day.get_month(), day.get_day())


def lunar_date(year: int, month: int, day: int) -> date:
    """The Gregorian date of a day of the lunar year that begins in ``year`` (month 1-12, not a leap month)."""
    return _gregorian(LunarDay.from_ymd(year, month, day).get_solar_day())


def qingming(year: int) -> date:
    """The day (Beijing time) of the Qingming solar term of ``year``."""
    return _gregorian(SolarTerm.from_name(year, "清明").get_solar_day())


def festival_days(year: int) -> dict[Festival, tuple[date, ...]]:
    """The days Article 2 fixes for ``year``, festival by festival, in the calendar's order."""
    if not rules_known(year):
        raise ValueError(f"the regulation of 2024 fixes no holidays for {year}")
    new_year = lunar_date(year, 1, 1)
    days = {
        Festival.NEW_YEAR: (date(year, 1, 1),),
        # New Year's Eve is the last day of the twelfth month, the 29th or the 30th: the day before.
        Festival.SPRING_FESTIVAL: tuple(new_year + timedelta(days=n) for n in (-1, 0, 1, 2)),
        Festival.QINGMING: (qingming(year),),
        Festival.LABOUR_DAY: (date(year, 5, 1), date(year, 5, 2)),
        Festival.DRAGON_BOAT: (lunar_date(year, 5, 5),),
        Festival.MID_AUTUMN: (lunar_date(year, 8, 15),),
        Festival.NATIONAL_DAY: (date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)),
    }
    return dict(sorted(days.items(), key=lambda item: item[1][0]))


@cache
def days_off(year: int, *, in_lieu: bool = True) -> tuple[DayOff, ...]:
    """The days off of ``year`` the law gives, by date: every festival day, and (``in_lieu``) the days given back.

    A festival day on a Saturday or Sunday, or on another festival's day, is given back on
    the first Monday-Friday after its festival that is neither a festival day nor already given
    back. Empty for a year the rules do not cover.
    """
    if not rules_known(year):
        return ()
    by_festival = festival_days(year)
    festival_dates = {day for days in by_festival.values() for day in days}
    result: list[DayOff] = []
    taken: set[date] = set()
    for festival, days in by_festival.items():
        owed = sum(1 for day in days if day.weekday() >= 5 or day in taken)
        taken.update(days)
        result.extend(DayOff(day, festival) for day in days)
        if not in_lieu:
            continue
        day = days[-1]
        while owed:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in festival_dates and day not in taken:
                result.append(DayOff(day, festival, in_lieu=True))
                taken.add(day)
                owed -= 1
    # a day shared by two festivals is one day off: keep its first festival
    unique: dict[date, DayOff] = {}
    for day_off in result:
        unique.setdefault(day_off.day, day_off)
    return tuple(sorted(unique.values(), key=lambda d: d.day))
