"""Exports of the map's list: filters and scope respected, personal data masked, large ones in the background."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from governance.exports.kinds import get_kind
from governance.exports.models import ExportJob, ExportStatus
from governance.exports.tasks import run_export
from tests.dashboards.helpers import body_of, client_for

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[list[str]]:
    text = body_of(response).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_respects_scope_and_filters(world, people):
    client = client_for(people.d1_command)
    response = client.post("/dashboards/map/export/", {"format": "csv", "columns": ["number", "status"],
                                                       "open": "true"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = rows_of(response)
    assert len(rows[0]) == 2
    assert {r[0] for r in rows[1:]} == {world.reported.number, world.overdue.number, world.dispatched.number}
    everything = rows_of(client.post("/dashboards/map/export/", {"format": "csv", "columns": ["number"]}))
    assert {r[0] for r in everything[1:]} == {i.number for i in world.d1}  # nothing of the east district


def test_xlsx_export_has_the_chosen_columns(world, people):
    response = client_for(people.d1_command).post("/dashboards/map/export/", {
        "format": "xlsx", "columns": ["number", "title", "overdue"], "overdue": "true"})
    sheet = load_workbook(io.BytesIO(body_of(response))).active
    values = list(sheet.values)
    assert len(values[0]) == 3
    assert values[1][0] == world.overdue.number
    assert len(values) == 2


def test_reporter_phone_is_unmasked_only_for_those_who_may_triage(world, people):
    wanted = {"format": "csv", "columns": ["number", "reporter_phone"], "status": "reported"}
    staff = {r[0]: r[1] for r in rows_of(client_for(people.d1_command).post("/dashboards/map/export/", wanted))[1:]}
    assert staff[world.reported.number] == "13812345678"
    supervisor = {r[0]: r[1] for r in rows_of(
        client_for(people.d1_supervisor).post("/dashboards/map/export/", wanted))[1:]}
    assert supervisor[world.reported.number] == "138****5678"


def test_default_columns_hold_no_personal_data(world, people):
    rows = rows_of(client_for(people.d1_command).post("/dashboards/map/export/", {"format": "csv"}))
    assert len(rows[0]) == len(get_kind("incidents").default_columns)
    assert "13812345678" not in str(rows)


def test_large_export_runs_in_the_background_and_only_its_owner_downloads_it(
        world, people, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(get_kind("incidents"), "sync_limit", 1)
    queued = []
    monkeypatch.setattr(run_export, "apply_async", lambda args, kwargs: queued.append(args))
    client = client_for(people.d1_command)
    with django_capture_on_commit_callbacks(execute=True):
        with_commit = client.post("/dashboards/map/export/", {"format": "xlsx", "columns": ["number"]})
    assert with_commit.status_code == 302
    job = ExportJob.objects.get()
    assert with_commit["Location"] == f"/exports/{job.pk}/"
    assert queued == [(job.pk,)]  # handed to a worker once the job's row committed
    run_export.apply(args=[job.pk]).get()
    job.refresh_from_db()
    assert (job.status, job.total, job.done, job.progress) == (ExportStatus.DONE, len(world.d1), len(world.d1), 100)
    status = client.get(f"/api/v1/exports/{job.pk}/").json()
    assert status["status"] == "done" and status["download_url"]
    download = client.get(status["download_url"])
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(body_of(download))).active
    assert {row[0] for row in list(sheet.values)[1:]} == {i.number for i in world.d1}
    # anyone else: not found
    other = client_for(people.d2_command)
    assert other.get(status["download_url"]).status_code == 404
    assert other.get(f"/api/v1/exports/{job.pk}/").status_code == 404
    assert other.get(f"/exports/{job.pk}/").status_code == 404
    assert client.get(f"/exports/{job.pk}/").status_code == 200


def test_grid_worker_may_not_export_from_the_map(world, people):
    assert client_for(people.worker_g1111).post("/dashboards/map/export/", {"format": "csv"}).status_code == 403


def test_unknown_format_is_refused(world, people):
    assert client_for(people.d1_command).post("/dashboards/map/export/", {"format": "pdf"}).status_code == 400
