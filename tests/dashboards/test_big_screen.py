"""The big screen shows the map page's numbers: the same request, the same code path, the same figures,
and each one equal to the incident list it summarises, "today" included around midnight in Asia/Shanghai.

The regression: the big screen (no filter form) sent ``open=true`` with every request, so its numbers
were those of the open incidents only (closure rate 0 %, only the open ones among today's new) and
were counted live while the map page's came from the tallies.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from dashboards.map.stats import compute_figures, refresh_tallies
from incidents.models import Incident
from tests.dashboards.conftest import _file, in_region
from tests.dashboards.helpers import client_for
from tests.dashboards.test_numbers import direct

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIGURES = ["new_today", "open", "overdue", "total", "closed", "closure_rate", "on_time_rate", "avg_handling_hours"]


def page_config(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    return response.context["map_config"]


def stats_as_sent_by(client, config: dict) -> dict:
    """What the page's script asks: the stats endpoint with the page's filters (no form touched)."""
    response = client.get(config["api"]["stats"] + "?" + config["baseQuery"], HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def list_count(client, query: str) -> int:
    """How many incidents the incident list shows for this query (every page together)."""
    response = client.get("/incidents/?" + query)
    assert response.status_code == 200
    return response.context["page"].paginator.count


def assert_pages_agree(user, region, *, today) -> dict:
    client = client_for(user)
    map_page = page_config(client, "/dashboards/map/")
    big_screen = page_config(client, "/dashboards/map/big-screen/")
    # Both pages ask the same question (no filter) …
    assert big_screen["baseQuery"] == map_page["baseQuery"] == ""
    from_map, from_big = stats_as_sent_by(client, map_page), stats_as_sent_by(client, big_screen)
    # … and so get the same figures, from the same path, with the same charts.
    for key in [*FIGURES, "source", "trend", "by_category", "by_region"]:
        assert from_big[key] == from_map[key], key
    assert from_big["source"] == "tallies"
    # The figures are those of the user's territory, counted one incident at a time …
    assert {k: from_big[k] for k in FIGURES} == direct(in_region(region))
    # … and those of the incident list filtered the same way.
    assert from_big["total"] == list_count(client, big_screen["baseQuery"])
    assert from_big["open"] == list_count(client, "open=true")
    assert from_big["overdue"] == list_count(client, "overdue=true")
    assert from_big["new_today"] == list_count(client, f"reported_after={today}&reported_before={today}")
    # The live count (any filter, or a user with units) agrees with the tallies.
    live = compute_figures(user, QueryDict(), force_live=True)
    assert {k: getattr(live, k) for k in FIGURES} == {k: from_big[k] for k in FIGURES}
    assert live.trend == from_big["trend"]
    return from_big


@pytest.mark.parametrize("persona,region", [("city_admin", "city"), ("d1_command", "d1"), ("s11_command", "s11"),
                                            ("d2_command", "d2"), ("d1_supervisor", "d1")])
def test_big_screen_shows_the_map_pages_figures(world, city, people, persona, region):
    refresh_tallies(full_days=True)
    figures = assert_pages_agree(getattr(people, persona), getattr(city, region), today=timezone.localdate())
    if persona == "d1_command":
        # The closed incidents count: the closure rate is not that of the open ones (0 %).
        assert (figures["total"], figures["closed"], figures["closure_rate"]) == (5, 2, 0.4)


def test_big_screen_script_adds_no_filter_of_its_own():
    script = (Path(settings.BASE_DIR) / "static" / "dashboards" / "map.js").read_text(encoding="utf-8")
    assert 'params.set("open"' not in script
    assert "config.baseQuery" in script


@pytest.mark.parametrize("clock,today,expected", [
    ("2026-11-23 23:45", "2026-11-23", "late"),  # between the two: only the 23:30 one is today's
    ("2026-11-24 00:10", "2026-11-24", "early"),  # just past midnight: a new day, only the 00:30 one
    ("2026-11-24 00:45", "2026-11-24", "early"),
])
def test_today_is_the_day_in_shanghai_around_midnight(monkeypatch, request, city, people, road, clock, today,
                                                      expected):
    now = datetime.strptime(clock, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    # The stats module (and everything else) reads the clock through django.utils.timezone.now.
    monkeypatch.setattr(timezone, "now", lambda: now)
    request.getfixturevalue("world")  # filed relative to the frozen clock
    late = _file(people.worker_g1111, road, (1, 1), title="深夜上报",
                 now=datetime(2026, 11, 23, 23, 30, tzinfo=SHANGHAI))
    early = _file(people.worker_g1111, road, (1, 3), title="凌晨上报",
                  now=datetime(2026, 11, 24, 0, 30, tzinfo=SHANGHAI))
    # In UTC both were filed on 23 November: a day taken in UTC would count both or neither.
    assert late.reported_at.astimezone(ZoneInfo("UTC")).date() == early.reported_at.astimezone(
        ZoneInfo("UTC")).date()
    refresh_tallies(now=now, full_days=True)
    assert timezone.localdate(now).isoformat() == today

    figures = assert_pages_agree(people.d1_command, city.d1, today=today)
    todays = set(Incident.objects.filter(pk__in=[late.pk, early.pk], reported_at__date=today)
                 .values_list("pk", flat=True))
    assert todays == {{"late": late, "early": early}[expected].pk}
    # The world's incidents filed "now", plus whichever of the two falls on today in Shanghai.
    filed_now = 3  # reported, dispatched, closed on the spot
    assert figures["new_today"] == filed_now + 1
    assert figures["trend"][-1] == {"day": today, "reported": filed_now + 1,
                                    "closed": 1}  # the one closed on the spot
    # The world's five, the 23:30 one, and the 00:30 one once its day has come.
    assert sum(day["reported"] for day in figures["trend"]) == 5 + (2 if expected == "early" else 1)
