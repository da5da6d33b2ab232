"""The scanned agreement lives as long as the row that refers to it: a rollback deletes the file it wrote,
a replacement deletes the old file once committed, and a commit that fails keeps the file the row still names.

The tests that commit run on real transactions (``transaction=True``): ``on_commit`` runs only then.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.utils import timezone

from governance.core import files
from mediation import services
from mediation.models import Agreement, Case, Obligation, Status

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def stored_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def to_mediation(case, actor) -> None:
    services.case_accept(case=case, actor=actor)
    services.case_record_session(case=case, actor=actor, held_at=timezone.now(), place="调解室", notes="首次调解")


def record_agreement(case, actor, content: bytes = PDF) -> Case:
    party = case.parties.get(role="respondent")
    return services.case_record_agreement(
        case=case, actor=actor, terms="李四赔偿张三 3000 元", signed_on=timezone.localdate(),
        obligations=[{"party": party.pk, "description": "支付 3000 元",
                      "due_on": timezone.localdate() + timedelta(days=10)}],
        file=SimpleUploadedFile("协议.pdf", content))


@pytest.mark.django_db
def test_a_failure_after_the_scan_was_stored_deletes_it_with_the_rollback(s11_case, people, settings, monkeypatch):
    to_mediation(s11_case, people.s11_mediator)
    stored_before_failure = []

    def fail_after_storing(*args, **kwargs):
        stored_before_failure.extend(stored_files(settings))
        raise RuntimeError("timeline write failed")

    monkeypatch.setattr(services, "_apply", fail_after_storing)
    with pytest.raises(RuntimeError, match="timeline write failed"):
        record_agreement(s11_case, people.s11_mediator)

    assert len(stored_before_failure) == 1 and stored_before_failure[0].startswith("mediation/")
    assert stored_files(settings) == []
    assert not Agreement.objects.exists()
    assert Case.objects.get(pk=s11_case.pk).status == Status.IN_MEDIATION


@pytest.mark.django_db
def test_an_enclosing_block_that_fails_after_the_agreement_deletes_its_scan(s11_case, people, settings):
    to_mediation(s11_case, people.s11_mediator)
    with pytest.raises(RuntimeError, match="later step failed"):
        with files.atomic_with_files():
            record_agreement(s11_case, people.s11_mediator)
            assert len(stored_files(settings)) == 1, "the agreement's own block succeeded: its file is there"
            raise RuntimeError("later step failed")
    assert stored_files(settings) == []
    assert not Agreement.objects.exists()


@pytest.mark.django_db
def test_storing_a_file_outside_a_block_that_can_delete_it_is_refused(s11_case, people, settings):
    agreement = Agreement(case=s11_case, terms="x", signed_on=timezone.localdate(), recorded_at=timezone.now())
    with pytest.raises(RuntimeError, match="atomic_with_files"):
        files.store(agreement.file, "agreement.pdf", PDF)
    assert stored_files(settings) == []


def replace_scan(case_pk: int, content: bytes, *, also=None) -> str:
    """Replace the stored scan of a case's agreement, as a service would; ``also`` runs before the commit."""
    with files.atomic_with_files():
        agreement = Agreement.objects.select_for_update().get(case_id=case_pk)
        agreement.file_extension, agreement.file_content_type = "png", "image/png"
        files.store(agreement.file, "agreement.png", content)
        agreement.save()
        if also is not None:
            also(agreement)
        return agreement.file.name


@pytest.mark.django_db(transaction=True)
def test_a_replaced_scan_is_deleted_only_once_the_replacement_committed(s11_case, people, settings):
    to_mediation(s11_case, people.s11_mediator)
    old = record_agreement(s11_case, people.s11_mediator).agreement.file.name
    seen_before_commit = []

    new = replace_scan(s11_case.pk, PNG, also=lambda agreement: seen_before_commit.extend(stored_files(settings)))

    assert old in seen_before_commit and new in seen_before_commit, "both files while the transaction is open"
    assert stored_files(settings) == [new]
    assert Agreement.objects.get(case=s11_case).file.name == new
    with Agreement.objects.get(case=s11_case).file.open("rb") as handle:
        assert handle.read() == PNG


@pytest.mark.django_db(transaction=True)
def test_a_commit_that_fails_keeps_the_old_scan_the_row_still_refers_to(s11_case, people, settings):
    to_mediation(s11_case, people.s11_mediator)
    old = record_agreement(s11_case, people.s11_mediator).agreement.file.name

    def dangling_obligation(agreement):
        # A foreign key is checked at commit (deferred, on SQLite and PostgreSQL alike): the commit itself fails.
        Obligation.objects.create(agreement_id=agreement.pk + 10**6, description="x", due_on=timezone.localdate())

    with pytest.raises(IntegrityError):
        replace_scan(s11_case.pk, PNG, also=dangling_obligation)

    assert Agreement.objects.get(case=s11_case).file.name == old
    assert old in stored_files(settings), "the file the row refers to is still there"
    with Agreement.objects.get(case=s11_case).file.open("rb") as handle:
        assert handle.read() == PDF


@pytest.mark.django_db(transaction=True)
def test_a_committed_agreement_keeps_its_scan(s11_case, people, settings):
    to_mediation(s11_case, people.s11_mediator)
    case = record_agreement(s11_case, people.s11_mediator)
    assert stored_files(settings) == [case.agreement.file.name]
    assert Agreement.objects.get(case=s11_case).file_content_type == "application/pdf"


def test_the_hourly_reclaim_deletes_old_scans_no_agreement_refers_to_and_nothing_else(s11_case, people, settings):
    """What no transaction can clean up (a process killed before its commit; an outer block rolled back after the
    recording succeeded) is found by the hour: old, in the scans' folders, and named by no agreement."""
    import io
    import os
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from mediation.services import reclaim_orphan_scans
    from mediation.tasks import reclaim_orphan_scans as reclaim_task

    to_mediation(s11_case, people.s11_mediator)
    kept = record_agreement(s11_case, people.s11_mediator).agreement.file.name
    month = timezone.localtime().strftime("%Y/%m")
    killed = default_storage.save(f"mediation/{month}/killed-before-commit.pdf", io.BytesIO(PDF))
    writing = default_storage.save(f"mediation/{month}/still-being-recorded.pdf", io.BytesIO(PDF))
    two_hours_ago = (timezone.now() - timedelta(hours=2)).timestamp()
    for name in (killed, kept):
        os.utime(default_storage.path(name), (two_hours_ago, two_hours_ago))

    assert reclaim_orphan_scans() == [killed]
    assert not default_storage.exists(killed)
    assert default_storage.exists(writing)  # younger than the grace: its agreement may be on its way
    assert default_storage.exists(kept)
    assert reclaim_task.apply().get() == 0  # a second run finds nothing more


def test_beat_runs_the_scan_reclaim_every_hour(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="mediation.tasks.reclaim_orphan_scans")
    assert task.enabled and (task.interval.every, task.interval.period) == (1, "hours")
