"""The export job kernel: asked, written, counted, claimed once, refused with reasons, expired, owned."""

from __future__ import annotations

import csv
import io
import os
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone, translation

from governance.access.models import Role, RoleAssignment
from governance.access.services import role_assign, role_revoke
from governance.core.authority import SYSTEM
from governance.exports import progress as progress_module
from governance.exports import services
from governance.exports.kinds import ExportKind, get_kind
from governance.exports.models import ExportJob, ExportStatus
from governance.exports.progress import Progress
from tests.dashboards.conftest import in_region
from tests.dashboards.helpers import body_of, client_for
from tests.exports.conftest import stored_files

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body_of(response).decode("utf-8-sig"))))


def numbers_of(data: bytes) -> set[str]:
    return {row[0] for row in list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]}


def ask(user, kind="incidents", *, language=None, **fields):
    data = {"format": "csv", "columns": ["number"], **fields}
    return client_for(user, language=language).post(f"/exports/new/{kind}/", data)


def queued_job(user, monkeypatch, kind="incidents", *, language=None, **fields) -> ExportJob:
    """A job asked for and left for a worker (nothing runs it until the test does)."""
    monkeypatch.setattr(get_kind(kind), "sync_limit", 0)
    response = ask(user, kind, language=language, **fields)
    assert response.status_code == 302, response
    return ExportJob.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))


# --- Asking ---------------------------------------------------------------------------------------

def test_a_small_export_is_written_at_once_and_kept_as_its_owners_job(world, people):
    response = ask(people.d1_command, status="reported", page="3", next="/incidents/?status=reported&page=3")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    assert {row[0] for row in csv_rows(response)[1:]} == {world.reported.number, world.overdue.number}
    job = ExportJob.objects.get()
    assert (job.owner, job.kind, job.fmt, job.status) == (people.d1_command, "incidents", "csv", ExportStatus.DONE)
    assert job.params == {"status": ["reported"]}, "the filters are kept, the page number is not: every page"
    assert job.options == {"columns": ["number"]}
    assert (job.total, job.done, job.attempts) == (2, 2, 1)
    assert job.return_to == "/incidents/?status=reported&page=3"
    assert job.expires_at == job.finished_at + timedelta(hours=24)
    assert job.file.name.startswith("exports/") and default_storage.exists(job.file.name)
    assert unquote(response["Content-Disposition"]).endswith(job.file_name)
    assert job.file_name.startswith("事件-") and job.file_name.endswith(".csv")


def test_the_page_to_go_back_to_is_a_path_of_the_portal_only(world, people):
    ask(people.d1_command, next="https://elsewhere.example/phish")
    assert ExportJob.objects.get().return_to == ""


def test_a_large_export_waits_for_a_worker_and_shows_its_progress(world, people, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    from governance.exports.tasks import run_export

    queued = []
    monkeypatch.setattr(run_export, "apply_async", lambda args, kwargs: queued.append(args))
    monkeypatch.setattr(get_kind("incidents"), "sync_limit", 2)
    client = client_for(people.d1_command)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/exports/new/incidents/", {"format": "xlsx"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert queued == [(job.pk,)]
    status = client.get(f"/api/v1/exports/{job.pk}/").json()
    assert (status["status"], status["progress"], status["download_url"], status["expires_at"]) == (
        "queued", 0, "", None)
    assert status["total"] == len(world.d1)  # counted when asked, to choose between now and later
    page = client.get(f"/exports/{job.pk}/")
    assert page.status_code == 200 and 'data-status="queued"' in page.content.decode()
    run_export.apply(args=[job.pk]).get()
    status = client.get(f"/api/v1/exports/{job.pk}/").json()
    assert (status["status"], status["progress"], status["done"], status["total"]) == (
        "done", 100, len(world.d1), len(world.d1))
    assert status["download_url"] == f"/exports/{job.pk}/download/" and status["expires_at"]
    assert status["file_name"].endswith(".xlsx") and status["size"] > 0
    assert f'href="/exports/{job.pk}/download/"' in client.get(f"/exports/{job.pk}/").content.decode()


# --- Refusals ---------------------------------------------------------------------------------------

def test_an_unknown_kind_is_not_found(world, people):
    assert ask(people.d1_command, kind="secrets").status_code == 404
    assert not ExportJob.objects.exists()


def test_a_format_the_kind_does_not_write_is_refused_saying_so(world, people):
    response = client_for(people.d1_command, language="en").post("/exports/new/incidents/", {"format": "pdf"})
    assert response.status_code == 400
    assert "Unknown export format." in response.content.decode()
    assert not ExportJob.objects.exists()


def test_filters_that_cannot_be_read_are_refused_naming_them(world, people):
    response = client_for(people.d1_command, language="en").post("/exports/new/incidents/", {
        "format": "csv", "status": "nonsense", "region": str(people.d2_command.pk + 10_000)})
    assert response.status_code == 400
    text = response.content.decode()
    assert "The filters are not valid" in text and "status" in text and "region" in text
    assert not ExportJob.objects.exists()


def test_a_region_outside_the_users_territory_is_no_filter_they_can_export_by(world, people, city):
    response = ask(people.d1_command, region=str(city.d2.pk))
    assert response.status_code == 400
    assert not ExportJob.objects.exists()


def test_the_triage_queue_is_exported_only_by_those_who_triage(world, people):
    assert ask(people.worker_g1111, kind="triage_queue").status_code == 403
    assert ask(people.d1_supervisor, kind="triage_queue").status_code == 403
    assert not ExportJob.objects.exists()
    assert ask(people.worker_g1111, kind="incidents").status_code == 200  # what their list shows them


def test_an_anonymous_visitor_is_sent_to_log_in(world):
    response = ask(None)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not ExportJob.objects.exists()


def test_asking_is_a_post(world, people):
    assert client_for(people.d1_command).get("/exports/new/incidents/").status_code == 405


# --- Running ----------------------------------------------------------------------------------------

def test_a_job_runs_as_its_owners_scope_when_it_runs_not_when_asked(world, people, city, monkeypatch):
    job = queued_job(people.d1_command, monkeypatch)
    # Before a worker takes it, the owner moves from the district's command centre to a street's.
    role_revoke(assignment=RoleAssignment.objects.get(user=people.d1_command), acting_user=SYSTEM)
    role_assign(user=people.d1_command, role=Role.COMMAND_STAFF, region=city.s11, acting_user=SYSTEM)
    services.export_run(job_id=job.pk)
    job.refresh_from_db()
    street = set(in_region(city.s11).values_list("number", flat=True))
    assert 0 < len(street) < len(world.d1)
    assert numbers_of(job.file.read()) == street
    assert job.total == len(street)


def test_a_job_whose_owner_lost_the_right_fails_saying_why(world, people, monkeypatch):
    job = queued_job(people.d1_command, monkeypatch, kind="triage_queue", language="en")
    role_revoke(assignment=RoleAssignment.objects.get(user=people.d1_command), acting_user=SYSTEM)
    services.export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and not job.file
    assert job.error == "You may not export this list."
    assert stored_files(default_storage) == []


def test_a_finished_job_is_left_as_it_is_when_its_message_comes_again(world, people, monkeypatch):
    job = queued_job(people.d1_command, monkeypatch)
    services.export_run(job_id=job.pk)
    job.refresh_from_db()
    assert services.export_run(job_id=job.pk) is None
    again = ExportJob.objects.get(pk=job.pk)
    assert (again.file.name, again.attempts, again.finished_at) == (job.file.name, 1, job.finished_at)
    assert stored_files(default_storage) == [job.file.name]


class Counting(ExportKind):
    """Three numbered rows of CSV; ``during`` runs while the file is being written (another worker, a fault)."""

    name = "test_counting"
    label = "Counting"
    formats = ("csv",)
    sync_limit = 0
    during = staticmethod(lambda run, row: None)

    def clean(self, user, data):
        return {}, {}

    def write(self, run):
        run.progress.start(3)
        for row in run.progress.track(range(3)):
            type(self).during(run, row)
            run.out.write(f"{row}\n".encode())


def test_a_run_taken_over_by_another_stops_and_keeps_nothing(world, people, register_kind, monkeypatch):
    monkeypatch.setattr(progress_module, "REPORT_EVERY_SECONDS", 0)  # every row is reported
    kind = register_kind(Counting)
    taken_over = []

    def another_worker_takes_over(run, row):
        if row == 0 and not taken_over:  # the message came again (a worker lost), while this run still writes
            taken_over.append(None)
            taken_over[0] = services.export_run(job_id=run.job_id)

    monkeypatch.setattr(type(kind), "during", staticmethod(another_worker_takes_over))
    job = queued_job(people.d1_command, monkeypatch, kind="test_counting")
    assert services.export_run(job_id=job.pk) is None, "the first run stopped at its next report"
    job.refresh_from_db()
    assert taken_over[0].status == ExportStatus.DONE
    assert (job.status, job.attempts, job.file.name) == (ExportStatus.DONE, 2, taken_over[0].file.name)
    assert stored_files(default_storage) == [job.file.name], "one file: the run that finished it"


def test_a_run_that_finishes_second_deletes_its_file(world, people, register_kind, monkeypatch):
    kind = register_kind(Counting)
    others = []

    def finished_meanwhile(run, row):
        if row == 2 and not others:  # the other run claims and finishes while this one writes its last row
            others.append(None)
            others[0] = services.export_run(job_id=run.job_id)

    monkeypatch.setattr(type(kind), "during", staticmethod(finished_meanwhile))
    job = queued_job(people.d1_command, monkeypatch, kind="test_counting")
    assert services.export_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.file.name == others[0].file.name
    assert stored_files(default_storage) == [job.file.name]
    assert job.file.read() == b"0\n1\n2\n"


def test_a_server_error_fails_the_job_without_telling_its_internals(world, people, register_kind, monkeypatch,
                                                                     caplog):
    kind = register_kind(Counting)

    def broken(run, row):
        raise RuntimeError("relation secret_table does not exist")

    monkeypatch.setattr(type(kind), "during", staticmethod(broken))
    job = queued_job(people.d1_command, monkeypatch, kind="test_counting", language="en")
    services.export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert f"error on the server (job {job.pk})" in job.error and "secret_table" not in job.error
    assert "secret_table" in caplog.text, "the traceback is in the log, for the operators"
    assert stored_files(default_storage) == []


def test_headers_are_in_the_language_the_owner_asked_in(world, people, monkeypatch):
    monkeypatch.setattr(get_kind("incidents"), "sync_limit", 0)
    response = client_for(people.d1_command, language="en").post("/exports/new/incidents/", {
        "format": "csv", "columns": ["number", "status"]})
    job = ExportJob.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))
    with translation.override("zh-hans"):  # a worker's language is not the owner's
        services.export_run(job_id=job.pk)
    job.refresh_from_db()
    header, *rows = list(csv.reader(io.StringIO(job.file.read().decode("utf-8-sig"))))
    assert header == ["Number", "Status"]
    assert "Reported" in {row[1] for row in rows}
    assert job.file_name.startswith("Incidents-")


def test_progress_is_written_at_most_once_a_second_and_only_by_the_run_holding_the_job(world, people):
    job = ExportJob.objects.create(owner=people.d1_command, kind="incidents", fmt="csv", file_name="x.csv",
                                   status=ExportStatus.RUNNING, attempts=1)
    now = [100.0]
    progress = Progress(job.pk, 1, clock=lambda: now[0])
    progress.start(5)
    assert list(progress.track(["a", "b", "c"])) == ["a", "b", "c"]
    job.refresh_from_db()
    assert (job.total, job.done) == (5, 0), "less than a second: not written yet"
    now[0] += 1.5
    progress.advance()
    job.refresh_from_db()
    assert (job.done, job.progress) == (4, 80)
    ExportJob.objects.filter(pk=job.pk).update(attempts=2)  # another run took it
    now[0] += 1.5
    with pytest.raises(progress_module.Superseded):
        progress.advance()


# --- Expiry -------------------------------------------------------------------------------------------

def test_an_expired_file_is_deleted_and_its_job_says_so(world, people):
    client = client_for(people.d1_command, language="en")
    client.post("/exports/new/incidents/", {"format": "csv"})
    job = ExportJob.objects.get()
    name = job.file.name
    assert services.exports_expire(now=job.expires_at - timedelta(minutes=1)).expired == 0
    assert default_storage.exists(name)
    result = services.exports_expire(now=job.expires_at + timedelta(seconds=1))
    job.refresh_from_db()
    assert (result.expired, job.status, job.file.name) == (1, ExportStatus.EXPIRED, "")
    assert not default_storage.exists(name)
    assert services.exports_expire(now=job.expires_at + timedelta(hours=1)).expired == 0  # twice: nothing more
    download = client.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 302 and download["Location"] == f"/exports/{job.pk}/"
    assert "The file was deleted when its time was up" in client.get(f"/exports/{job.pk}/").content.decode()
    assert client.get(f"/api/v1/exports/{job.pk}/").json()["download_url"] == ""


def test_jobs_that_stopped_moving_are_failed_and_their_late_messages_do_nothing(world, people):
    now = timezone.now()
    owner = people.d1_command
    never_taken = ExportJob.objects.create(owner=owner, kind="incidents", fmt="csv", file_name="a.csv",
                                           created_at=now - timedelta(hours=2), language="en")
    dead_worker = ExportJob.objects.create(owner=owner, kind="incidents", fmt="csv", file_name="b.csv",
                                           status=ExportStatus.RUNNING, attempts=1,
                                           created_at=now - timedelta(hours=3), updated_at=now - timedelta(hours=2))
    working = ExportJob.objects.create(owner=owner, kind="incidents", fmt="csv", file_name="c.csv",
                                       status=ExportStatus.RUNNING, attempts=1, created_at=now - timedelta(hours=3),
                                       updated_at=now - timedelta(minutes=5))
    just_asked = ExportJob.objects.create(owner=owner, kind="incidents", fmt="csv", file_name="d.csv",
                                          created_at=now - timedelta(minutes=5))
    assert services.exports_expire(now=now).failed == 2
    statuses = dict(ExportJob.objects.values_list("pk", "status"))
    assert statuses == {never_taken.pk: "failed", dead_worker.pk: "failed", working.pk: "running",
                        just_asked.pk: "queued"}
    never_taken.refresh_from_db()
    assert never_taken.error.startswith("The export did not finish")
    dead_worker.refresh_from_db()
    assert dead_worker.error.startswith("导出未能完成")
    assert services.export_run(job_id=never_taken.pk) is None
    assert ExportJob.objects.get(pk=never_taken.pk).status == ExportStatus.FAILED


def test_files_no_job_refers_to_are_deleted_once_an_hour_old(world, people):
    ask(people.d1_command)
    kept = ExportJob.objects.get().file.name
    folder = kept.rsplit("/", 1)[0]
    old_orphan = default_storage.save(f"{folder}/orphan-old.csv", ContentFile(b"1"))
    new_orphan = default_storage.save(f"{folder}/orphan-new.csv", ContentFile(b"2"))
    an_hour_ago = (timezone.now() - timedelta(hours=2)).timestamp()
    os.utime(default_storage.path(old_orphan), (an_hour_ago, an_hour_ago))
    result = services.exports_expire()
    assert result.orphans == [old_orphan]
    assert stored_files(default_storage) == sorted([kept, new_orphan])


# --- Owned --------------------------------------------------------------------------------------------

def test_my_exports_lists_my_jobs_and_nobody_elses(world, people):
    ask(people.d1_command, columns=["number", "title"])
    ask(people.d2_command)
    mine = client_for(people.d1_command).get("/exports/")
    assert mine.status_code == 200
    text = mine.content.decode()
    own, other = ExportJob.objects.get(owner=people.d1_command), ExportJob.objects.get(owner=people.d2_command)
    assert f'data-job="{own.pk}"' in text and f'data-job="{other.pk}"' not in text
    assert f"/exports/{own.pk}/download/" in text
    assert f'data-job="{own.pk}"' not in client_for(people.city_admin).get("/exports/").content.decode(), (
        "a superuser does not see another person's exports either")


def test_a_superuser_cannot_open_another_persons_export(world, people):
    ask(people.d1_command)
    job = ExportJob.objects.get()
    admin = client_for(people.city_admin)
    assert admin.get(f"/exports/{job.pk}/").status_code == 404
    assert admin.get(f"/exports/{job.pk}/download/").status_code == 404
