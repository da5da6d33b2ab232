"""Deadlines of an incident, from its category's time limits and the working-day calendar.

* accept: within ``accept_hours`` clock hours (command centres take calls day and night);
* handle: within ``handle_working_days`` working days from acceptance, counted by
  ``governance.workcalendar`` (Chinese holidays and make-up working days, the
  admin-editable table for years the library does not know, weekends as a last resort).
"""

from __future__ import annotations

from datetime import datetime

from governance import workcalendar
from incidents.models import Category


def accept_deadline(start: datetime, category: Category) -> datetime:
    return workcalendar.add_working_hours(start, category.accept_hours)


def handle_deadline(start: datetime, category: Category) -> tuple[datetime, str]:
    """The handling deadline, and a note when it assumed weekends only for a year nobody has entered."""
    result = workcalendar.add_working_days(start, category.handle_working_days)
    return result.deadline, result.fallback_note()
