"""Writers keep the tallies exact in their own transaction: after any writes the rows equal a fresh rebuild."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from dashboards.map.stats import refresh_tallies
from dashboards.map.tallies import change_between
from dashboards.models import GridCategoryTally, GridDayTally
from incidents import services
from incidents.models import Incident, Status
from tests.dashboards.conftest import _file

pytestmark = pytest.mark.django_db

COLUMNS = ("grid_id", "category_id", "total", "dropped", "open", "overdue", "closed", "closed_on_time")


def snapshot() -> tuple[list, list, list]:
    """The rows' counts exactly, and their handling seconds apart (SQLite's julianday arithmetic rounds)."""
    rows = sorted(GridCategoryTally.objects.filter(total__gt=0).values_list(*COLUMNS, "handling_seconds"))
    days = sorted(GridDayTally.objects.exclude(reported=0, closed=0).values_list("grid_id", "day", "reported",
                                                                                "closed"))
    return [row[:-1] for row in rows], days, [row[-1] for row in rows]


def same(by_writers, rebuilt) -> bool:
    return by_writers[:2] == rebuilt[:2] and by_writers[2] == pytest.approx(rebuilt[2], abs=0.01)


def rebuilt() -> tuple[list, list, list]:
    refresh_tallies(full_days=True)
    return snapshot()


def test_every_write_keeps_the_rows_equal_to_a_rebuild(world, city, people, road, noise):
    refresh_tallies(full_days=True)
    # a grid and category with no row yet, filed, accepted, dispatched, handled, verified
    fresh = _file(people.worker_g1111, noise, (1, 1), title="夜间施工噪音")
    services.incident_accept(incident=fresh, actor=people.d1_command)
    services.incident_dispatch(incident=fresh, actor=people.d1_command, unit=city.unit_d1_police)
    services.incident_report_back(incident=fresh, actor=people.d1_police_handler, note="已劝停")
    services.incident_verify(incident=fresh, actor=people.d1_command, passed=True, satisfaction=5)
    services.incident_void(incident=world.overdue, actor=people.d1_command, note="重复上报")
    services.incident_accept(incident=world.reported, actor=people.d1_command)
    services.incident_escalate(incident=world.reported, actor=people.d1_command, note="需区里协调")
    services.incident_merge(incident=world.east, actor=people.city_admin,
                            into=_file(people.city_admin, road, (6, 4.2), title="东区路面二"))
    by_writers = snapshot()
    assert same(by_writers, rebuilt())
    assert GridCategoryTally.objects.get(grid=city.g1111, category=noise).closed >= 1


def test_a_write_that_rolls_back_leaves_the_tallies_as_they_were(world, people):
    refresh_tallies(full_days=True)
    before = snapshot()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.incident_accept(incident=world.reported, actor=people.d1_command)
        _file(people.worker_g1111, world.reported.category, (1, 2), title="又一处")
        raise RuntimeError("the request failed after the writes")
    assert same(snapshot(), before)


def test_a_save_of_an_incident_read_in_part_recounts_its_rows_on_commit(world, people,
                                                                        django_capture_on_commit_callbacks):
    refresh_tallies(full_days=True)
    partial = Incident.objects.only("pk", "status", "version").get(pk=world.reported.pk)
    partial.status = Status.VOIDED
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        partial.save(update_fields=["status"])
    assert len(callbacks) == 1  # the recount, since the state before the save is unknown
    assert same(snapshot(), rebuilt())


def test_a_difference_never_takes_a_figure_below_zero(world, city, people):
    refresh_tallies(full_days=True)
    GridCategoryTally.objects.filter(grid=city.g1111).update(open=0, total=0)
    services.incident_void(incident=world.reported, actor=people.d1_command, note="不是事件")
    row = GridCategoryTally.objects.get(grid=city.g1111, category=world.reported.category)
    assert row.open == 0 and row.total == 0  # clamped, not negative (the nightly rebuild repairs the row)


def test_the_difference_of_a_closing_moves_open_to_closed_and_counts_its_day(world):
    incident = Incident.objects.get(pk=world.dispatched.pk)
    old = dict(incident.loaded_values)
    now = timezone.now()
    new = {**old, "status": Status.CLOSED, "closed_at": now}
    change = change_between(old, new, now)
    (key, columns), = change.categories.items()
    assert key == (incident.grid_id, incident.category_id)
    assert columns["open"] == -1 and columns["closed"] == 1 and columns["closed_on_time"] == 1
    assert columns["handling_seconds"] == pytest.approx((now - incident.reported_at).total_seconds())
    assert change.days == {(incident.grid_id, timezone.localdate(now)): {"closed": 1}}


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL; runs in .ci/run")
def test_filings_during_a_rebuild_are_neither_lost_nor_counted_twice(transactional_db, city, people, road):
    from tests.factories import point

    refresh_tallies(full_days=True)
    errors: list[Exception] = []
    stop = threading.Event()

    def file_many():
        try:
            n = 0
            while not stop.is_set() and n < 60:
                lat, lng = point(1 + (n % 5) * 0.2, 1 + (n % 7) * 0.3)
                services.incident_file(reporter=people.worker_g1111, category=road, title=f"并发 {n}", lat=lat,
                                       lng=lng)
                n += 1
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    def rebuild_many():
        try:
            for _ in range(5):
                refresh_tallies(now=timezone.now() + timedelta(microseconds=1))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=file_many), threading.Thread(target=file_many),
               threading.Thread(target=rebuild_many)]
    for thread in threads:
        thread.start()
    threads[2].join(timeout=120)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert Incident.objects.filter(title__startswith="并发").count() > 0
    assert same(snapshot(), rebuilt())


def test_an_incident_read_again_saves_the_difference_from_what_it_read(world, people):
    """A stale object brought up to date with refresh_from_db must not subtract its old state."""
    refresh_tallies(full_days=True)
    stale = Incident.objects.get(pk=world.reported.pk)
    services.incident_accept(incident=world.reported, actor=people.d1_command)  # the row moves on meanwhile
    stale.refresh_from_db()
    assert stale.loaded_values["status"] == Status.ACCEPTED
    stale.status = Status.VOIDED
    stale.save()
    assert same(snapshot(), rebuilt())
