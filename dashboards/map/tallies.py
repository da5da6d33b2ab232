"""Keeping the tallies exact on every write: the difference one save makes, applied in its transaction.

An incident adds to two tally rows: its grid × category row (total, open,
closed, …) and the grid × day rows of the days it was filed and closed. A save
moves it from the state it was loaded in (``Incident.loaded_values``) to the
state it is saved in; the receiver (``dashboards.map.signals``) subtracts what
the old state added and adds what the new one adds, with one ``UPDATE`` per row
touched, inside the writer's transaction. So the tallies commit or roll back
with the incident, and a filing costs two small updates instead of recounting
its grid (docs/decisions.md, 2026-11-23).

``overdue`` is counted as of the write here and brought up to the minute by
``refresh_overdue`` (time alone makes incidents overdue). A save whose old state
is unknown (an incident read with ``only``/``defer``) falls back to recounting
its rows after commit (``stats.refresh_incident_keys``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dashboards.models import GridCategoryTally, GridDayTally
from incidents.models import OPEN_STATUSES, Status
from incidents.models import is_overdue as incident_is_overdue

# What an incident's contribution depends on; a save that changes none of these changes no tally.
TALLY_FIELDS = ("grid_id", "category_id", "status", "reported_at", "closed_at", "accept_due_at", "handle_due_at")


def is_overdue(state: dict, now: datetime) -> bool:
    """``incidents.models.is_overdue`` for one state as the tallies keep it."""
    return incident_is_overdue(state["status"], state["accept_due_at"], state["handle_due_at"], now)


def category_columns(state: dict, now: datetime) -> dict[str, float]:
    """What one incident adds to its grid × category row: ``stats.incident_aggregates`` for a single row."""
    closed = state["status"] == Status.CLOSED
    on_time = closed and (state["handle_due_at"] is None
                          or (state["closed_at"] is not None and state["closed_at"] <= state["handle_due_at"]))
    handling = (state["closed_at"] - state["reported_at"]).total_seconds() if closed and state["closed_at"] else 0.0
    return {
        "total": 1,
        "dropped": int(state["status"] in (Status.VOIDED, Status.MERGED)),
        "open": int(state["status"] in OPEN_STATUSES),
        "overdue": int(is_overdue(state, now)),
        "closed": int(closed),
        "closed_on_time": int(on_time),
        "handling_seconds": handling,
    }


def day_keys(state: dict) -> list[tuple[str, date]]:
    """The grid × day columns one incident adds 1 to: the day it was filed, the day it was closed."""
    keys = [("reported", timezone.localdate(state["reported_at"]))]
    if state["status"] == Status.CLOSED and state["closed_at"] is not None:
        keys.append(("closed", timezone.localdate(state["closed_at"])))
    return keys


@dataclass
class Change:
    """Column deltas per tally row, from one or more saves."""

    categories: dict[tuple[int, int], dict[str, float]]
    days: dict[tuple[int, date], dict[str, int]]

    def is_empty(self) -> bool:
        return not self.categories and not self.days


def change_between(old: dict | None, new: dict, now: datetime) -> Change:
    """What moving one incident from ``old`` (None: it is new) to ``new`` does to the tallies."""
    categories: dict[tuple[int, int], dict[str, float]] = defaultdict(lambda: defaultdict(int))
    days: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for state, sign in ((old, -1), (new, 1)):
        if state is None:
            continue
        row = categories[(state["grid_id"], state["category_id"])]
        for column, value in category_columns(state, now).items():
            row[column] += sign * value
        for column, day in day_keys(state):
            days[(state["grid_id"], day)][column] += sign
    return Change(
        categories={key: cols for key, row in categories.items() if (cols := {c: v for c, v in row.items() if v})},
        days={key: cols for key, row in days.items() if (cols := {c: v for c, v in row.items() if v})},
    )


def apply_change(change: Change, path_of: Callable[[int], str | None], now: datetime) -> None:
    """Apply the deltas, one ``UPDATE`` per row (rows in key order, so writers never deadlock).

    A row that does not exist yet is created when the change only adds to it; a
    change that would take from a missing row is dropped (the tallies were never
    built for it: the nightly rebuild counts it). No figure goes below zero.
    """
    for (grid_id, category_id), columns in sorted(change.categories.items()):
        _update_or_create(GridCategoryTally, {"grid_id": grid_id, "category_id": category_id}, columns,
                          lambda grid_id=grid_id: {"path": path_of(grid_id), "refreshed_at": now})
    for (grid_id, day), columns in sorted(change.days.items()):
        _update_or_create(GridDayTally, {"grid_id": grid_id, "day": day}, columns,
                          lambda grid_id=grid_id: {"path": path_of(grid_id)})


def _add(model, key: dict, columns: dict) -> int:
    """``UPDATE … SET column = GREATEST(column + delta, 0) WHERE key``: how many rows it changed.

    Written as SQL rather than ``update(F(...))``: it runs in every filing, and the ORM's
    compiling cost more than the statement (docs/performance.md).
    """
    quote = connection.ops.quote_name
    greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    sets = ", ".join(f"{quote(name)} = {greatest}({quote(name)} + %s, 0)" for name in columns)
    where = " AND ".join(f"{quote(name)} = %s" for name in key)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {where}",
                       [*columns.values(), *key.values()])
        return cursor.rowcount


def _update_or_create(model, key: dict, columns: dict, extra: Callable[[], dict]) -> None:
    if _add(model, key, columns):
        return
    if any(delta < 0 for delta in columns.values()):
        return
    try:
        with transaction.atomic():  # a savepoint: another writer may create the same row at the same moment
            model.objects.create(**key, **columns, **extra())
    except IntegrityError:
        _add(model, key, columns)
