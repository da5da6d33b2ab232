"""Import of a task breakdown from xlsx: the sample loads; every kind of bad row is named and nothing is stored."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from governance.access.models import Unit, UnitKind
from governance.core.errors import InvalidInput, PermissionDeniedError
from governance.core.testing import page_client
from governance.ledgers import importer
from governance.ledgers.models import Programme, Responsibility, Task

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "ledger_tasks_sample.xlsx"
HEADER = ["编号", "标题", "说明", "牵头领导", "牵头单位", "责任单位", "完成时限", "填报周期", "权重"]


@pytest.fixture
def programme(city):
    for code, name, region in [("440500-SF", "市司法局", city.city), ("440500-GA", "市公安局", city.city),
                               ("440500-CG", "市城管局", city.city), ("440502-SF", "西区司法局", city.d1),
                               ("440503-SF", "东区司法局", city.d2), ("440502-CG", "西区城管局", city.d1),
                               ("440503-CG", "东区城管局", city.d2), ("440502-FY", "西区法院", city.d1)]:
        Unit.objects.create(code=code, name=name, kind=UnitKind.DEPARTMENT, home_region=region)
    return Programme.objects.create(code="P-IMP", title="试点", region=city.city, starts_on=date(2026, 1, 1),
                                    ends_on=date(2028, 12, 31))


def workbook(rows, header=HEADER) -> io.BytesIO:
    book = Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def test_the_sample_file_loads_with_what_the_parents_pass_down(programme, people):
    with SAMPLE.open("rb") as handle:
        made = importer.import_tasks(programme=programme, file=handle, acting_user=people.city_admin)
    assert made == 11 and Task.objects.filter(programme=programme).count() == 11
    assert Responsibility.objects.filter(task__programme=programme).count() == 11
    t = {task.code: task for task in Task.objects.filter(programme=programme)}
    assert [c for c in (task.code for task in Task.objects.filter(programme=programme))] == [
        "1", "1.1", "1.2", "2", "2.1", "2.1.1", "2.1.2", "2.2", "3", "3.1", "3.2"]  # the tree's order
    assert t["1.1"].lead_unit.code == "440500-SF" and Task.objects.get_parent(t["1.1"]) == t["1"]
    assert (t["2.1"].cycle, t["2.1"].lead_unit.code) == ("monthly", "440500-CG")
    assert (t["3.2"].cycle, t["3.2"].deadline) == ("quarterly", date(2027, 12, 31))
    assert t["2.1.2"].deadline == date(2026, 9, 30) and t["2.2"].deadline == date(2027, 6, 30)
    assert t["2"].weight == Decimal(3) and t["2.1.1"].cycle == "once"
    assert sorted(u.code for u in Unit.objects.filter(pk__in=t["2.2"].responsibilities.values("unit"))) == [
        "440500-CG", "440500-GA"]
    with pytest.raises(InvalidInput):  # a programme is imported into once
        importer.import_tasks(programme=programme, file=workbook([["9", "x", "", "", "", "市公安局"]]),
                              acting_user=people.city_admin)


@pytest.mark.parametrize("rows, row, column, words", [
    ([["1", "", "", "", "", "市公安局"]], 2, "标题", "required"),
    ([["1.a", "任务", "", "", "", "市公安局"]], 2, "编号", "not a code"),
    ([["1", "任务", "", "", "", "市公安局"], ["1", "又一个", "", "", "", "市公安局"]], 3, "编号", "1 is also on row 3"),
    ([["1", "任务", "", "", "", ""], ["1.1.1", "孙任务", "", "", "", "市公安局"]], 3, "编号", "parent 1.1"),
    ([["1", "任务", "", "", "", "不存在的局"]], 2, "责任单位", "不存在的局"),
    ([["1", "任务", "", "", "不存在的局", "市公安局"]], 2, "牵头单位", "不存在的局"),
    ([["1", "任务", "", "", "", "市公安局", "明年"]], 2, "完成时限", "not a date"),
    ([["1", "任务", "", "", "", "市公安局", "2026-02-30"]], 2, "完成时限", "not a date"),
    ([["1", "任务", "", "", "", "市公安局", "", "每周"]], 2, "填报周期", "每周"),
    ([["1", "任务", "", "", "", "市公安局", "", "", "-1"]], 2, "权重", "-1"),
    ([["1", "任务", "", "", "", ""]], 2, "责任单位", "at least one"),
    ([["1", "任务", "", "", "", "市公安局"], ["1.1", "子任务", "", "", "", "市公安局"]], 2, "责任单位",
     "requirements"),
])
def test_each_kind_of_bad_row_is_reported_and_nothing_is_stored(programme, people, rows, row, column, words,
                                                                settings):
    settings.LANGUAGE_CODE = "en"
    good = [["5", "好的一行", "", "", "", "市公安局"]]
    with pytest.raises(importer.ImportRefused) as refused:
        importer.import_tasks(programme=programme, file=workbook(good + [[c for c in r] for r in rows]),
                              acting_user=people.city_admin)
    problems = [(p.row - 1, p.column) for p in refused.value.problems]  # one good row first
    assert (row, column) in problems, refused.value.problems
    assert any(words in p.reason for p in refused.value.problems)
    assert not Task.objects.exists() and not Responsibility.objects.exists()


def test_a_missing_column_and_a_file_that_is_not_xlsx(programme, people):
    with pytest.raises(importer.ImportRefused) as refused:
        importer.import_tasks(programme=programme, file=workbook([["任务"]], header=["标题"]),
                              acting_user=people.city_admin)
    assert [(p.row, p.column) for p in refused.value.problems] == [(1, "编号")]
    with pytest.raises(InvalidInput) as refused:
        importer.import_tasks(programme=programme, file=io.BytesIO(b"not a workbook"), acting_user=people.city_admin)
    assert refused.value.code == "not_xlsx"


def test_only_administrators_of_the_territory_import(programme, people, city):
    with pytest.raises(PermissionDeniedError):
        importer.import_tasks(programme=programme, file=workbook([]), acting_user=people.d1_supervisor)
    assert page_client(people.d1_supervisor).get(f"/ledgers/{programme.pk}/import/").status_code == 403
    assert page_client(people.d2_command).get(f"/ledgers/{programme.pk}/import/").status_code == 403
    assert page_client(people.nobody).get(f"/ledgers/{programme.pk}/import/").status_code == 404
    bad = SimpleUploadedFile("tasks.xlsx", workbook([["1", "任务", "", "", "", "不存在的局"]]).getvalue())
    page = page_client(people.city_admin, language="en").post(f"/ledgers/{programme.pk}/import/", {"file": bad})
    assert page.status_code == 200 and "不存在的局" in page.content.decode()
    with SAMPLE.open("rb") as handle:
        response = page_client(people.city_admin).post(f"/ledgers/{programme.pk}/import/",
                                                       {"file": SimpleUploadedFile("s.xlsx", handle.read())})
    assert response.status_code == 302 and Task.objects.count() == 11
