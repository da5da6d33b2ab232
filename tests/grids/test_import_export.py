"""Import and export of the territory as GeoJSON: all or nothing, every problem named, round trip."""

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation

from governance.access.models import Unit
from governance.core.authority import SYSTEM
from grids import locate as locate_module
from grids import services
from grids.locate import locate
from grids.models import Level, Region
from grids.services import TerritoryImportError, export_territory, import_territory
from tests.factories import point, rect

pytestmark = pytest.mark.django_db

SAMPLE = Path(settings.BASE_DIR) / "fixtures" / "territory_sample.geojson"
BOW_TIE = {"type": "Polygon", "coordinates": [[[116.0, 23.0], [116.01, 23.01], [116.01, 23.0], [116.0, 23.01],
                                                [116.0, 23.0]]]}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def feature(code, name, level, parent_code, boundary):
    return {"type": "Feature", "geometry": boundary,
            "properties": {"code": code, "name": name, "level": level, "parent_code": parent_code}}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def new_community_file(*grids):
    """A new community under the north street (S12), which its one grid G1211 fills: room is made first."""
    return collection(
        feature("440102002", "北二社区", "community", "440102", rect(0, 6, 4, 8)),
        *grids,
    )


@pytest.fixture
def north_street_with_room(city):
    """S12 spans y 4..8; its community C121 and grid G1211 are shrunk to y 4..6, leaving y 6..8 free."""
    services.region_update(acting_user=SYSTEM, region=city.g1211, boundary=rect(0, 4, 4, 6))
    services.region_update(acting_user=SYSTEM, region=city.c121, boundary=rect(0, 4, 4, 6))
    return city


def snapshot():
    return sorted(Region.objects.values_list("code", "name", "level", "path", "numchild", "boundary"))


def write(tmp_path, data, name="territory.geojson") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def run_import(path, *args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_territory", path, *args, stdout=out, stderr=err)
    except CommandError as exc:
        return None, out.getvalue(), err.getvalue() + str(exc)
    return True, out.getvalue(), err.getvalue()


def refused(data) -> list[str]:
    """Import ``data``; assert it changed nothing and return the problems."""
    before = snapshot()
    with pytest.raises(TerritoryImportError) as caught:
        import_territory(data)
    assert snapshot() == before
    return caught.value.problems


# --- what is refused, and how it is told --------------------------------------

def test_import_of_bad_json_names_the_line_and_column_and_changes_nothing(city, tmp_path):
    before = snapshot()
    ok, _out, err = run_import(write(tmp_path, '{"type": "FeatureCollection",\n "features": [}\n'))
    assert ok is None
    assert "not valid JSON" in err and "line 2, column 15" in err
    assert snapshot() == before


def test_import_of_a_missing_file_says_it_cannot_be_read(db, tmp_path):
    ok, _out, err = run_import(str(tmp_path / "nowhere.geojson"))
    assert ok is None and "Cannot read" in err and "nowhere.geojson" in err


def test_import_of_a_file_that_is_not_utf8_says_so(db, tmp_path):
    path = tmp_path / "gbk.geojson"
    path.write_bytes(json.dumps({"name": "测试"}, ensure_ascii=False).encode("gbk"))
    ok, _out, err = run_import(str(path))
    assert ok is None and "not UTF-8" in err


def test_import_of_something_that_is_not_a_feature_collection_changes_nothing(city):
    problems = refused(feature("440103", "新区", "street", "440100", rect(0, 0, 1, 1)))
    assert problems == ["The file is not a GeoJSON FeatureCollection."]
    assert refused(collection()) == ["The FeatureCollection has no features."]


def test_import_with_a_self_intersecting_polygon_changes_nothing(north_street_with_room):
    problems = refused(new_community_file(feature("440102002001", "蝴蝶网格", "grid", "440102002", BOW_TIE)))
    assert len(problems) == 1
    assert problems[0].startswith("feature #2 (440102002001): ")
    assert "not a valid polygon" in problems[0] and "Self-intersection" in problems[0]


def test_import_with_a_child_outside_its_parent_changes_nothing(north_street_with_room):
    problems = refused(new_community_file(feature("440102002001", "越界网格", "grid", "440102002", rect(0, 5, 4, 8))))
    assert problems == ["feature #2 (440102002001): lies 33.33% outside its parent 440102002"]


def test_import_with_overlapping_siblings_in_the_file_changes_nothing(north_street_with_room):
    problems = refused(new_community_file(
        feature("440102002001", "甲网格", "grid", "440102002", rect(0, 6, 3, 8)),
        feature("440102002002", "乙网格", "grid", "440102002", rect(2, 6, 4, 8)),
    ))
    assert problems == ["feature #3 (440102002002): overlaps its sibling feature #2 (440102002001)"]


def test_import_overlapping_a_sibling_already_in_the_tree_changes_nothing(city):
    problems = refused(collection(feature("440101001003", "叠网格", "grid", "440101001", rect(1, 1, 2, 2))))
    assert problems == ["feature #1 (440101001003): overlaps the region 南一网格 (440101001001) already in the tree"]


def test_import_with_an_unknown_parent_changes_nothing(city):
    problems = refused(collection(feature("440103001", "无主社区", "community", "440103", rect(0, 0, 1, 1))))
    assert problems == ["feature #1 (440103001): its parent 440103 is neither in the file nor in the tree"]


def test_import_with_levels_out_of_order_changes_nothing(north_street_with_room):
    problems = refused(collection(feature("440102009", "跳级网格", "grid", "440102", rect(0, 6, 4, 8))))
    assert problems == ["feature #1 (440102009): a Grid cannot sit under a Street (440102)"]


def test_import_of_a_region_other_than_a_city_at_the_top_changes_nothing(city):
    problems = refused(collection(feature("990000", "孤区", "district", None, rect(9, 9, 10, 10))))
    assert problems == ["feature #1 (990000): has no parent_code, but only a city may stand at the top"]


def test_import_with_duplicate_codes_changes_nothing(north_street_with_room):
    problems = refused(new_community_file(
        feature("440102002001", "甲网格", "grid", "440102002", rect(0, 6, 2, 8)),
        feature("440102002001", "乙网格", "grid", "440102002", rect(2, 6, 4, 8)),
    ))
    assert problems == ["feature #3 (440102002001): repeats the code 440102002001 of feature #2"]


def test_import_with_missing_properties_names_each_one(city):
    problems = refused(collection(
        {"type": "Feature", "geometry": rect(0, 0, 1, 1), "properties": {"parent_code": "440101001"}},
        {"type": "Feature", "geometry": rect(0, 0, 1, 1)},
        feature("440101001004", "怪级网格", "village", "440101001", rect(0, 0, 1, 1)),
        {"type": "Feature", "properties": {"code": "440101001005", "name": "无界网格", "level": "grid",
                                           "parent_code": "440101001"}},
        ["not", "a", "feature"],
    ))
    assert problems == [
        "feature #1 (?): has no code",
        "feature #1 (?): has no name",
        "feature #1 (?): has no level (use city, district, street, community or grid)",
        "feature #2 (?): has no code",
        "feature #2 (?): has no name",
        "feature #2 (?): has no level (use city, district, street, community or grid)",
        "feature #3 (440101001004): has an unknown level 'village' (use city, district, street, community or grid)",
        "feature #4 (440101001005): The boundary is not a GeoJSON geometry object.",
        "feature #5 (?): is not a GeoJSON Feature",
    ]


def test_import_does_not_move_an_existing_region_to_another_parent(city):
    moved = feature(city.g1211.code, city.g1211.name, "grid", city.c111.code, rect(0, 4, 4, 8))
    problems = refused(collection(moved))
    assert problems == [
        "feature #1 (440102001001): already stands in the tree as a Grid under 440102001, but the file makes it "
        "a Grid under 440101001; the import does not move regions"]


def test_import_does_not_change_the_level_of_an_existing_region(city):
    relevelled = feature(city.c211.code, city.c211.name, "street", city.d2.code, rect(4, 0, 8, 8))
    problems = refused(collection(relevelled))
    assert len(problems) == 1
    assert "already stands in the tree as a Community under 440201" in problems[0]
    assert "a Street under 440200" in problems[0]


def test_import_that_reshapes_a_region_away_from_its_children_changes_nothing(city):
    problems = refused(collection(feature(city.c111.code, city.c111.name, "community", city.s11.code,
                                          rect(0, 0, 3, 4))))
    assert problems == ["feature #1 (440101001): the new boundary would leave 50.00% of its child 南二网格 "
                        "(440101001002) outside"]


def test_import_reports_every_problem_at_once_in_the_files_order(north_street_with_room):
    problems = refused(new_community_file(
        feature("440102002001", "蝴蝶网格", "grid", "440102002", BOW_TIE),
        feature("440102002002", "越界网格", "grid", "440102002", rect(0, 5, 1, 7)),
        feature("440102002003", "无主网格", "grid", "440102003", rect(1, 6, 2, 7)),
        feature("440102002004", "", "grid", "440102002", rect(2, 6, 3, 7)),
    ))
    assert [p.split(":")[0] for p in problems] == [
        "feature #2 (440102002001)", "feature #3 (440102002002)", "feature #4 (440102002003)",
        "feature #5 (440102002004)"]


def test_children_of_an_unreadable_parent_are_not_blamed_for_it(city):
    problems = refused(collection(
        feature("440103", "坏区", "district", "440000", BOW_TIE),
        feature("440103001", "子街道", "street", "440103", rect(0, 0, 1, 1)),
    ))
    assert len(problems) == 1 and problems[0].startswith("feature #1 (440103)")


def test_import_command_lists_every_problem_on_stderr_and_fails(city, tmp_path):
    data = collection(
        feature("440103001", "无主社区", "community", "440103", rect(0, 0, 1, 1)),
        feature("440101001003", "叠网格", "grid", "440101001", rect(1, 1, 2, 2)),
    )
    before = snapshot()
    ok, out, err = run_import(write(tmp_path, data))
    assert ok is None
    lines = err.splitlines()
    assert "feature #1 (440103001): its parent 440103 is neither in the file nor in the tree" in lines
    assert "feature #2 (440101001003): overlaps the region 南一网格 (440101001001) already in the tree" in lines
    assert "Nothing was imported" in err and "2 problems" in err
    assert "created" not in out
    assert snapshot() == before


# --- gaps: every region the file touches is covered by its children --------------------

def city_file_without(code: str) -> dict:
    """The test city as a file, less one region."""
    data = export_territory()
    data["features"] = [f for f in data["features"] if f["properties"]["code"] != code]
    return data


def test_an_import_that_leaves_a_hole_in_a_community_is_refused_with_the_area_and_where(city):
    """The issue's case: a city imported without one of its grids."""
    data = city_file_without(city.g1112.code)  # the east half of 南一社区
    Unit.objects.all().delete()
    Region.objects.all().delete()
    locate_module.invalidate()
    problems = refused(data)
    hole = point(3, 2)  # the middle of 南二网格, the grid left out
    assert problems == ["feature #4 (440101001): 50.00% of its area (about 9.10 km², in 1 piece(s)) is covered by "
                        f"none of its children, around {hole[0]:.6f}, {hole[1]:.6f}"]
    assert Region.objects.count() == 0


def test_a_gap_left_in_a_region_of_the_tree_is_blamed_on_the_files_feature_that_leaves_it(city):
    # x 4..6 of 东一社区: no grid yet
    services.region_update(acting_user=SYSTEM, region=city.g2111, boundary=rect(6, 0, 8, 8))
    problems = refused(collection(feature("440201001002", "东二网格", "grid", "440201001", rect(4, 0, 5, 8))))
    assert problems == ["feature #1 (440201001002): its parent 东一社区 (440201001) in the tree: 25.00% of its area "
                        "(about 9.10 km², in 1 piece(s)) is covered by none of its children, around 23.040000, "
                        "116.055000"]
    assert import_territory(collection(feature("440201001002", "东二网格", "grid", "440201001",
                                               rect(4, 0, 6, 8)))).created == 1


def test_a_new_region_without_children_is_a_gap_as_a_whole(north_street_with_room):
    problems = refused(collection(feature("440102002", "北二社区", "community", "440102", rect(0, 6, 4, 8))))
    assert problems == ["feature #1 (440102002): 100.00% of its area (about 9.10 km², in 1 piece(s)) is covered "
                        "by none of its children, around 23.070000, 116.020000"]


def test_gaps_are_checked_once_the_file_has_no_other_problem(north_street_with_room):
    problems = refused(new_community_file(feature("440102002001", "蝴蝶网格", "grid", "440102002", BOW_TIE)))
    assert len(problems) == 1 and "Self-intersection" in problems[0]


def test_an_administrator_may_accept_a_gap_knowingly_and_it_is_recorded(city, tmp_path, people):
    path = write(tmp_path, collection(feature(city.g2111.code, city.g2111.name, "grid", city.c211.code,
                                              rect(6, 0, 8, 8))))
    before = snapshot()
    ok, out, _err = run_import(path, "--dry-run", "--accept-gaps")
    assert ok and "Gap would be accepted: 东一社区 (440201001): 50.00% of its area" in out
    assert snapshot() == before

    ok, out, err = run_import(path, "--accept-gaps")

    assert ok, err
    assert "Gap accepted and recorded: 东一社区 (440201001): 50.00% of its area (about 18.20 km², in 1 piece(s)) " \
           "is covered by none of its children, around 23.040000, 116.050000" in out
    assert "0 created, 1 updated" in out
    recorded = Region.objects.get(pk=city.c211.pk).history.first()
    assert (recorded.history_type, recorded.history_change_reason) == (
        "~", "territory import: gap accepted, 50.00% (18.205 km²) covered by no child")
    assert recorded.name == city.c211.name and recorded.boundary == city.c211.boundary
    audit = admin_client_for(people.city_admin).get("/audit/").content.decode()
    assert "territory import: gap accepted, 50.00%" in audit
    assert locate(*point(5, 4)) == city.c211


def admin_client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_accepting_gaps_through_the_service_returns_them(city):
    result = import_territory(collection(feature(city.g2111.code, city.g2111.name, "grid", city.c211.code,
                                                 rect(6, 0, 8, 8))), accept_gaps=True)
    assert [(g.code, round(g.gap.share, 4), g.gap.pieces) for g in result.gaps] == [("440201001", 0.5, 1)]
    assert result.gaps[0].gap.area_m2 == pytest.approx(18.2e6, rel=0.01)


def test_a_file_without_gaps_reports_none(city):
    assert import_territory(export_territory()).gaps == []


# --- rings and size ---------------------------------------------------------------------

def test_an_unclosed_ring_is_refused(north_street_with_room):
    open_ring = rect(0, 6, 4, 8)
    open_ring["coordinates"][0].pop()  # GeoJSON requires the last position to repeat the first
    problems = refused(new_community_file(feature("440102002001", "开口网格", "grid", "440102002", open_ring)))
    assert problems == ["feature #2 (440102002001): The boundary's ring 1 is not closed: GeoJSON requires its "
                        "last position to repeat its first."]


def test_a_territory_file_over_the_size_limit_is_refused(city, tmp_path, settings):
    settings.TERRITORY_FILE_MAX_BYTES = 1024
    big = write(tmp_path, collection(*[feature(f"44990{i:04d}", "大", "city", None, rect(0, 0, 1, 1))
                                       for i in range(20)]))
    before = snapshot()
    ok, _out, err = run_import(big)
    assert ok is None and "is larger than" in err and "TERRITORY_FILE_MAX_BYTES" in err
    assert snapshot() == before


def test_the_size_limit_is_said_in_the_commands_help():
    from grids.management.commands.import_territory import Command

    parser = Command().create_parser("manage.py", "import_territory")
    assert "Files larger than 64 MiB are refused" in parser.format_help().replace("\n", " ")
    assert "--accept-gaps" in parser.format_help()


def test_a_failure_while_writing_rolls_back_the_whole_import(north_street_with_room, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "bulk_create_with_history", fail)
    data = new_community_file(feature("440102002001", "北二第一网格", "grid", "440102002", rect(0, 6, 4, 8)),
                              feature("440101001001", "南一网格（改）", "grid", "440101001", rect(0, 0, 2, 4)))
    before = snapshot()
    with pytest.raises(RuntimeError):
        import_territory(data)
    assert snapshot() == before


# --- what is accepted ----------------------------------------------------------

def test_a_valid_import_creates_the_regions_under_the_existing_tree(north_street_with_room):
    city = north_street_with_room
    result = import_territory(new_community_file(
        feature("440102002001", "北二第一网格", "grid", "440102002", rect(0, 6, 2, 8)),
        feature("440102002002", "北二第二网格", "grid", "440102002", rect(2, 6, 4, 8)),
    ))
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    community = Region.objects.get(code="440102002")
    assert Region.objects.get_parent(community) == city.s12
    assert community.level == Level.COMMUNITY and community.numchild == 2
    assert Region.objects.get(pk=city.s12.pk).numchild == 2
    assert [r.code for r in Region.objects.get_children(community)] == ["440102002001", "440102002002"]
    assert Region.objects.get(code="440102002002").min_lng == pytest.approx(116.02)
    assert Region.objects.find_problems() == ([], [], [], [], [])
    assert locate(*point(3, 7)).code == "440102002002"
    # treebeard's own add_child carries on after the imported children
    services.region_update(acting_user=SYSTEM,
                           region=Region.objects.get(code="440102002002"), boundary=rect(2, 6, 3, 8))
    later = services.region_create(acting_user=SYSTEM,
                                   parent=community, level=Level.GRID, code="440102002003", name="北二第三网格",
                                   boundary=rect(3, 6, 4, 8))
    assert [r.code for r in Region.objects.get_children(community)] == ["440102002001", "440102002002",
                                                                        "440102002003"]
    assert later.path > Region.objects.get(code="440102002002").path
    assert Region.objects.find_problems() == ([], [], [], [], [])


def test_reimporting_the_same_file_creates_nothing_and_changes_nothing(north_street_with_room, tmp_path):
    path = write(tmp_path, new_community_file(
        feature("440102002001", "北二第一网格", "grid", "440102002", rect(0, 6, 4, 8))))
    ok, out, _err = run_import(path)
    assert ok and "2 created, 0 updated, 0 unchanged" in out
    before = snapshot()
    ok, out, _err = run_import(path)
    assert ok and "0 created, 0 updated, 2 unchanged" in out
    assert snapshot() == before


def test_an_import_renames_and_reshapes_existing_regions(north_street_with_room):
    city = north_street_with_room
    result = import_territory(collection(
        feature(city.g1211.code, "北一网格（改）", "grid", city.c121.code, rect(0, 4, 4, 6)),
        feature(city.g1112.code, city.g1112.name, "grid", city.c111.code, rect(3, 0, 4, 4)),
        feature(city.g1111.code, city.g1111.name, "grid", city.c111.code, rect(0, 0, 3, 4)),
        feature(city.g2111.code, city.g2111.name, "grid", city.c211.code, rect(4, 0, 8, 8)),
    ))
    assert (result.created, result.updated, result.unchanged) == (0, 3, 1)
    assert Region.objects.get(pk=city.g1211.pk).name == "北一网格（改）"
    assert Region.objects.get(pk=city.g1111.pk).max_lng == pytest.approx(116.03)
    assert [h.history_change_reason for h in Region.objects.get(pk=city.g1111.pk).history.all()][0] == \
        "territory import"


def test_an_import_that_moves_a_boundary_is_seen_by_locate(city):
    probe = point(2.5, 1)
    assert locate(*probe) == city.g1112
    import_territory(collection(
        feature(city.g1112.code, city.g1112.name, "grid", city.c111.code, rect(3, 0, 4, 4)),
        feature(city.g1111.code, city.g1111.name, "grid", city.c111.code, rect(0, 0, 3, 4)),
    ))
    assert locate(*probe) == city.g1111


def test_a_dry_run_checks_everything_and_writes_nothing(north_street_with_room, tmp_path):
    path = write(tmp_path, new_community_file(
        feature("440102002001", "北二第一网格", "grid", "440102002", rect(0, 6, 4, 8))))
    before = snapshot()
    ok, out, _err = run_import(path, "--dry-run")
    assert ok and "Dry run" in out and "2 created" in out
    assert snapshot() == before
    bad = write(tmp_path, new_community_file(feature("440102002001", "蝴蝶网格", "grid", "440102002", BOW_TIE)),
                name="bad.geojson")
    ok, _out, err = run_import(bad, "--dry-run")
    assert ok is None and "Self-intersection" in err


def test_levels_may_be_given_as_numbers(north_street_with_room):
    result = import_territory(collection(
        feature("440102002", "北二社区", Level.COMMUNITY.value, "440102", rect(0, 6, 4, 8)),
        feature("440102002001", "北二第一网格", Level.GRID.value, "440102002", rect(0, 6, 4, 8))))
    assert result.created == 2


def test_the_sample_file_imports_into_an_empty_database(db):
    ok, out, err = run_import(str(SAMPLE))
    assert ok, err
    assert "17 created" in out
    assert Region.objects.filter(level=Level.GRID).count() == 7
    assert Region.objects.get(code="449902001001001").boundary["type"] == "MultiPolygon"
    assert Region.objects.find_problems() == ([], [], [], [], [])


def test_a_large_import_reads_and_writes_in_bulk(db, django_assert_max_num_queries):
    """400 grids: the number of queries does not grow with the number of features."""
    def cell(i, j, size=0.002):
        x0, y0 = 117.0 + i * size, 24.0 + j * size
        return {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size],
                                                    [x0, y0 + size], [x0, y0]]]}
    whole = {"type": "Polygon", "coordinates": [[[117.0, 24.0], [117.04, 24.0], [117.04, 24.04], [117.0, 24.04],
                                                 [117.0, 24.0]]]}
    features = [feature("450000", "大市", "city", None, whole),
                feature("450100", "大区", "district", "450000", whole),
                feature("450101", "大街道", "street", "450100", whole),
                feature("450101001", "大社区", "community", "450101", whole)]
    features += [feature(f"450101001{i:02d}{j:02d}", f"网格{i}-{j}", "grid", "450101001", cell(i, j))
                 for i in range(20) for j in range(20)]
    with django_assert_max_num_queries(40):
        result = import_territory(collection(*features))
    assert result.created == 404
    with django_assert_max_num_queries(20):
        result = import_territory(collection(*features))
    assert result.unchanged == 404
    assert Region.objects.find_problems() == ([], [], [], [], [])


# --- export and the round trip ---------------------------------------------------

def test_export_writes_utf8_geojson_that_names_each_regions_parent(city, tmp_path):
    out_path = tmp_path / "out.geojson"
    call_command("export_territory", "--output", str(out_path), stderr=io.StringIO())
    raw = out_path.read_bytes().decode("utf-8")
    assert "测试市" in raw  # ensure_ascii=False: names stay readable
    data = json.loads(raw)
    assert data["type"] == "FeatureCollection" and len(data["features"]) == Region.objects.count()
    props = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    assert props["440000"]["parent_code"] is None and props["440000"]["level"] == "city"
    assert props["440101001002"] == {"code": "440101001002", "name": "南二网格", "level": "grid",
                                     "parent_code": "440101001"}


def test_export_of_a_subtree_names_the_parent_of_its_top(city):
    out = io.StringIO()
    call_command("export_territory", "--root", city.s11.code, stdout=out)
    data = json.loads(out.getvalue())
    assert [f["properties"]["code"] for f in data["features"]] == ["440101", "440101001", "440101001001",
                                                                  "440101001002"]
    assert data["features"][0]["properties"]["parent_code"] == "440100"


def test_export_of_an_unknown_root_fails_clearly(city):
    with pytest.raises(CommandError, match="No region has the code 999"):
        call_command("export_territory", "--root", "999", stdout=io.StringIO())


def test_export_then_import_into_an_empty_database_gives_the_same_tree(city, tmp_path):
    def tree():
        by_path = {r.path: r for r in Region.objects.all()}
        parent_code = {path: by_path[path[:-Region.steplen]].code for path in by_path if len(path) > Region.steplen}
        return sorted((r.code, r.name, r.level, parent_code.get(r.path), json.dumps(r.boundary))
                      for r in by_path.values())

    services.region_update(acting_user=SYSTEM, region=city.g2111, boundary={"type": "MultiPolygon", "coordinates": [
        rect(4, 0, 8, 4)["coordinates"], rect(4, 5, 8, 8)["coordinates"]]})
    before = tree()
    path = tmp_path / "territory.geojson"
    call_command("export_territory", "--output", str(path), stderr=io.StringIO())
    Unit.objects.all().delete()
    Region.objects.all().delete()
    locate_module.invalidate()
    assert Region.objects.count() == 0

    ok, _out, err = run_import(str(path))
    assert ok is None and "12.50% of its area" in err, "the strip y 4..5 of 东一社区 is in no grid"
    ok, out, err = run_import(str(path), "--accept-gaps")
    assert ok, err
    assert f"{len(before)} created" in out and "Gap accepted and recorded: 东一社区 (440201001): 12.50%" in out
    assert tree() == before
    assert Region.objects.find_problems() == ([], [], [], [], [])
    assert locate(*point(1, 1)).code == "440101001001"
    assert locate(*point(6, 4.5)).code == "440201001"  # in the gap: the community that holds it


def test_export_reads_back_into_the_same_database_as_unchanged(city):
    result = import_territory(export_territory())
    assert (result.created, result.updated, result.unchanged) == (0, 0, Region.objects.count())
