"""The dispute list exports (xlsx, CSV, PDF) what it shows, masked by role; the court's result sheet is a PDF
with its CJK font embedded."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from governance.access.models import PersonalDataReveal
from governance.core.testing import body_of, page_client
from mediation import services
from mediation.models import Source

pytestmark = pytest.mark.django_db


def export(client, kind: str, fmt: str, **data):
    response = client.post(f"/exports/new/{kind}/", {"format": fmt, **data})
    assert response.status_code == 200, response.content[:500]
    return body_of(response)


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_list_exports_what_the_page_shows_with_its_filters(s11_case, s12_case, people):
    client = page_client(people.d1_command, language="en")
    rows = csv_rows(export(client, "mediation_cases", "csv", risk="red"))
    assert [r["Number"] for r in rows] == [s12_case.number]
    rows = csv_rows(export(client, "mediation_cases", "csv"))
    assert {r["Number"] for r in rows} == {s11_case.number, s12_case.number}
    assert {r["Number"] for r in csv_rows(export(page_client(people.s11_mediator, language="en"), "mediation_cases",
                                                         "csv"))} == {
        s11_case.number}


def test_personal_columns_are_masked_unless_the_policy_allows_and_then_recorded(s11_case, people):
    services.case_accept(case=s11_case, actor=people.s11_mediator)
    columns = {"columns": ["number", "applicants", "applicant_ids", "applicant_phones"]}
    masked = csv_rows(export(page_client(people.d1_command, language="en"), "mediation_cases", "csv", **columns))[0]
    assert masked["Applicants' phones"] == "138****5678" and masked["Applicants' ID numbers"] == "440507********1234"
    assert not PersonalDataReveal.objects.filter(user=people.d1_command).exists()
    whole = csv_rows(export(page_client(people.s11_mediator, language="en"), "mediation_cases", "csv", **columns))[0]
    assert whole["Applicants' phones"] == "13812345678" and whole["Applicants"] == "张三"
    reveal = PersonalDataReveal.objects.get(user=people.s11_mediator, channel="export")
    assert reveal.subjects == [s11_case.pk] and reveal.subject_type == "mediation_case"


def test_the_list_as_xlsx_and_pdf(s11_case, people):
    from openpyxl import load_workbook

    client = page_client(people.d1_command)
    sheet = load_workbook(io.BytesIO(export(client, "mediation_cases", "xlsx"))).active
    assert [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))][0] == s11_case.number
    content = export(client, "mediation_cases", "pdf")
    assert content.startswith(b"%PDF-") and b"/FontFile2" in content  # a TrueType font, embedded


def test_the_court_result_sheet_is_a_pdf_with_an_embedded_cjk_font(register_case, people, s11_case):
    case = register_case(source=Source.COURT, court_name="金平区人民法院", court_case_number="(2026)粤0511民诉前调8号",
                         court_referral_date=timezone.localdate() - timedelta(days=3))
    services.case_accept(case=case, actor=people.s11_mediator)
    services.case_fail(case=case, actor=people.s11_mediator, note="调解不成")
    content = export(page_client(people.s11_mediator), "mediation_court_sheet", "pdf", case=case.pk)
    assert content.startswith(b"%PDF-") and b"/FontFile2" in content and b"STSong" not in content
    # the page offers it for a court referral
    assert "mediation_court_sheet" in page_client(people.s11_mediator).get(f"/mediation/{case.pk}/").content.decode()
    # no sheet for a case no court referred, nor for a case out of sight
    refused = page_client(people.s11_mediator).post("/exports/new/mediation_court_sheet/",
                                                    {"format": "pdf", "case": s11_case.pk})
    assert refused.status_code == 400
    hidden = page_client(people.s12_command).post("/exports/new/mediation_court_sheet/",
                                                  {"format": "pdf", "case": case.pk})
    assert hidden.status_code == 400


def test_the_cjk_font_falls_back_to_stsong_when_none_is_installed(settings, monkeypatch):
    from governance.core import pdf

    pdf.cjk_font.cache_clear()
    monkeypatch.setattr(pdf, "CANDIDATES", ())
    settings.PDF_CJK_FONT = "/nonexistent.ttf"
    try:
        assert pdf.cjk_font() == "STSong-Light"
    finally:
        pdf.cjk_font.cache_clear()


def many_cases(like, n: int) -> list[str]:
    """``n`` cases beside ``like`` (same committee, territory, type), bulk-created: numbers TJ2026-9xxxxx."""
    from mediation.models import Case

    at = timezone.now()
    cases = [Case(number=f"TJ2026-9{i:05d}", title=f"楼道堆物纠纷 第{i}号", dispute_type_id=like.dispute_type_id,
                  region_id=like.region_id, district_id=like.district_id, organisation_id=like.organisation_id,
                  registered_at=at - timedelta(minutes=i), risk_changed_at=at, clock_started_at=at, deadline_days=30,
                  due_at=at + timedelta(days=30), warn_at=at + timedelta(days=24), last_activity_at=at)
             for i in range(n)]
    Case.objects.bulk_create(cases)
    return [c.number for c in cases]


def pdf_text(content: bytes, tmp_path) -> tuple[str, int]:
    """The text of a PDF (poppler's pdftotext) and its number of pages."""
    import subprocess

    path = tmp_path / "list.pdf"
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout.decode()
    return text, text.count("\f")


def test_the_pdf_of_a_list_over_many_pages_holds_every_case_once(s11_case, people, tmp_path):
    from mediation import pdf

    numbers = [s11_case.number, *many_cases(s11_case, 2 * pdf.ROWS_PER_TABLE + 30)]
    content = export(page_client(people.d1_command, language="en"), "mediation_cases", "pdf")

    text, pages = pdf_text(content, tmp_path)
    assert pages > 3, "a list of several pages"
    assert [n for n in numbers if text.count(n) != 1] == []
    assert text.count("Number") == pages, "the header atop every page"
    assert "This PDF lists the first" not in text


def test_a_pdf_cut_at_the_row_limit_says_so(s11_case, people, tmp_path, monkeypatch):
    from mediation.exports import CaseListExport

    monkeypatch.setattr(CaseListExport, "pdf_row_limit", 40)
    numbers = many_cases(s11_case, 60)  # newest first: the list's first 40 are the first 40 made
    content = export(page_client(people.d1_command, language="en"), "mediation_cases", "pdf", q="TJ2026-9")

    text, _pages = pdf_text(content, tmp_path)
    assert all(n in text for n in numbers[:40]) and not any(n in text for n in numbers[40:])
    assert "This PDF lists the first 40 of 60 rows" in " ".join(text.split())
    # the xlsx of the same list is whole: its header and the 60 cases
    from openpyxl import load_workbook

    xlsx = export(page_client(people.d1_command, language="en"), "mediation_cases", "xlsx", q="TJ2026-9")
    assert load_workbook(io.BytesIO(xlsx)).active.max_row == 61
