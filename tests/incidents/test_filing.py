"""Filing an incident: idempotency, where it may be filed, what it is filed as, and duplicates."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from governance.access.models import Role
from governance.core.authority import SYSTEM
from governance.core.errors import InvalidInput, PermissionDeniedError
from grids import services as grid_services
from grids.geometry import EARTH_RADIUS_M
from grids.locate import OutsideCity
from grids.models import Level
from incidents import selectors, services
from incidents.models import Category, DailyCounter, Event, Incident, Source, Status
from tests.factories import make_user, point, rect

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def metres_north(lat: float, lng: float, metres: float) -> tuple[float, float]:
    return lat + metres / 111_320.0, lng


# --- Idempotency --------------------------------------------------------------


def test_same_idempotency_key_files_one_incident(people, road):
    lat, lng = point(1, 2)
    first = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                                   idempotency_key="form-7f3a")
    retry = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                                   idempotency_key="form-7f3a")
    assert first.created and not retry.created
    assert retry.incident.pk == first.incident.pk
    assert Incident.objects.count() == 1
    assert Event.objects.filter(action="report").count() == 1


def test_same_key_from_two_reporters_files_two_incidents(city, people, road):
    second_worker = make_user("worker2_g1111", role=Role.GRID_WORKER, region=city.g1111)
    lat, lng = point(1, 2)
    a = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                               idempotency_key="same-key")
    b = services.incident_file(reporter=second_worker, category=road, title="路面塌陷", lat=lat, lng=lng,
                               idempotency_key="same-key")
    assert a.created and b.created and a.incident.pk != b.incident.pk
    assert Incident.objects.count() == 2


def test_filing_without_a_key_files_every_time(people, road):
    lat, lng = point(1, 2)
    for _ in range(2):
        services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng)
    assert Incident.objects.count() == 2


# --- Where an incident may be filed ------------------------------------------------


def test_grid_worker_cannot_file_outside_their_grid_and_nothing_is_stored(people, road):
    lat, lng = point(3, 2)  # grid G1112, the neighbour of the worker's G1111
    with pytest.raises(PermissionDeniedError) as caught:
        services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng)
    assert caught.value.code == "not_your_grid" and caught.value.status_code == 403
    assert "南二网格" not in str(caught.value), "never name a grid the reporter may not see"
    assert "不在您的网格内" in str(caught.value)
    assert not Incident.objects.exists() and not Event.objects.exists() and not DailyCounter.objects.exists()


def test_not_your_grid_names_the_grid_only_to_those_who_see_it(people, road):
    lat, lng = point(3, 2)  # grid G1112: the D1 supervisor sees it but files nowhere
    with pytest.raises(PermissionDeniedError) as caught:
        services.incident_file(reporter=people.d1_supervisor, category=road, title="路面塌陷", lat=lat, lng=lng)
    assert caught.value.code == "not_your_grid" and "南二网格" in str(caught.value)
    lat, lng = point(6, 2)  # grid G2111, in the east district the worker does not see
    with pytest.raises(PermissionDeniedError) as caught:
        services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng)
    assert "东一网格" not in str(caught.value)


def test_point_outside_the_city_is_refused_and_nothing_is_stored(people, road):
    lat, lng = point(9, 2)  # east of the city's boundary
    with pytest.raises(OutsideCity) as caught:
        services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng)
    assert caught.value.status_code == 400 and caught.value.code == "outside_city"
    assert f"{lat:.6f}" in str(caught.value), "the message gives the point"
    assert not Incident.objects.exists()


@pytest.fixture
def gap_in_c111(city):
    """南二网格 G1112 shrunk to x 3..4: the strip x 2..3 of 南一社区 is covered by no grid."""
    grid_services.region_update(acting_user=SYSTEM, region=city.g1112, boundary=rect(3, 0, 4, 4))
    return city


def test_a_report_in_a_gap_is_filed_in_the_nearest_grid_of_the_community_and_says_so(gap_in_c111, people, road):
    city = gap_in_c111
    lat, lng = point(2.4, 2)  # in 南一社区, in no grid; 0.4 from G1111, 0.6 from G1112
    filing = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng)
    incident = filing.incident
    assert (incident.grid, incident.responsible_region, (incident.lat, incident.lng)) == (city.g1111, city.c111,
                                                                                          (lat, lng))
    report = incident.events.get(action="report")
    assert report.data["gap_region"] == "南一社区 (440101001)"
    assert report.data["gap_grid_distance_m"] == round(0.004 * math.pi * EARTH_RADIUS_M / 180
                                                       * math.cos(math.radians(23.02)))


def test_a_report_in_a_gap_nearer_another_grid_goes_there(gap_in_c111, people, road):
    lat, lng = point(2.8, 2)
    filing = services.incident_file(reporter=people.s11_command, category=road, title="路面塌陷", lat=lat, lng=lng)
    assert filing.incident.grid == gap_in_c111.g1112
    with pytest.raises(PermissionDeniedError) as caught:  # not the worker's grid: said, and nothing stored
        services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng)
    assert caught.value.code == "not_your_grid" and "南二网格" not in str(caught.value)  # a grid they cannot see
    assert Incident.objects.count() == 1


def test_the_incident_page_says_a_report_came_from_a_gap(gap_in_c111, people, road, client):
    lat, lng = point(2.4, 2)
    incident = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat,
                                      lng=lng).incident
    client.force_login(people.s11_command)
    page = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Reported in a gap of the territory: the point lies in 南一社区 (440101001) but in none of its grids" in page


def test_street_command_staff_may_file_anywhere_in_their_street(people, road):
    lat, lng = point(3, 2)
    filing = services.incident_file(reporter=people.s11_command, category=road, title="路面塌陷", lat=lat, lng=lng,
                                    source=Source.HOTLINE)
    assert filing.incident.grid.name == "南二网格" and filing.incident.source == Source.HOTLINE


def test_supervisor_cannot_file(people, road):
    lat, lng = point(1, 2)
    with pytest.raises(PermissionDeniedError):
        services.incident_file(reporter=people.d1_supervisor, category=road, title="路面塌陷", lat=lat, lng=lng)
    assert not Incident.objects.exists()


# --- What it is filed as ----------------------------------------------------------


@pytest.mark.parametrize("which", ["major", "inactive"])
def test_category_that_is_not_an_active_minor_category_is_refused(people, road, which):
    category = road.parent if which == "major" else road
    if which == "inactive":
        Category.objects.filter(pk=road.pk).update(is_active=False)
        category.refresh_from_db()
    lat, lng = point(1, 2)
    with pytest.raises(InvalidInput) as caught:
        services.incident_file(reporter=people.worker_g1111, category=category, title="路面塌陷", lat=lat, lng=lng)
    assert "category" in caught.value.field_errors
    assert not Incident.objects.exists()


def test_unknown_category_is_refused(people, road):
    """A category that is not stored (the API resolves ids first; the service refuses one too)."""
    lat, lng = point(1, 2)
    ghost = Category(code="9999", name="不存在", parent=road.parent)
    with pytest.raises(InvalidInput):
        services.incident_file(reporter=people.worker_g1111, category=ghost, title="路面塌陷", lat=lat, lng=lng)
    assert not Incident.objects.exists()


@pytest.mark.parametrize(("field", "kwargs"), [("title", {"title": "   "}), ("severity", {"severity": "apocalyptic"})])
def test_missing_title_or_unknown_severity_is_refused(people, road, field, kwargs):
    lat, lng = point(1, 2)
    with pytest.raises(InvalidInput) as caught:
        services.incident_file(reporter=people.worker_g1111, category=road, lat=lat, lng=lng,
                               **{"title": "路面塌陷", **kwargs})
    assert field in caught.value.field_errors
    assert not Incident.objects.exists()


def test_numbers_are_readable_unique_and_restart_every_day(people, road):
    lat, lng = point(1, 2)

    def file_at(when):
        return services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat,
                                      lng=lng, now=when).incident.number

    day_one = [file_at(at(2026, 11, 23, 9, minute)) for minute in range(3)]
    late_evening = file_at(at(2026, 11, 23, 23, 59))  # local day, even though it is 15:59 UTC
    day_two = file_at(at(2026, 11, 24, 0, 1))
    assert day_one == ["SJ20261123-000001", "SJ20261123-000002", "SJ20261123-000003"]
    assert late_evening == "SJ20261123-000004"
    assert day_two == "SJ20261124-000001"
    assert all(re.fullmatch(r"SJ\d{8}-\d{6}", n) for n in [*day_one, late_evening, day_two])


def test_new_incident_lands_at_the_grids_community_with_the_accept_deadline(city, people, road):
    lat, lng = point(1, 2)
    now = at(2026, 11, 23, 10, 0)
    incident = services.incident_file(reporter=people.worker_g1111, category=road, title=" 路面塌陷 ", lat=lat,
                                      lng=lng, description="坑深约 30 厘米", now=now).incident
    assert incident.grid == city.g1111
    assert incident.responsible_region == city.c111 and incident.responsible_level == Level.COMMUNITY
    assert incident.accept_due_at == now + timedelta(hours=road.accept_hours)
    assert incident.handle_due_at is None, "the handling clock starts at acceptance"
    assert (incident.status, incident.title, incident.severity) == (Status.REPORTED, "路面塌陷", road.default_severity)
    event = incident.events.get()
    assert (event.action, event.to_status, event.actor, event.note) == (
        "report", Status.REPORTED, people.worker_g1111, "坑深约 30 厘米")


# --- Duplicates ---------------------------------------------------------------------


@pytest.fixture
def original(file_incident, road):
    """An open 道路破损 incident filed 10 hours ago."""
    return file_incident(now=at(2026, 11, 23, 0, 0))


NOW = at(2026, 11, 23, 10, 0)


def test_open_same_category_incident_within_100_m_is_a_possible_duplicate(people, road, original):
    lat, lng = metres_north(original.lat, original.lng, 80)
    found = selectors.possible_duplicates(people.s11_command, category=road, lat=lat, lng=lng, now=NOW)
    assert found == [original]


def test_incident_150_m_away_is_not_a_possible_duplicate(people, road, original):
    lat, lng = metres_north(original.lat, original.lng, 150)
    assert selectors.possible_duplicates(people.s11_command, category=road, lat=lat, lng=lng, now=NOW) == []


def test_closed_incident_is_not_a_possible_duplicate(people, road, original):
    Incident.objects.filter(pk=original.pk).update(status=Status.CLOSED)
    assert selectors.possible_duplicates(people.s11_command, category=road, lat=original.lat, lng=original.lng,
                                         now=NOW) == []


def test_incident_older_than_72_hours_is_not_a_possible_duplicate(people, road, original):
    later = original.reported_at + timedelta(hours=72, minutes=1)
    assert selectors.possible_duplicates(people.s11_command, category=road, lat=original.lat, lng=original.lng,
                                         now=later) == []
    just_in_time = original.reported_at + timedelta(hours=71, minutes=59)
    assert selectors.possible_duplicates(people.s11_command, category=road, lat=original.lat, lng=original.lng,
                                         now=just_in_time) == [original]


def test_incident_of_another_category_is_not_a_possible_duplicate(people, noise, original):
    assert selectors.possible_duplicates(people.s11_command, category=noise, lat=original.lat, lng=original.lng,
                                         now=NOW) == []


def metres_from(lat: float, lng: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` north and ``east_m`` east of (lat, lng), on the sphere ``distance_m`` measures."""
    return (lat + math.degrees(north_m / EARTH_RADIUS_M),
            lng + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat)))))


@pytest.mark.parametrize("metres", [99.5, 99.9, 99.99])
def test_an_incident_just_inside_100_m_due_north_is_a_possible_duplicate(people, road, original, metres):
    # The square once used 111,320 m a degree and the circle a 6,371 km sphere: its
    # northern edge lay at 99.89 m, so 99.9 m due north was inside the circle but not the square.
    lat, lng = metres_from(original.lat, original.lng, -metres, 0)  # the original lies `metres` north
    assert services.distance_m(lat, lng, original.lat, original.lng) == pytest.approx(metres)
    assert selectors.possible_duplicates(people.s11_command, category=road, lat=lat, lng=lng, now=NOW) == [original]


@pytest.mark.parametrize(("north", "east"), [(0, 99.9), (0, -99.9), (70.6, 70.6), (-70.6, -70.6)])
def test_the_search_box_holds_the_whole_circle_east_west_and_on_the_diagonals(people, road, original, north, east):
    lat, lng = metres_from(original.lat, original.lng, -north, -east)
    assert services.distance_m(lat, lng, original.lat, original.lng) < 100
    assert selectors.possible_duplicates(people.s11_command, category=road, lat=lat, lng=lng, now=NOW) == [original]


def test_an_incident_100_5_m_away_is_not_a_possible_duplicate(people, road, original):
    lat, lng = metres_from(original.lat, original.lng, -100.5, 0)
    assert selectors.possible_duplicates(people.s11_command, category=road, lat=lat, lng=lng, now=NOW) == []


def test_a_duplicate_in_a_crowd_of_newer_reports_just_outside_100_m_is_found(people, road, file_incident):
    """The issue's figures: one open incident 60 m away, 55 newer ones 125-131 m away on the diagonals."""
    here = point(1, 2)  # inside grid G1111, about a kilometre from its edges
    near = file_incident(now=at(2026, 11, 23, 0, 0))
    Incident.objects.filter(pk=near.pk).update(lat=metres_from(*here, 60, 0)[0], lng=here[1])
    crowd = []
    for i in range(55):
        metres = 125 + 6 * i / 54  # 125 .. 131 m
        north_sign, east_sign = [(1, 1), (1, -1), (-1, 1), (-1, -1)][i % 4]
        side = metres / math.sqrt(2)
        incident = file_incident(now=at(2026, 11, 23, 1, 0) + timedelta(minutes=i))
        lat, lng = metres_from(*here, north_sign * side, east_sign * side)
        Incident.objects.filter(pk=incident.pk).update(lat=lat, lng=lng)
        crowd.append(incident.pk)
    box = services.nearby_box(*here, services.DUPLICATE_RADIUS_M)
    in_the_box = Incident.objects.filter(pk__in=crowd, **box).count()
    assert in_the_box == 55, "every newer report lies inside the search square, outside the circle"

    found = selectors.possible_duplicates(people.s11_command, category=road, lat=here[0], lng=here[1], now=NOW)

    assert found == [near]


def test_possible_duplicates_are_the_nearest_50_nearest_first(people, road, file_incident):
    here = point(1, 2)
    by_distance = {}
    for i in range(60):
        incident = file_incident(now=at(2026, 11, 23, 1, 0) + timedelta(minutes=i))
        metres = 90 - i  # the newest are the nearest
        Incident.objects.filter(pk=incident.pk).update(lat=metres_from(*here, metres, 0)[0])
        by_distance[incident.pk] = metres
    found = selectors.possible_duplicates(people.s11_command, category=road, lat=here[0], lng=here[1], now=NOW)
    assert len(found) == services.DUPLICATE_LIMIT == 50
    assert [by_distance[i.pk] for i in found] == sorted(by_distance.values())[:50]


def test_possible_duplicates_stay_inside_the_users_scope(people, road, original):
    assert selectors.possible_duplicates(people.s12_command, category=road, lat=original.lat, lng=original.lng,
                                         now=NOW) == []


def test_merging_a_duplicate_records_it_on_both_incidents(people, road, original, file_incident):
    duplicate = file_incident(at=(1.0001, 2.0001), title="路面又塌了", now=at(2026, 11, 23, 9, 0))
    assert selectors.possible_duplicates(people.s11_command, category=road, lat=duplicate.lat, lng=duplicate.lng,
                                         now=NOW, exclude_pk=duplicate.pk) == [original]

    services.incident_merge(incident=duplicate, actor=people.s11_command, into=original, note="同一处路面")

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.duplicate_of) == (Status.MERGED, original)
    merged = duplicate.events.get(action="merge")
    assert (merged.actor, merged.note, merged.data["into_number"]) == (people.s11_command, "同一处路面",
                                                                       original.number)
    merged_in = original.events.get(action="merged_in")
    assert (merged_in.actor, merged_in.data["duplicate_number"]) == (people.s11_command, duplicate.number)
    original.refresh_from_db()
    assert original.status == Status.REPORTED, "the incident merged into stays as it was"


def test_an_incident_cannot_be_merged_into_a_closed_one(people, original, file_incident):
    duplicate = file_incident(at=(1.0001, 2.0001))
    Incident.objects.filter(pk=original.pk).update(status=Status.CLOSED)
    with pytest.raises(InvalidInput, match=original.number):
        services.incident_merge(incident=duplicate, actor=people.s11_command, into=original)
    duplicate.refresh_from_db()
    assert duplicate.status == Status.REPORTED and not duplicate.events.filter(action="merge").exists()


def test_the_actions_on_a_just_filed_incident_are_asked_in_memory_as_the_door_would_answer(people, road):
    """``available_transitions(just_filed=True)`` skips the database; every persona gets what the door gives."""
    from dataclasses import fields

    from incidents.selectors import available_transitions

    lat, lng = point(1, 2)
    incident = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat,
                                      lng=lng).incident
    for persona in [f.name for f in fields(people)]:
        user = getattr(people, persona)
        if not hasattr(user, "pk"):
            continue
        in_memory = [t.name for t in available_transitions(user, incident, just_filed=True)]
        asked = [t.name for t in available_transitions(user, incident)]
        assert in_memory == asked, persona


def test_a_retry_answers_with_the_first_incident_even_if_the_grid_is_no_longer_the_workers(city, people, road):
    from governance.access.models import RoleAssignment
    from governance.access.services import role_revoke
    from governance.core.scoping import forget_scope

    lat, lng = point(1, 2)
    first = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                                   idempotency_key="k-lost-grid")
    for assignment in RoleAssignment.objects.active().filter(user=people.worker_g1111):
        role_revoke(acting_user=SYSTEM, assignment=assignment)
    forget_scope(people.worker_g1111)  # as the next request's fresh user object would
    retry = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                                   idempotency_key="k-lost-grid")
    assert not retry.created and retry.incident.pk == first.incident.pk
    with pytest.raises(PermissionDeniedError):
        services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                               idempotency_key="k-new")
