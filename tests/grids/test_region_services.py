"""region_create / region_update keep the rules of the tree, and the admin shows their errors on the form."""

import json

import pytest
from django.utils import translation

from governance.core.authority import SYSTEM
from governance.core.errors import InvalidInput
from grids import services
from grids.geometry import BoundaryError
from grids.models import Level, Region
from tests.factories import rect

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    # Requests pick their language again (LocaleMiddleware): English for them too.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def add_grid(parent, code="440101001003", boundary=None, level=Level.GRID, name="新网格"):
    return services.region_create(acting_user=SYSTEM, parent=parent, level=level, code=code, name=name,
                                  boundary=boundary or rect(0, 0, 1, 1))


def test_a_region_is_created_with_its_extent(city):
    services.region_update(acting_user=SYSTEM, region=city.g2111, boundary=rect(5, 0, 8, 8))
    grid = add_grid(city.c211, code="440201001002", boundary=rect(4, 0, 5, 8))
    assert grid.path.startswith(city.c211.path) and grid.depth == 5
    assert (grid.min_lng, grid.max_lng, grid.min_lat, grid.max_lat) == pytest.approx((116.04, 116.05, 23.0, 23.08))
    assert (grid.centroid_lng, grid.centroid_lat) == pytest.approx((116.045, 23.04))
    assert Region.objects.get(code="440201001002").boundary == rect(4, 0, 5, 8)
    assert Region.objects.get(pk=city.c211.pk).numchild == 2


def test_creating_a_region_outside_its_parent_is_refused(city):
    with pytest.raises(BoundaryError, match="outside its parent") as caught:
        add_grid(city.c111, boundary=rect(3, 0, 5, 4))
    assert "boundary" in caught.value.field_errors
    assert not Region.objects.filter(code="440101001003").exists()


def test_creating_a_region_over_a_sibling_is_refused_and_names_the_sibling(city):
    with pytest.raises(BoundaryError, match="overlaps its sibling 南一网格"):
        add_grid(city.c111, boundary=rect(1, 0, 2, 4))
    assert not Region.objects.filter(code="440101001003").exists()


def test_a_stale_parent_object_still_sees_its_children(city):
    stale = Region.objects.get(pk=city.c111.pk)
    stale.numchild = 0  # as if loaded before its grids were added
    with pytest.raises(BoundaryError, match="overlaps"):
        add_grid(stale, boundary=rect(1, 0, 2, 4))


def test_a_level_that_does_not_follow_the_parents_is_refused(city):
    with pytest.raises(InvalidInput, match="A Grid cannot sit under a Street") as caught:
        add_grid(city.s11, code="440101009")
    assert "level" in caught.value.field_errors


def test_only_a_city_stands_at_the_top(city):
    with pytest.raises(InvalidInput, match="Only a city"):
        services.region_create(acting_user=SYSTEM, parent=None, level=Level.DISTRICT, code="990000", name="孤区",
                               boundary=rect(9, 9, 10, 10))


def test_an_unknown_level_is_refused(city):
    with pytest.raises(InvalidInput, match="not a level"):
        add_grid(city.c111, level=9)


def test_a_code_already_used_is_refused(city):
    with pytest.raises(InvalidInput, match="already exists") as caught:
        add_grid(city.c111, code=city.g1111.code, boundary=rect(0, 0, 1, 1))
    assert "code" in caught.value.field_errors


def test_an_empty_name_is_refused(city):
    with pytest.raises(InvalidInput, match="name is required"):
        add_grid(city.c211, name="  ")


def test_a_second_city_beside_the_first_is_allowed_but_not_over_it(city):
    services.region_create(acting_user=SYSTEM,
                           parent=None, level=Level.CITY, code="450000", name="邻市", boundary=rect(8, 0, 12, 8))
    with pytest.raises(BoundaryError, match="overlaps its sibling 测试市"):
        services.region_create(acting_user=SYSTEM,
                               parent=None, level=Level.CITY, code="460000", name="叠市", boundary=rect(6, 0, 9, 8))


def test_a_region_is_renamed(city):
    services.region_update(acting_user=SYSTEM, region=city.g1111, name="南一网格（改）")
    assert Region.objects.get(pk=city.g1111.pk).name == "南一网格（改）"


def test_a_boundary_moved_within_the_rules_updates_the_extent(city):
    services.region_update(acting_user=SYSTEM, region=city.g1112, boundary=rect(3, 0, 4, 4))
    region = Region.objects.get(pk=city.g1112.pk)
    assert region.min_lng == pytest.approx(116.03)
    assert region.centroid_lng == pytest.approx(116.035)


def test_a_boundary_moved_outside_the_parent_is_refused(city):
    with pytest.raises(BoundaryError, match="outside its parent"):
        services.region_update(acting_user=SYSTEM, region=city.g1112, boundary=rect(2, 0, 5, 4))
    assert Region.objects.get(pk=city.g1112.pk).boundary == rect(2, 0, 4, 4)


def test_a_boundary_moved_over_a_sibling_is_refused(city):
    with pytest.raises(BoundaryError, match="overlaps its sibling 南一网格"):
        services.region_update(acting_user=SYSTEM, region=city.g1112, boundary=rect(1, 0, 4, 4))
    assert Region.objects.get(pk=city.g1112.pk).boundary == rect(2, 0, 4, 4)


def test_a_new_boundary_that_would_leave_a_child_outside_is_refused(city):
    with pytest.raises(BoundaryError, match="would leave 南二网格 .* outside"):
        services.region_update(acting_user=SYSTEM, region=city.c111, boundary=rect(0, 0, 3, 4))
    assert Region.objects.get(pk=city.c111.pk).boundary == rect(0, 0, 4, 4)


def test_an_invalid_new_boundary_is_refused_with_the_reason(city):
    bow_tie = {"type": "Polygon", "coordinates": [[[116.0, 23.0], [116.01, 23.01], [116.01, 23.0], [116.0, 23.01],
                                                    [116.0, 23.0]]]}
    with pytest.raises(BoundaryError, match="Self-intersection"):
        services.region_update(acting_user=SYSTEM, region=city.g1111, boundary=bow_tie)


def test_every_change_leaves_a_history_row(city):
    services.region_update(acting_user=SYSTEM, region=city.g1111, name="改名")
    assert [h.name for h in city.g1111.history.order_by("history_date")] == ["南一网格", "改名"]


# --- admin -------------------------------------------------------------------

def admin_add(client, **fields):
    data = {"level": Level.GRID, "code": "440101001003", "name": "新网格", "parent_code": "440101001",
            "boundary": json.dumps(rect(0, 0, 1, 1)), **fields}
    if isinstance(data["boundary"], dict):
        data["boundary"] = json.dumps(data["boundary"])
    return client.post("/admin/grids/region/add/", data)


def test_admin_shows_a_boundary_overlapping_a_sibling_as_a_form_error(admin_client, city):
    response = admin_add(admin_client, boundary=rect(1, 0, 3, 4))
    assert response.status_code == 200
    assert "overlaps its sibling" in response.context["adminform"].form.errors["boundary"][0]
    assert not Region.objects.filter(code="440101001003").exists()


def test_admin_shows_an_invalid_boundary_as_a_form_error(admin_client, city):
    response = admin_add(admin_client, boundary={"type": "Point", "coordinates": [116.0, 23.0]})
    assert response.status_code == 200
    assert "Polygon or MultiPolygon" in response.context["adminform"].form.errors["boundary"][0]


def test_admin_shows_an_unknown_parent_as_a_form_error(admin_client, city):
    response = admin_add(admin_client, parent_code="999999")
    assert response.status_code == 200
    assert "999999" in response.context["adminform"].form.errors["parent_code"][0]


def test_admin_shows_a_level_mismatch_as_a_form_error(admin_client, city):
    response = admin_add(admin_client, level=Level.COMMUNITY)
    assert response.status_code == 200
    assert "cannot sit under" in response.context["adminform"].form.errors["level"][0]


def test_admin_adds_a_valid_region_through_the_service(admin_client, city):
    response = admin_add(admin_client, boundary=rect(0, 0, 2, 4), code="440101001009")
    assert response.status_code == 200  # the sibling G1111 is exactly there
    response = admin_add(admin_client, code="440201001002", parent_code="440201001",
                         boundary=rect(4, 0, 8, 8))
    assert response.status_code == 200  # and G2111 fills its community
    services.region_update(acting_user=SYSTEM, region=city.g2111, boundary=rect(5, 0, 8, 8))
    response = admin_add(admin_client, code="440201001002", parent_code="440201001", boundary=rect(4, 0, 5, 8))
    assert response.status_code == 302
    added = Region.objects.get(code="440201001002")
    assert added.depth == 5 and added.path.startswith(city.c211.path)
    assert added.min_lng == pytest.approx(116.04) and added.max_lng == pytest.approx(116.05)


def test_admin_refuses_a_change_that_would_leave_a_child_outside(admin_client, city):
    response = admin_client.post(f"/admin/grids/region/{city.c111.pk}/change/",
                                 {"name": city.c111.name, "boundary": json.dumps(rect(0, 0, 3, 4))})
    assert response.status_code == 200
    assert "would leave" in response.context["adminform"].form.errors["boundary"][0]
    assert Region.objects.get(pk=city.c111.pk).boundary == rect(0, 0, 4, 4)


def test_admin_saves_a_valid_change_through_the_service(admin_client, city):
    response = admin_client.post(f"/admin/grids/region/{city.g1112.pk}/change/",
                                 {"name": "南二网格（改）", "boundary": json.dumps(rect(3, 0, 4, 4))})
    assert response.status_code == 302
    region = Region.objects.get(pk=city.g1112.pk)
    assert region.name == "南二网格（改）" and region.min_lng == pytest.approx(116.03)
