"""Which grid holds a point: inside, on shared edges and corners, outside, in a gap, and after a boundary moves."""

import math

import pytest
from django.db import transaction
from django.utils import translation

from governance.core.authority import SYSTEM
from grids import locate as locate_module
from grids import services
from grids.locate import OutsideCity, locate, locate_many
from grids.models import Region
from tests.factories import commit_memo_changes, point, rect

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def builds(monkeypatch):
    """Counts how often the STRtree is built."""
    calls = []
    real_build = locate_module._build

    def counting_build(version):
        calls.append(version)
        return real_build(version)

    monkeypatch.setattr(locate_module, "_build", counting_build)
    return calls


def test_a_point_inside_a_grid_finds_that_grid(city):
    assert locate(*point(1, 2)) == city.g1111
    assert locate(*point(3, 1)) == city.g1112
    assert locate(*point(2, 6)) == city.g1211
    assert locate(*point(6, 6)) == city.g2111


def test_a_point_on_the_city_boundary_is_inside(city):
    assert locate(*point(0, 0)) == city.g1111
    assert locate(*point(8, 8)) == city.g2111


def test_a_point_on_an_edge_shared_by_two_grids_goes_to_the_first_in_tree_order(city):
    # x = 2 is the edge between G1111 (west) and G1112 (east)
    answers = {locate(*point(2, 1)).pk for _ in range(5)}
    assert answers == {city.g1111.pk}


def test_a_point_on_an_edge_between_districts_goes_to_the_first_in_tree_order(city):
    # x = 4 is the edge between the west district's G1112 and the east district's G2111
    assert locate(*point(4, 1)) == city.g1112
    assert locate(*point(4, 6)) == city.g1211


def test_a_point_on_a_corner_shared_by_three_grids_goes_to_the_first_in_tree_order(city):
    # (2, 4): G1111, G1112 and G1211 meet; (4, 4): G1112, G1211 and G2111 meet
    assert locate(*point(2, 4)) == city.g1111
    assert locate(*point(4, 4)) == city.g1112
    assert locate(*point(4, 4)) == city.g1112


def test_a_point_outside_the_city_says_so_clearly(city):
    lat, lng = point(9, 4)
    with pytest.raises(OutsideCity) as caught:
        locate(lat, lng)
    assert caught.value.code == "outside_city"
    assert "outside the city" in str(caught.value.message)
    assert f"{lat:.6f}" in str(caught.value.message) and f"{lng:.6f}" in str(caught.value.message)


def test_with_no_grids_every_point_is_outside(db):
    with pytest.raises(OutsideCity):
        locate(23.0, 116.0)
    assert locate_many([(23.0, 116.0)]) == [None]


def test_the_tree_is_built_once_and_reused(city, builds):
    locate_module.invalidate()
    locate(*point(1, 1))
    locate(*point(6, 6))
    locate_many([point(3, 3), point(1, 7)])
    assert len(builds) == 1


def test_moving_an_edge_through_region_update_moves_the_point_to_the_other_grid(city, builds):
    probe = point(2.5, 1)
    assert locate(*probe) == city.g1112
    built = len(builds)
    # shrink the east grid first, then grow the west one into the freed strip
    services.region_update(acting_user=SYSTEM, region=city.g1112, boundary=rect(3, 0, 4, 4))
    services.region_update(acting_user=SYSTEM, region=city.g1111, boundary=rect(0, 0, 3, 4))
    assert locate(*probe) == city.g1111
    assert len(builds) == built + 1
    assert locate(*point(3.5, 1)) == city.g1112
    assert len(builds) == built + 1  # and then reused again


def test_a_new_grid_is_found_without_a_restart(city):
    probe = point(4.5, 0.5)
    assert locate(*probe) == city.g2111
    services.region_update(acting_user=SYSTEM, region=city.g2111, boundary=rect(5, 0, 8, 8))
    assert locate(*probe) == city.c211  # a gap now: the community holds the point, no grid does
    corner = services.region_create(acting_user=SYSTEM, parent=city.c211, level=5, code="440201001002", name="东二网格",
                                    boundary=rect(4, 0, 5, 8))
    assert locate(*probe) == corner


def test_a_renamed_grid_is_answered_with_its_new_name(city):
    locate(*point(1, 1))
    services.region_update(acting_user=SYSTEM, region=city.g1111, name="南一网格（新）")
    assert locate(*point(1, 1)).name == "南一网格（新）"


def test_locate_many_answers_many_points_at_once_in_order(city, django_assert_max_num_queries):
    def grid_at(x: float, y: float):
        if x > 4:
            return city.g2111
        if y > 4:
            return city.g1211
        return city.g1112 if x > 2 else city.g1111

    offsets = [(0.1 + i * 0.2, 0.1 + j * 0.2) for i in range(40) for j in range(40)]  # never on an edge
    outside = [point(-1, 3), point(3, 8.5), (0.0, 0.0)]
    with django_assert_max_num_queries(3):  # the version; a first build reads the polygons and the regions
        answers = locate_many([point(x, y) for x, y in offsets] + outside)
    assert answers[: len(offsets)] == [grid_at(x, y).pk for x, y in offsets]
    assert answers[len(offsets):] == [None, None, None]


def test_locate_many_agrees_with_locate_on_edges_and_corners(city):
    probes = [point(x, y) for x in range(9) for y in range(9)]
    answers = locate_many(probes)
    for probe, answer in zip(probes, answers, strict=True):
        assert answer == locate(*probe).pk


def test_locate_many_of_nothing_is_nothing(db):
    assert locate_many([]) == []


def test_a_change_stamped_by_a_lagging_clock_is_still_seen(city, django_capture_on_commit_callbacks):
    """updated_at comes from the writer's clock; the change token covers a writer whose clock is behind."""
    probe = point(2.5, 1)
    assert locate(*probe) == city.g1112
    with django_capture_on_commit_callbacks(execute=True):
        services.region_update(acting_user=SYSTEM, region=city.g1112, boundary=rect(3, 0, 4, 4))
        services.region_update(acting_user=SYSTEM, region=city.g1111, boundary=rect(0, 0, 3, 4))
        # as if both writes had been stamped no later than the grids' creation
        Region.objects.filter(pk__in=[city.g1111.pk, city.g1112.pk]).update(updated_at=city.g2111.updated_at)
    assert locate(*probe) == city.g1111


def test_a_cache_that_cannot_be_read_does_not_stop_locate(city, monkeypatch):
    class DownCache:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache server down")

    monkeypatch.setattr("governance.core.memo.cache", DownCache())
    assert locate(*point(1, 1)) == city.g1111


@pytest.fixture
def settled(city):
    """The city as if committed long ago (a test never commits: nothing would be kept), no tree kept yet."""
    commit_memo_changes()
    locate_module.invalidate()


def test_a_settled_lookup_reads_no_database_version(city, settled, django_assert_num_queries):
    locate_many([point(1, 1)])  # builds the tree and reads the version
    with django_assert_num_queries(0):
        assert locate_many([point(1, 1), point(6, 6)]) == [city.g1111.pk, city.g2111.pk]


def test_a_rolled_back_boundary_change_leaves_the_kept_tree_and_reads_nothing_after(
        city, settled, builds, django_assert_num_queries):
    probe = point(2.5, 1)
    assert locate(*probe) == city.g1112
    built = len(builds)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.region_update(acting_user=SYSTEM, region=city.g1112, boundary=rect(3, 0, 4, 4))
        services.region_update(acting_user=SYSTEM, region=city.g1111, boundary=rect(0, 0, 3, 4))
        assert locate(*probe) == city.g1111  # its own change, uncommitted
        raise RuntimeError("rolled back")
    with django_assert_num_queries(0):
        for _ in range(10):
            assert locate_many([probe]) == [city.g1112.pk]
    assert len(builds) == built + 1  # the one build inside the transaction, never kept


def test_a_token_put_by_another_process_rebuilds_at_once(city, settled, builds):
    from django.core.cache import cache

    probe = point(2.5, 1)
    assert locate(*probe) == city.g1112
    # another process moved the edge and committed: its rows and its token are there, nothing else here knows
    Region.objects.filter(pk=city.g1112.pk).update(boundary=rect(3, 0, 4, 4))
    Region.objects.filter(pk=city.g1111.pk).update(boundary=rect(0, 0, 3, 4))
    cache.set(locate_module.CHANGE_TOKEN_KEY, "another-process", timeout=None)
    assert locate(*probe) == city.g1111


def test_a_change_whose_token_was_lost_is_seen_within_the_recheck_interval(city, settled, builds, monkeypatch):
    from django.utils import timezone

    probe = point(2.5, 1)
    assert locate(*probe) == city.g1112
    Region.objects.filter(pk=city.g1112.pk).update(boundary=rect(3, 0, 4, 4), updated_at=timezone.now())
    Region.objects.filter(pk=city.g1111.pk).update(boundary=rect(0, 0, 3, 4), updated_at=timezone.now())
    assert locate(*probe) == city.g1112  # within the interval: the tree as it was
    clock = locate_module.time.monotonic() + locate_module.RECHECK_SECONDS + 1
    monkeypatch.setattr(locate_module.time, "monotonic", lambda: clock)
    assert locate(*probe) == city.g1111


def test_locate_home_answers_the_grid_and_its_community_from_the_index(city, settled, django_assert_num_queries):
    locate_many([point(1, 1)])
    with django_assert_num_queries(0):
        grid, community, gap = locate_module.locate_home(*point(1, 1))
    assert (grid, community, gap) == (city.g1111, city.c111, None)
    assert grid.name == city.g1111.name and community.level == 4
    grid.name = "changed by a caller"
    assert locate_module.locate_home(*point(1, 1))[0].name == city.g1111.name  # copies: the index is untouched
    with pytest.raises(OutsideCity):
        locate_module.locate_home(*point(-1, 3))


# --- Gaps: a point that no grid holds but a region does ---------------------------------


@pytest.fixture
def gap_in_c211(city):
    """The east grid G2111 shrunk to x 6..8: x 4..6 of the community C211 is covered by no grid."""
    services.region_update(acting_user=SYSTEM, region=city.g2111, boundary=rect(6, 0, 8, 8))
    return city


def test_a_point_in_a_gap_is_located_to_the_deepest_region_that_holds_it(gap_in_c211):
    city = gap_in_c211
    assert locate(*point(5, 4)) == city.c211
    assert locate_many([point(5, 4)]) == [None]  # no grid holds it
    assert locate(*point(7, 4)) == city.g2111


def test_a_point_in_a_gap_of_a_street_goes_to_the_street_when_no_community_holds_it(city):
    services.region_update(acting_user=SYSTEM, region=city.g2111, boundary=rect(6, 0, 8, 8))
    services.region_update(acting_user=SYSTEM, region=city.c211, boundary=rect(6, 0, 8, 8))
    assert locate(*point(5, 4)) == city.s21
    services.region_update(acting_user=SYSTEM, region=city.s21, boundary=rect(6, 0, 8, 8))
    assert locate(*point(5, 4)) == city.d2
    with pytest.raises(OutsideCity):
        locate(*point(9, 4))


def test_filing_in_a_gap_goes_to_the_nearest_grid_of_the_region_that_holds_the_point(gap_in_c211):
    city = gap_in_c211
    grid, community, gap = locate_module.locate_home(*point(5.5, 4))
    assert (grid, community) == (city.g2111, city.c211)
    assert gap.region == city.c211
    # 0.5 units (0.005 degrees of longitude at 23.04 N) west of the grid's edge at x = 6
    assert gap.grid_distance_m == pytest.approx(0.005 * 111_194.93 * math.cos(math.radians(23.04)), rel=1e-4)


def test_filing_in_a_gap_of_a_region_without_grids_goes_to_the_nearest_grid_of_its_parent(city):
    """C211 shrunk to x 6..8 leaves x 4..6 of the street S21 to no community; G2111 is S21's only grid."""
    services.region_update(acting_user=SYSTEM, region=city.g2111, boundary=rect(6, 0, 8, 8))
    services.region_update(acting_user=SYSTEM, region=city.c211, boundary=rect(6, 0, 8, 8))
    grid, community, gap = locate_module.locate_home(*point(4.5, 1))
    assert (grid, community, gap.region) == (city.g2111, city.c211, city.s21)
    assert gap.grid_distance_m > 0


def test_a_gap_of_a_city_without_grids_is_refused_clearly(db):
    city = services.region_create(acting_user=SYSTEM,
                                  parent=None, level=1, code="450000", name="空市", boundary=rect(0, 0, 8, 8))
    with pytest.raises(locate_module.NoGrid) as caught:
        locate_module.locate_home(*point(1, 1))
    assert caught.value.code == "no_grid" and "空市" in str(caught.value.message)
    assert locate(*point(1, 1)) == city
