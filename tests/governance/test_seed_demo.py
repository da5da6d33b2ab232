"""``manage.py seed_demo``: a deterministic demo city whose grids tile it, seeded once however often it runs."""

from __future__ import annotations

import io

import numpy as np
import pytest
import shapely
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from guardian.models import UserObjectPermission

from governance.access.demo import PERSONAS, grid_worker_username
from governance.access.models import Role, RoleAssignment, Unit, UnitKind
from governance.access.services import sync_object_permissions
from governance.core import demo as governance_demo
from governance.core.demo import DEMO_OPTIONS, DEMO_PASSWORD, demo_option, demo_step, demo_steps
from governance.core.scoping import Action
from grids import geometry
from grids.demo import DEMO_CITY_CODE, TerritorySize, expected_codes, generate_territory, path_step
from grids.locate import locate_many
from grids.models import Level, Region

pytestmark = pytest.mark.django_db

SMALL = {"districts": 2, "streets_per_district": 2, "communities_per_street": 2, "grids_per_community": 3}
SMALL_SIZE = TerritorySize(**SMALL)

# Every registered step, other apps' included (this imports every app's demo module).
ALL_STEPS = {step.name: step for step in demo_steps()}
CORE_STEPS = ("territory", "units", "demo_users", "grid_workers")


@pytest.fixture(autouse=True)
def _core_steps_only(monkeypatch):
    """The territory, units and people only: other apps test their own steps; one test below runs them all."""
    monkeypatch.setattr(governance_demo, "DEMO_STEPS", {name: ALL_STEPS[name] for name in CORE_STEPS})


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", no_progress=True, stdout=out, **{**SMALL, **options})
    return out.getvalue()


@pytest.fixture
def demo_city() -> Region:
    seed()
    return Region.objects.get(code=DEMO_CITY_CODE)


def counts() -> dict[str, int]:
    """Rows of every table, history tables included."""
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


def shapes(level: Level) -> list:
    return [geometry.parse_boundary(b) for b in Region.objects.filter(level=level).values_list("boundary", flat=True)]


# --- The territory ---------------------------------------------------------------------------


def test_the_same_seed_makes_the_same_city():
    def city(seed: int) -> list[tuple]:
        root = generate_territory(size=SMALL_SIZE, seed=seed, city_name="示范市")
        return [(r.code, r.name, geometry.to_geojson(r.geom)) for r in root.walk()]

    first, again, other = city(7), city(7), city(8)
    assert first == again
    assert [code for code, _n, _b in other] == [code for code, _n, _b in first]
    assert [b for _c, _n, b in other] != [b for _c, _n, b in first]


def test_the_database_holds_exactly_the_generated_city(demo_city):
    generated = generate_territory(size=SMALL_SIZE, seed=governance_demo.DEFAULT_SEED, city_name=demo_city.name)
    stored = list(Region.objects.filter(path__startswith=demo_city.path).values_list("code", "name", "boundary"))
    assert stored == [(r.code, r.name, geometry.to_geojson(r.geom)) for r in generated.walk()]


def test_the_default_size_is_a_real_city_and_scale_ten_has_ten_times_the_grids():
    default = TerritorySize()
    assert default.counts() == {Level.CITY: 1, Level.DISTRICT: 6, Level.STREET: 30, Level.COMMUNITY: 150,
                                Level.GRID: 1200}
    assert default.scaled(10).counts()[Level.GRID] == 12_000
    assert default.scaled(1) == default


def test_grids_tile_the_city_with_no_gap_and_no_overlap(demo_city):
    city = geometry.parse_boundary(demo_city.boundary)
    grids = shapes(Level.GRID)
    union = shapely.union_all(np.array(grids, dtype=object))
    total = sum(g.area for g in grids)
    assert len(grids) == 24
    assert all(g.is_valid and not g.is_empty and g.geom_type == "Polygon" for g in grids)
    assert union.area == pytest.approx(city.area, rel=1e-6)  # no gap
    assert total == pytest.approx(union.area, rel=1e-6)  # no overlap
    assert city.difference(union).area < 1e-9 * city.area


def test_every_region_is_tiled_by_its_children(demo_city):
    for parent in Region.objects.filter(path__startswith=demo_city.path, level__lt=Level.GRID):
        parent_geom = geometry.parse_boundary(parent.boundary)
        children = [geometry.parse_boundary(c.boundary) for c in Region.objects.get_children(parent)]
        assert len(children) == parent.numchild > 0
        assert sum(c.area for c in children) == pytest.approx(parent_geom.area, rel=1e-9), parent.code
        for child in children:
            geometry.check_inside_parent(child, parent_geom)


def test_the_city_covers_the_box_around_shantou(demo_city):
    assert (demo_city.min_lng, demo_city.min_lat, demo_city.max_lng, demo_city.max_lat) == (
        116.45, 23.20, 116.95, 23.55)


def test_every_grid_centre_locates_to_its_own_grid(demo_city):
    grids = list(Region.objects.filter(level=Level.GRID).values_list("pk", "centroid_lat", "centroid_lng"))
    assert locate_many([(lat, lng) for _pk, lat, lng in grids]) == [pk for pk, _lat, _lng in grids]


def test_treebeard_finds_no_problem_in_the_bulk_loaded_tree(demo_city):
    assert Region.objects.find_problems() == ([], [], [], [], [])
    assert [r.code for r in Region.objects.get_children(demo_city)] == ["440502", "440503"]
    assert Region.objects.get_parent(Region.objects.get(code="440502001001001")).code == "440502001001"


def test_codes_are_hierarchical_and_names_read_like_a_chinese_city(demo_city):
    regions = list(Region.objects.filter(path__startswith=demo_city.path))
    assert {r.code for r in regions} == expected_codes(SMALL_SIZE)
    suffixes = {Level.DISTRICT: "区", Level.STREET: "街道", Level.COMMUNITY: "社区", Level.GRID: "网格"}
    by_path = {r.path: r for r in regions}
    for region in regions:
        if region.level == Level.CITY:
            continue
        parent = by_path[region.path[:-Region.steplen]]
        assert region.name.endswith(suffixes[region.level])
        assert region.code.startswith(parent.code[:4] if region.level == Level.DISTRICT else parent.code)
    grid = Region.objects.get(code="440502001001002")
    assert grid.name == Region.objects.get(code="440502001001").name + "第2网格"


def test_the_creation_of_the_territory_is_in_the_history(demo_city):
    assert Region.history.filter(history_type="+").count() == Region.objects.count()
    assert set(Region.history.values_list("history_change_reason", flat=True)) == {"seed_demo"}


def test_path_steps_are_treebeards_base_36():
    assert [path_step(n) for n in (1, 9, 10, 35, 36, 1296)] == ["0001", "0009", "000A", "000Z", "0010", "0100"]


# --- Running it again ----------------------------------------------------------------------


def test_running_it_twice_duplicates_nothing_in_any_step(monkeypatch):
    monkeypatch.setattr(governance_demo, "DEMO_STEPS", dict(ALL_STEPS))
    seed()
    before = counts()
    output = seed()
    assert counts() == before
    assert before["grids.Region"] == SMALL_SIZE.total
    assert "already there" in output


def test_a_larger_city_is_refused_not_mixed_in(demo_city):
    before = counts()
    with pytest.raises(CommandError, match="cannot grow in place"):
        seed(grids_per_community=4)
    assert counts() == before


def test_a_smaller_size_keeps_the_larger_city_there(demo_city):
    before = counts()
    assert "kept" in seed(grids_per_community=2, no_grid_workers=True)
    assert counts() == before


def test_production_is_refused_unless_allowed(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        seed()
    assert not Region.objects.exists()
    seed(allow_production=True)
    assert Region.objects.filter(code=DEMO_CITY_CODE).exists()


def test_grid_workers_can_be_left_out():
    seed(no_grid_workers=True)
    assert not RoleAssignment.objects.filter(role=Role.GRID_WORKER, user__username__startswith="gw_").exists()
    assert get_user_model().objects.filter(username="grid_worker").exists()


# --- Units and people ----------------------------------------------------------------------


def test_units_of_every_kind_at_city_district_and_street(demo_city):
    kinds_by_level = {}
    for kind, level in Unit.objects.values_list("kind", "home_region__level"):
        kinds_by_level.setdefault(level, set()).add(kind)
    assert kinds_by_level[Level.CITY] == set(UnitKind.values)
    assert kinds_by_level[Level.DISTRICT] >= {UnitKind.DEPARTMENT, UnitKind.COURT, UnitKind.MEDIATION_ORG}
    assert kinds_by_level[Level.STREET] >= {UnitKind.DEPARTMENT, UnitKind.RESPONSIBLE_UNIT, UnitKind.MEDIATION_ORG}
    assert Unit.objects.get(code="440500-GA").name == demo_city.name + "公安局"


DASHBOARD_OF_PERSONA = {
    Role.ADMINISTRATOR: "/dashboards/administrator/",
    Role.COMMAND_STAFF: "/dashboards/command/",
    Role.SUPERVISOR: "/dashboards/supervisor/",
    Role.UNIT_HANDLER: "/dashboards/unit/",
    Role.MEDIATOR: "/dashboards/mediator/",
    Role.GRID_WORKER: "/dashboards/grid-worker/",
}


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.username)
def test_demo_user_logs_in_and_lands_on_their_dashboard(client, demo_city, persona):
    response = client.post("/accounts/login/", {"username": persona.username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 302
    assert home.url == DASHBOARD_OF_PERSONA[persona.role]
    assert client.get(home.url).status_code == 200


def test_a_grid_worker_of_every_grid_logs_in_too(client, demo_city):
    username = grid_worker_username("440503002002003", 1)
    assert client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD}).status_code == 302
    assert client.get("/").url == "/dashboards/grid-worker/"


def test_district_command_cannot_see_another_district(client, demo_city):
    own, other = Region.objects.get_children(demo_city)
    client.post("/accounts/login/", {"username": "district_command", "password": DEMO_PASSWORD})
    assert client.get(f"/territory/regions/{own.pk}/").status_code == 200
    assert client.get(f"/territory/regions/{Region.objects.get_children(own).first().pk}/").status_code == 200
    assert client.get(f"/territory/regions/{other.pk}/").status_code == 404
    assert client.get(f"/territory/regions/{Region.objects.get_children(other).first().pk}/").status_code == 404


def test_bulk_grid_workers_hold_exactly_what_role_assign_would_give(demo_city):
    worker = get_user_model().objects.get(username=grid_worker_username("440502001001001", 1))
    grid = Region.objects.get(code="440502001001001")
    assert list(Region.objects.restrict(worker, Action.VIEW)) == [grid]
    assert list(Region.objects.restrict(worker, Action.REPORT)) == [grid]
    before = set(UserObjectPermission.objects.filter(user=worker).values_list("permission_id", "object_pk"))
    sync_object_permissions(worker)  # what the service derives from the assignment
    assert set(UserObjectPermission.objects.filter(user=worker).values_list("permission_id", "object_pk")) == before
    assert RoleAssignment.history.filter(user=worker, history_type="+").count() == 1


def test_named_workers_and_handlers_hold_their_places(demo_city):
    user = get_user_model().objects
    assert [r.code for r in Region.objects.restrict(user.get(username="grid_worker2"))] == [
        "440502001001002", "440502001001003"]
    assert list(Unit.objects.restrict(user.get(username="unit_handler"), Action.HANDLE).values_list(
        "code", flat=True)) == ["440502-GA"]
    assert list(Unit.objects.restrict(user.get(username="mediator"), Action.MEDIATE).values_list(
        "code", flat=True)) == ["440502001-TJ"]


def test_the_summary_lists_every_level_and_every_login():
    output = seed()
    assert "grids             24" in output
    assert DEMO_PASSWORD in output
    for persona in PERSONAS:
        assert f"`{persona.username}`" in output


# --- Extension -----------------------------------------------------------------------------


def test_a_step_registered_by_another_app_runs_in_its_place(monkeypatch):
    seen = []  # the registry is a copy (_core_steps_only), so the probe is gone after the test

    @demo_step(order=250, name="probe")
    def probe(ctx):
        seen.append((ctx.city.code, len(ctx.units), [login.username for login in ctx.logins]))

    seed()
    assert seen == [(DEMO_CITY_CODE, Unit.objects.count(), [])]  # after units (200), before demo users (300)


def test_a_step_may_take_a_command_line_option(monkeypatch):
    monkeypatch.setattr(governance_demo, "DEMO_OPTIONS", dict(DEMO_OPTIONS))
    demo_option("--probe-count", type=int, help="how many probes")
    seen = []

    @demo_step(order=999, name="probe")
    def probe(ctx):
        seen.append(ctx.data["probe_count"])

    seed(probe_count=7)
    seed()
    assert seen == [7, None]


def test_the_demo_shows_alerts_for_its_overdue_incidents_at_once(monkeypatch):
    from governance.alerts.models import Alert
    from incidents.filters import overdue_q
    from incidents.models import Incident

    monkeypatch.setattr(governance_demo, "DEMO_STEPS", dict(ALL_STEPS))
    seed(incidents=1000)
    overdue = set(Incident.objects.filter(overdue_q(timezone.now())).values_list("pk", flat=True))
    red = set(Alert.objects.open().filter(subject_type="incident", kind="overdue").values_list("subject_id", flat=True))
    assert Alert.objects.open().filter(subject_type="incident").exists()
    assert red == overdue


def test_the_district_administrator_manages_their_district_in_the_admin(client, demo_city):
    own, other = Region.objects.get_children(demo_city)
    client.post("/accounts/login/", {"username": "district_admin", "password": DEMO_PASSWORD})
    assert client.get("/admin/").status_code == 200  # let in by the administrator role, no login again
    listed = {r.code for r in client.get("/admin/grids/region/").context["cl"].result_list}
    assert own.code in listed and other.code not in listed and demo_city.code not in listed
    assert client.get(f"/admin/grids/region/{other.pk}/history/").status_code == 404
