"""The progress report as files: the xlsx's sheets, the PDF's text (an embedded CJK font), the CSV; scoped."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from governance.core.testing import body_of, page_client
from governance.ledgers import selectors, services
from governance.ledgers.models import InnovationProject, Responsibility, Task

TODAY = date(2026, 3, 10)


@pytest.fixture
def filed(ledger, lp):
    services.filing_submit(responsibility=ledger.r11_d1, period="2026-01", status="in_progress", percent=40,
                           narrative="启动", acting_user=lp.d1_police, today=TODAY)
    services.filing_submit(responsibility=ledger.r11_d2, period="2026-02", status="in_progress", percent=70,
                           narrative="推进", acting_user=lp.d2_police, today=TODAY)
    services.filing_submit(responsibility=ledger.r21_city, period="once", status="completed", percent=100,
                           narrative="建成", acting_user=lp.lead, today=TODAY)
    return ledger


def export(user, ledger, fmt):
    response = page_client(user, language="en").post("/exports/new/ledger_progress/", {"programme": ledger.programme.pk,
                                                                        "format": fmt})
    assert response.status_code == 200, response.content[:300]
    return body_of(response)


def test_xlsx_has_a_sheet_per_view_with_the_dashboard_figures(filed, lp):
    book = load_workbook(io.BytesIO(export(lp.city_supervisor, filed, "xlsx")))
    assert book.sheetnames == ["Progress by task", "Units ranked", "Lagging requirements", "Progress report"]
    tasks = book["Progress by task"]
    rows = {r[0]: r for r in tasks.iter_rows(min_row=2, values_only=True)}
    report = selectors.programme_report(lp.city_supervisor, filed.programme)
    assert rows["1.1"][1] == "建立综治中心实体化运行机制"
    assert rows["1.1"][7] == round(report.figures[filed.t11.pk].progress, 1) == 55.0
    assert tasks.freeze_panes == "C2"
    assert tasks.column_dimensions["B"].width >= 2 * len("建立综治中心实体化运行机制")  # CJK counts two
    assert tasks["A1"].font.bold
    units = [r[1] for r in book["Units ranked"].iter_rows(min_row=2, values_only=True)]
    assert set(units) == {"西区公安分局", "东区公安分局", "市城管局"}
    matrix = list(book["Progress report"].iter_rows(values_only=True))
    header = matrix[0]
    d1 = next(r for r in matrix if r[0] == "1.1" and r[2] == "西区公安分局")
    assert d1[header.index("2026-01")] == 40
    assert len(matrix) == 1 + 5  # every responsibility


def test_a_district_supervisors_export_holds_only_their_territorys_units(filed, lp):
    book = load_workbook(io.BytesIO(export(lp.d1_supervisor, filed, "xlsx")))
    text = " ".join(str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "西区公安分局" in text and "东区公安分局" not in text
    unit_columns = {r[2] for r in book["Progress report"].iter_rows(min_row=2, values_only=True)}
    assert unit_columns == {"西区公安分局"}
    assert {r[1] for r in book["Units ranked"].iter_rows(min_row=2, values_only=True)} == {"西区公安分局"}
    pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(export(lp.d1_supervisor, filed, "pdf"))).pages)
    assert "西区公安分局" in pdf and "东区公安分局" not in pdf
    rows = list(csv.reader(io.StringIO(export(lp.d1_supervisor, filed, "csv").decode("utf-8-sig"))))
    assert {r[2] for r in rows[1:]} == {"西区公安分局"}


def test_pdf_embeds_a_cjk_font_and_shows_titles_and_figures(filed, lp):
    raw = export(lp.city_supervisor, filed, "pdf")
    reader = PdfReader(io.BytesIO(raw))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "健全平安建设领导体制" in text and "完善矛盾纠纷多元化解" in text  # the key tasks
    report = selectors.programme_report(lp.city_supervisor, filed.programme)
    assert f"{report.figures[filed.t1.pk].progress:.1f}" in text.replace(" ", "")
    assert "市域社会治理现代化试点" in text  # the header: the programme
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font.get("/DescendantFonts")
            descriptor = (descendant[0].get_object() if descendant else font).get("/FontDescriptor")
            if descriptor is not None:
                descriptor = descriptor.get_object()
                fonts.add(bool(descriptor.get("/FontFile2") or descriptor.get("/FontFile3")))
    assert True in fonts  # a font file is embedded, not a name a viewer must have


def test_pdf_tables_break_across_pages_with_their_header(ledger, lp, city):
    for n in range(1, 90):
        task = Task.objects.add_child(Task.objects.get(pk=ledger.t2.pk), {
            "programme": ledger.programme, "code": f"2.{n + 1}", "title": f"第{n}项具体要求", "cycle": "monthly"})
        Responsibility.objects.create(task=task, unit=city.unit_d2_police)
    reader = PdfReader(io.BytesIO(export(lp.city_supervisor, ledger, "pdf")))
    assert len(reader.pages) >= 3
    headed = [p for p in reader.pages if "Requirement" in p.extract_text() and "Why" in p.extract_text()]
    assert len(headed) >= 2  # the lagging table's header repeats on the pages it runs over


def test_project_library_exports_what_the_page_shows(ledger, lp, city):
    services.project_create(title="网格员积分制管理", level="district", region=city.d1, acting_user=lp.d1_supervisor)
    services.project_create(title="东区诉调对接", level="district", region=city.d2, acting_user=lp.d2_supervisor)
    response = page_client(lp.d1_supervisor).post("/exports/new/ledger_projects/", {"format": "xlsx"})
    book = load_workbook(io.BytesIO(body_of(response)))
    titles = [r[0] for r in book.active.iter_rows(min_row=2, values_only=True)]
    assert titles == ["网格员积分制管理"]
    assert InnovationProject.objects.count() == 2


def test_an_unseen_programme_is_refused(filed, lp):
    response = page_client(lp.nobody).post("/exports/new/ledger_progress/", {"programme": filed.programme.pk,
                                                                             "format": "xlsx"})
    assert response.status_code in (400, 403)


def test_a_large_report_runs_as_a_background_job(filed, lp, monkeypatch):
    from governance.exports import services as export_services
    from governance.exports.kinds import get_kind
    from governance.exports.models import ExportJob

    monkeypatch.setattr(get_kind("ledger_progress"), "sync_limit", 0)
    monkeypatch.setattr(export_services, "enqueue", lambda task, *args: True)  # the worker has not started yet
    response = page_client(lp.d2_supervisor, language="en").post(
        "/exports/new/ledger_progress/", {"programme": filed.programme.pk, "format": "xlsx"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    export_services.export_run(job_id=job.pk)  # what the Celery task runs
    job.refresh_from_db()
    assert job.status == "done" and job.total == 2 + 5  # the district's two responsibilities, the five tasks
    download = page_client(lp.d2_supervisor).get(f"/exports/{job.pk}/download/")
    book = load_workbook(io.BytesIO(body_of(download)))
    assert {r[2] for r in book["Progress report"].iter_rows(min_row=2, values_only=True)} == {"东区公安分局"}
    assert page_client(lp.d1_supervisor).get(f"/exports/{job.pk}/download/").status_code == 404
