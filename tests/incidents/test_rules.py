"""One rule, one place: overdue, the deadline's addressee and the escalation target, the same in Python,
the ORM and the sweep's SQL (incidents/models.py writes each once)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from grids.models import Region, parent_path, parent_path_sql
from incidents.models import (
    WAITS_FOR,
    Incident,
    Status,
    deadline_addressee,
    escalation_target_path,
    is_overdue,
    overdue_q,
)
from incidents.watcher import IncidentWatcher
from tests.dashboards.conftest import world  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("shift_hours", [-100, -1, 0, 1, 100])
def test_overdue_in_python_is_overdue_in_the_database(request, shift_hours):
    request.getfixturevalue("world")
    now = timezone.now() + timedelta(hours=shift_hours)
    in_memory = {i.pk for i in Incident.objects.all() if is_overdue(i.status, i.accept_due_at, i.handle_due_at, now)}
    assert in_memory == set(Incident.objects.filter(overdue_q(now)).values_list("pk", flat=True))


def test_every_status_waits_for_at_most_one_deadline_and_the_watcher_reads_the_same_table():
    watcher = IncidentWatcher()
    assert watcher.accept.statuses == {s for s, column in WAITS_FOR.items() if column == "accept_due_at"}
    assert watcher.handle.statuses == {s for s, column in WAITS_FOR.items() if column == "handle_due_at"}
    assert not watcher.accept.statuses & watcher.handle.statuses
    assert Status.PARKED not in WAITS_FOR and Status.RETURNED not in WAITS_FOR  # a paused or returned clock


def test_the_deadlines_addressee_is_the_same_in_python_and_in_the_sweeps_sql(request, city):
    w = request.getfixturevalue("world")
    Incident.objects.filter(pk=w.dispatched.pk).update(lead_unit=city.unit_d1_police)
    table = connection.ops.quote_name(Incident._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT i.id, {IncidentWatcher.owner_region_sql('i')}, {IncidentWatcher.owner_unit_sql('i')} "
                       f"FROM {table} i")
        in_sql = {pk: (region, unit) for pk, region, unit in cursor.fetchall()}
    seen_kinds = set()
    for incident in Incident.objects.all():
        kind, pk = deadline_addressee(incident.status, incident.lead_unit_id, incident.responsible_region_id)
        seen_kinds.add(kind)
        assert in_sql[incident.pk] == ((pk, None) if kind == "region" else (None, pk))
    assert seen_kinds == {"region", "unit"}


def test_the_escalation_target_is_the_same_in_python_and_in_sql(city):
    paths = list(Region.objects.values_list("path", flat=True))
    table = connection.ops.quote_name(Region._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r.path, {parent_path_sql('r.path')} FROM {table} r")
        in_sql = dict(cursor.fetchall())
    assert len(paths) > 10
    for path in paths:
        assert escalation_target_path(path) == parent_path(path) == in_sql[path]
