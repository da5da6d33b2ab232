"""Exports where people look for them, in a real browser: the triage queue's "Export this list" downloads what
the queue shows, with real date cells; a large export's progress page and "My exports"."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from governance.exports.kinds import get_kind
from governance.exports.models import ExportJob
from incidents import services
from tests.browser.conftest import foreign_requests, log_in
from tests.factories import point
from tests.incidents.conftest import categories, road  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def queue(city, people, road):  # noqa: F811
    filed = []
    for n, at in enumerate([(1, 2), (1.5, 1), (0.5, 3)]):
        lat, lng = point(*at)
        filed.append(services.incident_file(reporter=people.worker_g1111, category=road, title=f"路面塌陷{n}",
                                            lat=lat, lng=lng).incident)
    services.incident_accept(incident=filed[0], actor=people.d1_command)
    return filed


def test_command_staff_export_the_triage_queue_they_are_looking_at(page, live_server, people, queue,
                                                                   save_screenshot):
    log_in(page, live_server, "d1_command", "pw-d1_command")
    page.goto(f"{live_server.url}/incidents/queue/?status=reported")
    page.click("details.export-controls summary")
    save_screenshot("controls")
    with page.expect_download() as download_info:
        page.click("details.export-controls button[value=xlsx]")
    download = download_info.value
    assert download.suggested_filename.startswith("受理分拨台-") and download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(download.path().read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("编号", "标题", "事件类别")
    assert {row[0] for row in rows[1:]} == {queue[1].number, queue[2].number}, "the reported ones, as filtered"
    reported_at = rows[1][header.index("上报时间")]
    assert isinstance(reported_at, datetime), "a date cell, not text"
    assert rows[1][header.index("处置时限")] is None, "not accepted: no handling deadline yet"
    assert foreign_requests(page, live_server) == []


def test_a_large_export_has_its_progress_page_and_is_listed_under_my_exports(page, live_server, people, queue,
                                                                            monkeypatch, save_screenshot):
    from governance.exports import services as export_services

    monkeypatch.setattr(get_kind("incidents"), "sync_limit", 0)
    monkeypatch.setattr(export_services, "enqueue", lambda task, *args: True)  # a worker that has not started yet
    log_in(page, live_server, "d1_command", "pw-d1_command")
    page.goto(f"{live_server.url}/incidents/")
    page.click("details.export-controls summary")
    with page.expect_navigation():
        page.click("details.export-controls button[value=csv]")
    job = ExportJob.objects.get()
    assert page.url == f"{live_server.url}/exports/{job.pk}/"
    assert "排队中" in page.inner_text("#export-text")
    save_screenshot("queued")
    export_services.export_run(job_id=job.pk)  # the worker writes it; the page notices and shows the file
    page.wait_for_selector("#export-download:not([hidden])", timeout=15_000)
    assert job.file_name in page.inner_text("#export-download")
    save_screenshot("done")
    page.goto(f"{live_server.url}/exports/")
    assert page.locator(f"tr[data-job='{job.pk}'] a", has_text="下载").count() == 1
    save_screenshot("my-exports")
