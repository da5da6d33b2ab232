"""The pilot-task ledgers in a real browser: a unit handler files progress with an evidence file, a supervisor
sees it on the dashboard, issues a supervision notice and downloads the report as xlsx and PDF (whose pages are
rendered to pictures with pdftoppm, to look at: Chinese text, tables whole)."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from governance.ledgers.models import Filing, SupervisionNotice
from tests.browser.conftest import ARTIFACTS, foreign_requests, log_in, open_page
from tests.ledgers.conftest import ledger, lp  # noqa: F401  (fixtures)
from tests.ledgers.test_services import PDF

pytestmark = pytest.mark.browser


def test_unit_files_supervisor_sees_notices_and_downloads(page, browser, live_server, ledger, lp,  # noqa: F811
                                                          save_screenshot, tmp_path):
    log_in(page, live_server, "d1_police_handler", "pw-d1_police_handler")
    page.goto(f"{live_server.url}/ledgers/{ledger.programme.pk}/filing/")
    page.click(f"a[href='/ledgers/responsibilities/{ledger.r11_d1.pk}/']")
    page.select_option("select[name=period]", "2026-03")
    page.select_option("select[name=status]", "in_progress")
    page.fill("input[name=percent]", "60")
    page.fill("textarea[name=narrative]", "综治中心场地改造完成，人员进驻到位")
    evidence = tmp_path / "场地改造验收报告.pdf"
    evidence.write_bytes(PDF)
    page.set_input_files("input[name=evidence]", str(evidence))
    with page.expect_navigation():
        page.click("#filing-form button[type=submit]")
    assert "场地改造验收报告.pdf" in page.inner_text("#filings")
    save_screenshot("filed")
    filing = Filing.objects.get()
    assert (filing.period, filing.percent, filing.evidence.count()) == ("2026-03", 60, 1)

    supervisor = open_page(browser, viewport={"width": 1400, "height": 900}, accept_downloads=True)
    try:
        log_in(supervisor, live_server, "d1_supervisor", "pw-d1_supervisor")
        supervisor.goto(f"{live_server.url}/ledgers/{ledger.programme.pk}/")
        assert "西区公安分局" in supervisor.inner_text("#recent-filings")
        assert "东区公安分局" not in supervisor.inner_text("body")  # another district's unit
        assert "建立综治中心实体化运行机制" in supervisor.inner_text("#task-tree")
        supervisor.screenshot(path=str(ARTIFACTS / "ledgers-dashboard.png"), full_page=True)

        supervisor.click(f"#recent-filings a[href='/ledgers/responsibilities/{ledger.r11_d1.pk}/']")
        with supervisor.expect_download() as evidence_download:
            supervisor.click("#filings a:has-text('场地改造验收报告.pdf')")
        assert evidence_download.value.path().read_bytes() == PDF
        supervisor.fill("#notice-form textarea[name=content]", "请于期限内报告整改进展")
        supervisor.fill("#notice-form input[name=due_on]",
                        (timezone.localdate() + timedelta(days=7)).isoformat())
        with supervisor.expect_navigation():
            supervisor.click("#notice-form button[type=submit]")
        notice = SupervisionNotice.objects.get()
        assert notice.number in supervisor.inner_text("h1") and notice.unit == ledger.r11_d1.unit
        supervisor.screenshot(path=str(ARTIFACTS / "ledgers-notice.png"), full_page=True)

        supervisor.goto(f"{live_server.url}/ledgers/{ledger.programme.pk}/")
        supervisor.click("details.export-controls summary")
        with supervisor.expect_download() as xlsx_download:
            supervisor.click("details.export-controls button[value=xlsx]")
        book = load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()))
        assert len(book.sheetnames) == 4
        cells = {str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c}
        assert "建立综治中心实体化运行机制" in cells and "西区公安分局" in cells and "东区公安分局" not in cells
        if not supervisor.locator("details.export-controls").evaluate("d => d.open"):
            supervisor.click("details.export-controls summary")
        with supervisor.expect_download() as pdf_download:
            supervisor.click("details.export-controls button[value=pdf]")
        raw = pdf_download.value.path().read_bytes()
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(raw)).pages)
        assert "健全平安建设领导体制" in text and "西区公安分局" in text
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "ledgers-report.pdf").write_bytes(raw)
        if shutil.which("pdftoppm"):  # pages as pictures, to look at (test-artifacts/ledgers-report-1.png)
            subprocess.run(["pdftoppm", "-r", "70", "-png", str(ARTIFACTS / "ledgers-report.pdf"),
                            str(ARTIFACTS / "ledgers-report")], check=True, timeout=60)
            assert list(ARTIFACTS.glob("ledgers-report-*.png"))
        assert foreign_requests(supervisor, live_server) == []
    finally:
        supervisor.context.close()
