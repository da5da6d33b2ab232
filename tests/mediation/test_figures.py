"""The figures page's arithmetic: by type and outcome, success rate and average duration, in one grouped pass."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation import selectors
from mediation.models import Case, RiskLevel, Status

pytestmark = pytest.mark.django_db


def settle(case, outcome: str, days: int) -> None:
    Case.objects.filter(pk=case.pk).update(status=Status.CLOSED, outcome=outcome,
                                           outcome_at=case.registered_at + timedelta(days=days))


def test_figures_add_up_by_type_and_outcome(register_case, mw):
    agreed_a = register_case()
    agreed_b = register_case(dispute_type=mw.labour)
    failed = register_case(dispute_type=mw.labour)
    register_case(risk_level=RiskLevel.RED, risk_reason="扬言报复")  # open and red
    settle(agreed_a, Status.AGREEMENT, 4)
    settle(agreed_b, Status.AGREEMENT, 10)
    settle(failed, Status.FAILED, 7)

    with CaptureQueriesContext(connection) as queries:
        figures = selectors.figures(Case.objects.all())
    assert len(queries) == 2, "one grouped pass over the cases, one read of the type names"
    assert (figures.total, figures.open, figures.red_open) == (4, 1, 1)
    assert figures.success_rate == pytest.approx(2 / 3)
    assert figures.average_days == pytest.approx(7.0)  # (4 + 10 + 7) / 3
    assert {row["dispute_type__name"]: (row["n"], row["agreed"]) for row in figures.by_type} == {
        mw.labour.name: (2, 1), mw.neighbours.name: (2, 1)}
    assert {row["outcome"]: row["n"] for row in figures.by_outcome} == {Status.AGREEMENT: 2, Status.FAILED: 1}


def test_figures_of_nothing_say_nothing(mw):
    figures = selectors.figures(Case.objects.none())
    assert (figures.total, figures.success_rate, figures.average_days, figures.by_type) == (0, None, None, [])


@pytest.mark.parametrize("gcj02", [False, True])
def test_the_figures_map_is_drawn_in_the_tiles_coordinates(register_case, people, settings, gcj02):
    """On a GCJ-02 tile server (most Chinese ones) the streets shift with the tiles, as on the command map."""
    from governance.core import gcj02 as shift
    from grids.models import Region
    from tests.dashboards.helpers import client_for

    settings.MAP_TILES_URL, settings.MAP_TILES_GCJ02 = "/tiles/{z}/{x}/{y}.png", gcj02
    case = register_case()
    street = Region.objects.get(path=case.region.path[:12])
    page = client_for(people.d1_command).get("/mediation/figures/")
    assert page.status_code == 200
    [row] = [r for r in page.context["map"]["regions"] if r["region"] == street.pk]
    expected = (shift.wgs_to_gcj(street.centroid_lat, street.centroid_lng) if gcj02
                else (street.centroid_lat, street.centroid_lng))
    assert (row["lat"], row["lng"]) == pytest.approx(expected)
    corner = street.boundary["coordinates"][0][0]
    drawn = row["boundary"]["coordinates"][0][0]
    assert drawn != pytest.approx(corner) if gcj02 else drawn == corner
    assert [r for r in page.context["regions"] if r["region"] == street.pk][0]["lat"] == street.centroid_lat
