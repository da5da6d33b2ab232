"""The kernel's services check the acting user's authority: an administrator changes their own territory only."""

import pytest

from governance.access import services
from governance.access.models import Role, RoleAssignment, Unit, UnitKind
from governance.core.authority import SYSTEM
from governance.core.errors import PermissionDeniedError
from grids import services as grid_services
from grids.models import Level, Region
from tests.factories import make_user, rect


@pytest.fixture
def d1_admin(city):
    return make_user("d1_admin", role=Role.ADMINISTRATOR, region=city.d1)


@pytest.fixture
def outsider(city):
    return make_user("someone")


def test_an_administrator_role_makes_its_holder_staff(city):
    admin = make_user("d1_admin", role=Role.ADMINISTRATOR, region=city.d1)
    admin.refresh_from_db()
    assert admin.is_staff and not admin.is_superuser


def test_district_admin_grants_roles_inside_their_district(city, d1_admin, outsider):
    assignment = services.role_assign(user=outsider, role=Role.COMMAND_STAFF, region=city.s11, acting_user=d1_admin)
    assert assignment.assigned_by == d1_admin
    unit_role = services.role_assign(user=outsider, role=Role.UNIT_HANDLER, unit=city.unit_d1_police,
                                     acting_user=d1_admin)
    assert unit_role.pk is not None


def test_district_admin_cannot_make_anyone_administrator_of_the_city(city, d1_admin):
    with pytest.raises(PermissionDeniedError) as caught:
        services.role_assign(user=d1_admin, role=Role.ADMINISTRATOR, region=city.city, acting_user=d1_admin)
    assert caught.value.code == "outside_authority"
    assert not RoleAssignment.objects.filter(user=d1_admin, region=city.city).exists()


def test_district_admin_cannot_grant_over_a_neighbour_district_or_its_units(city, d1_admin, outsider):
    with pytest.raises(PermissionDeniedError):
        services.role_assign(user=outsider, role=Role.GRID_WORKER, region=city.g2111, acting_user=d1_admin)
    with pytest.raises(PermissionDeniedError):
        services.role_assign(user=outsider, role=Role.UNIT_HANDLER, unit=city.unit_d2_police, acting_user=d1_admin)
    with pytest.raises(PermissionDeniedError):  # a city unit is above the district, not inside it
        services.role_assign(user=outsider, role=Role.UNIT_HANDLER, unit=city.unit_city_urban, acting_user=d1_admin)
    assert not RoleAssignment.objects.filter(user=outsider).exists()


def test_people_without_an_administrator_role_grant_nothing(city, people, outsider):
    for actor in (people.d1_command, people.d1_supervisor, people.worker_g1111, people.nobody):
        with pytest.raises(PermissionDeniedError):
            services.role_assign(user=outsider, role=Role.GRID_WORKER, region=city.g1111, acting_user=actor)
    assert not RoleAssignment.objects.filter(user=outsider).exists()


def test_district_admin_revokes_inside_and_not_outside(city, people, d1_admin):
    inside = RoleAssignment.objects.get(user=people.s11_command)
    services.role_revoke(assignment=inside, acting_user=d1_admin)
    inside.refresh_from_db()
    assert inside.revoked_at is not None
    outside = RoleAssignment.objects.get(user=people.d2_command)
    with pytest.raises(PermissionDeniedError):
        services.role_revoke(assignment=outside, acting_user=d1_admin)
    outside.refresh_from_db()
    assert outside.revoked_at is None


def test_the_acting_user_must_be_named(city, outsider):
    with pytest.raises(TypeError, match="acting_user"):
        services.role_assign(user=outsider, role=Role.GRID_WORKER, region=city.g1111, acting_user=None)


def test_units_are_added_and_changed_inside_the_territory_only(city, d1_admin):
    unit = services.unit_create(code="U-D1-NEW", name="西区新单位", kind=UnitKind.DEPARTMENT, home_region=city.s11,
                                acting_user=d1_admin)
    assert unit.home_region == city.s11
    with pytest.raises(PermissionDeniedError):
        services.unit_create(code="U-D2-NEW", name="东区新单位", kind=UnitKind.DEPARTMENT, home_region=city.d2,
                             acting_user=d1_admin)
    assert not Unit.objects.filter(code="U-D2-NEW").exists()
    with pytest.raises(PermissionDeniedError):  # moving a unit out of the territory
        services.unit_update(unit=unit, home_region=city.d2, acting_user=d1_admin)
    with pytest.raises(PermissionDeniedError):  # renaming a neighbour's unit
        services.unit_update(unit=city.unit_d2_police, name="改名", acting_user=d1_admin)
    city.unit_d2_police.refresh_from_db()
    assert city.unit_d2_police.name == "东区公安分局"
    renamed = services.unit_update(unit=unit, name="西区新单位（改）", acting_user=d1_admin)
    assert renamed.name == "西区新单位（改）"
    assert renamed.history.first().history_user == d1_admin


def test_regions_are_added_and_changed_inside_the_territory_only(city, d1_admin):
    with pytest.raises(PermissionDeniedError):
        grid_services.region_update(region=city.d2, name="被改名的东区", acting_user=d1_admin)
    with pytest.raises(PermissionDeniedError):
        grid_services.region_create(parent=city.c211, level=Level.GRID, code="440201001009", name="越界网格",
                                    boundary=rect(4, 0, 5, 1), acting_user=d1_admin)
    with pytest.raises(PermissionDeniedError):  # a new city is the system's or a superuser's
        grid_services.region_create(parent=None, level=Level.CITY, code="450000", name="邻市",
                                    boundary=rect(8, 0, 12, 8), acting_user=d1_admin)
    assert Region.objects.get(pk=city.d2.pk).name == "东区"
    renamed = grid_services.region_update(region=city.s11, name="南街道（新）", acting_user=d1_admin)
    assert renamed.name == "南街道（新）"
    assert renamed.history.first().history_user == d1_admin
    grid_services.region_update(region=city.g1112, boundary=rect(3, 0, 4, 4), acting_user=SYSTEM)
    added = grid_services.region_create(parent=city.c111, level=Level.GRID, code="440101001003", name="南三网格",
                                        boundary=rect(2, 0, 3, 4), acting_user=d1_admin)
    assert added.path.startswith(city.d1.path)
