"""The numbers agree with counts made directly from the incidents, on both paths (tallies and live)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from dashboards.map.stats import compute_figures, refresh_overdue, refresh_tallies
from dashboards.models import GridCategoryTally, GridDayTally
from incidents import services
from incidents.filters import overdue_q
from incidents.models import OPEN_STATUSES, Incident, Status
from tests.dashboards.conftest import in_region

pytestmark = pytest.mark.django_db


def direct(incidents) -> dict:
    """The figures counted the plain way, one incident at a time."""
    now = timezone.now()
    rows = list(incidents)
    closed = [i for i in rows if i.status == Status.CLOSED]
    countable = [i for i in rows if i.status not in (Status.VOIDED, Status.MERGED)]
    on_time = [i for i in closed if i.handle_due_at is None or i.closed_at <= i.handle_due_at]
    overdue = set(incidents.filter(overdue_q(now)).values_list("pk", flat=True))
    return {
        "new_today": sum(1 for i in rows if timezone.localdate(i.reported_at) == timezone.localdate(now)),
        "open": sum(1 for i in rows if i.status in OPEN_STATUSES),
        "overdue": len(overdue),
        "total": len(rows),
        "closed": len(closed),
        "closure_rate": round(len(closed) / len(countable), 4) if countable else None,
        "on_time_rate": round(len(on_time) / len(closed), 4) if closed else None,
        "avg_handling_hours": round(sum((i.closed_at - i.reported_at).total_seconds() for i in closed)
                                    / len(closed) / 3600, 2) if closed else None,
    }


def figures_dict(figures) -> dict:
    return {k: getattr(figures, k) for k in ["new_today", "open", "overdue", "total", "closed", "closure_rate",
                                             "on_time_rate", "avg_handling_hours"]}


@pytest.mark.parametrize("persona,region", [("city_admin", "city"), ("d1_command", "d1"), ("s11_command", "s11"),
                                            ("d2_command", "d2")])
def test_numbers_agree_with_direct_counts_on_both_paths(world, city, people, persona, region):
    refresh_tallies()
    user = getattr(people, persona)
    expected = direct(in_region(getattr(city, region)))
    from_tallies = compute_figures(user, QueryDict())
    live = compute_figures(user, QueryDict(), force_live=True)
    assert from_tallies.source == "tallies" and live.source == "live"
    assert figures_dict(from_tallies) == expected
    assert figures_dict(live) == expected
    assert from_tallies.trend == live.trend
    assert from_tallies.by_category == live.by_category
    assert from_tallies.by_region == live.by_region


def test_west_district_numbers_have_every_kind_of_incident(world, people):
    refresh_tallies()
    figures = compute_figures(people.d1_command, QueryDict())
    assert (figures.total, figures.open, figures.overdue, figures.closed) == (5, 3, 1, 2)
    assert figures.on_time_rate == 0.5  # closed on the spot (on time) and closed late
    assert figures.closure_rate == 0.4
    assert sum(day["reported"] for day in figures.trend) == 5
    assert sum(day["closed"] for day in figures.trend) == 2


def test_filtered_numbers_match_the_filtered_list(world, people):
    client_params = QueryDict("status=reported&status=accepted")
    figures = compute_figures(people.d1_command, client_params)
    assert figures.source == "live"
    assert figures.total == Incident.objects.filter(pk__in=[i.pk for i in world.d1],
                                                    status__in=["reported", "accepted"]).count()
    overdue = compute_figures(people.d1_command, QueryDict("overdue=true"))
    assert (overdue.total, overdue.overdue) == (1, 1)


def test_region_filter_is_answered_by_the_tallies(world, city, people):
    refresh_tallies()
    figures = compute_figures(people.d1_command, QueryDict(f"region={city.s12.pk}"))
    assert figures.source == "tallies"
    assert figures_dict(figures) == direct(in_region(city.s12))


def test_tallies_follow_each_transition_on_commit(world, city, people, django_capture_on_commit_callbacks):
    refresh_tallies()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_accept(incident=world.reported, actor=people.d1_command)
        services.incident_void(incident=world.overdue, actor=people.d1_command, note="重复上报")
    figures = compute_figures(people.d1_command, QueryDict())
    assert figures.source == "tallies"
    assert figures_dict(figures) == direct(in_region(city.d1))
    assert figures.overdue == 0


def test_rebuild_is_idempotent_and_drops_rows_of_vanished_incidents(world, city):
    refresh_tallies(full_days=True)
    first = sorted(GridCategoryTally.objects.values_list("grid_id", "category_id", "total", "open", "overdue"))
    days = sorted(GridDayTally.objects.values_list("grid_id", "day", "reported", "closed"))
    refresh_tallies(full_days=True)
    assert sorted(GridCategoryTally.objects.values_list("grid_id", "category_id", "total", "open", "overdue")) == first
    assert sorted(GridDayTally.objects.values_list("grid_id", "day", "reported", "closed")) == days
    Incident.objects.filter(grid=city.g2111).delete()
    refresh_tallies(full_days=True)
    assert not GridCategoryTally.objects.filter(grid=city.g2111).exists()
    assert not GridDayTally.objects.filter(grid=city.g2111).exists()


def test_overdue_catches_up_at_the_next_refresh(world, city, people):
    refresh_tallies()
    later = timezone.now() + timedelta(days=30)
    assert refresh_overdue(now=later) == 3  # (G1111, road), (G1112, road) and (G2111, road) turn overdue
    assert refresh_overdue(now=later) == 0  # nothing new the second time
    figures = compute_figures(people.d1_command, QueryDict(), now=later)
    live = compute_figures(people.d1_command, QueryDict(), now=later, force_live=True)
    assert figures.overdue == live.overdue == 3  # a month later every open incident is past its deadline
