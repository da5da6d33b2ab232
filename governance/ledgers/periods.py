"""Filing periods: which periods a requirement is filed for, and when each filing is due.

One rule, one place: the pages, the progress arithmetic, the alert watcher, the exports and the demo
all ask this module. A period has a key stored on every filing (``2026-03`` for a month, ``2026Q1``
for a quarter, ``once`` for a requirement filed once) and is due ``FILING_GRACE_DAYS`` after it ends
(the first days of the next month are when units write up the last one); a "once" filing is due on
the requirement's deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

FILING_GRACE_DAYS = 5


class Cycle(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    ONCE = "once", _("Once")


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date
    key: str
    due: date

    @property
    def label(self) -> str:
        return self.key


def _month_end(day: date) -> date:
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def period_of(cycle: str, day: date, *, deadline: date | None = None) -> Period:
    """The period of ``cycle`` that holds ``day``."""
    if cycle == Cycle.MONTHLY:
        start = day.replace(day=1)
        end = _month_end(day)
        return Period(start, end, f"{day.year}-{day.month:02d}", end + timedelta(days=FILING_GRACE_DAYS))
    if cycle == Cycle.QUARTERLY:
        quarter = (day.month - 1) // 3
        start = date(day.year, quarter * 3 + 1, 1)
        end = _month_end(date(day.year, quarter * 3 + 3, 1))
        return Period(start, end, f"{day.year}Q{quarter + 1}", end + timedelta(days=FILING_GRACE_DAYS))
    end = deadline or day
    return Period(date.min, end, "once", end)


def periods_between(cycle: str, first: date, last: date, *, deadline: date | None = None) -> list[Period]:
    """Every period of ``cycle`` from the one holding ``first`` to the one holding ``last``, in order."""
    if cycle == Cycle.ONCE:
        return [period_of(cycle, first, deadline=deadline or last)]
    periods: list[Period] = []
    day = first
    while day <= last:
        period = period_of(cycle, day)
        periods.append(period)
        day = period.end + timedelta(days=1)
    return periods


def requirement_periods(cycle: str, starts_on: date, ends_on: date, deadline: date | None) -> list[Period]:
    """The periods a requirement is filed for: from the programme's start to its deadline (or the programme's end)."""
    last = min(deadline, ends_on) if deadline else ends_on
    if last < starts_on:
        last = starts_on
    return periods_between(cycle, starts_on, last, deadline=deadline or ends_on)


def due_periods(cycle: str, starts_on: date, ends_on: date, deadline: date | None, today: date) -> list[Period]:
    """The periods whose filing is due by ``today`` (due date passed)."""
    return [p for p in requirement_periods(cycle, starts_on, ends_on, deadline) if p.due < today]


def is_valid_key(cycle: str, key: str) -> bool:
    if cycle == Cycle.ONCE:
        return key == "once"
    try:
        if cycle == Cycle.MONTHLY:
            year, month = key.split("-")
            return len(year) == 4 and len(month) == 2 and 1 <= int(month) <= 12
        year, quarter = key.split("Q")
        return len(year) == 4 and quarter in {"1", "2", "3", "4"}
    except ValueError:
        return False
