"""Export jobs: asked for (``export_start``), run (``export_run``), expired (``exports_expire``).

A job is asked for on a page: the kind checks who may ask and cleans the filters; a file of up to
``sync_limit`` rows is written at once, in the request, and a larger one by a Celery worker
(queued when the job's row has committed). Either way the same ``export_run`` writes it:

1. it *claims* the job (``attempts`` + 1, compared and set, so two runs never both hold it);
2. it reads the owner afresh and asks the kind again whether they may export, so the file holds
   what the owner may see when it runs;
3. the kind writes the file into a temporary file, counting progress on the row;
4. the file goes to the storage (``STORAGES["default"]``), and the row says done, with the file's
   name and when it expires, if the job is still this run's; otherwise the stored file is deleted.

What goes wrong is said on the job for its owner: the reason of a refusal (filters no longer
valid, a right lost), or that the server failed (logged with the traceback). A database that
went away is a transient error: the task retries, and a job whose heartbeat stops is failed by
``exports_expire``, which also deletes the files whose time is up and those no job refers to.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.core import orphans
from governance.core.errors import (
    DomainError,
    InvalidInput,
    NotFoundError,
    PermissionDeniedError,
    StorageUnavailable,
)
from governance.core.storage import STORAGE_ERRORS
from governance.core.tasks import TRANSIENT_ERRORS, enqueue
from governance.exports.kinds import ExportKind, ExportRun, as_query, get_kind
from governance.exports.models import CLAIMABLE, ExportJob, ExportStatus, export_path
from governance.exports.progress import Progress, Superseded

logger = logging.getLogger(__name__)

# A job whose run has not reported for this long (or that no worker took up in this long) will not finish.
STALE_AFTER = timedelta(hours=1)
BATCH = 500


def file_storage():
    """Where export files live: the storage of the job's file field (``STORAGES["default"]``)."""
    return ExportJob._meta.get_field("file").storage


def retention() -> timedelta:
    return timedelta(hours=settings.EXPORT_RETENTION_HOURS)


# --- Asking -----------------------------------------------------------------------------------

def export_kind_for(user, kind: str) -> ExportKind:
    """The kind ``user`` may export: ``NotFoundError`` when no kind has that name, ``PermissionDeniedError``
    when the user may not export it."""
    try:
        export_kind = get_kind(kind)
    except LookupError:
        raise NotFoundError() from None
    if not export_kind.allowed(user):
        raise PermissionDeniedError(_("You may not export this list."), code="export_not_allowed")
    return export_kind


def export_start(*, owner, kind: str, fmt: str, data: QueryDict, return_to: str = "",
                 now: datetime | None = None) -> ExportJob:
    """Ask for an export of ``kind`` in ``fmt`` as ``owner``, with the page's fields ``data`` (its filters and
    the kind's options). Written now when small (the job comes back done or failed), else queued.

    Refuses with ``NotFoundError`` (no such kind), ``PermissionDeniedError`` (the owner may not export it)
    or ``InvalidInput`` (a format the kind does not write, filters that cannot be read).
    """
    export_kind = export_kind_for(owner, kind)
    if fmt not in export_kind.formats:
        raise InvalidInput(_("Unknown export format."), code="export_format",
                           field_errors={"format": [gettext("Choose one of: %(formats)s.")
                                                    % {"formats": ", ".join(export_kind.formats)}]})
    params, options = export_kind.clean(owner, data)
    rows = export_kind.count(owner, as_query(params), options)
    in_background = rows is None or rows > export_kind.sync_limit
    with transaction.atomic():
        job = ExportJob.objects.create(
            owner=owner, kind=export_kind.name, fmt=fmt, params=params, options=options,
            language=translation.get_language() or settings.LANGUAGE_CODE, return_to=return_to[:500],
            file_name=export_kind.file_name(fmt, now), total=rows, created_at=now or timezone.now())
        if in_background:
            # On commit: a worker must find the row. If the broker cannot take it, the job says so (failed).
            transaction.on_commit(partial(queue_export, job.pk), robust=True)
    if not in_background:
        export_run(job_id=job.pk)
        job.refresh_from_db()
    return job


def queue_export(job_id: int) -> bool:
    """Hand the job to a worker; when the broker cannot take it, mark it failed, saying why.

    Not retried from the web process: that would need a queue of its own, the very thing that is
    down. The owner is on the page that shows the job, and asks again when told to.
    """
    from governance.exports.tasks import run_export

    if enqueue(run_export, job_id):
        return True
    job = ExportJob.objects.filter(pk=job_id).only("language").first()
    if job is not None:
        with translation.override(job.language):
            ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
                status=ExportStatus.FAILED, finished_at=timezone.now(),
                error=gettext("The export could not be queued: the background task service does not answer. "
                              "Try again in a few minutes."))
    return False


# --- Running ----------------------------------------------------------------------------------

def _claim(job_id: int) -> int | None:
    """Take the job for this run: its new ``attempts``, or ``None`` when it is finished or another run just took it.

    Compare-and-set on ``attempts`` (no lock held): of two runs claiming at once, one wins.
    """
    attempts = (ExportJob.objects.filter(pk=job_id, status__in=CLAIMABLE)
                .values_list("attempts", flat=True).first())
    if attempts is None:
        return None
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status__in=CLAIMABLE, attempts=attempts).update(
        status=ExportStatus.RUNNING, attempts=attempts + 1, started_at=now, updated_at=now, done=0, error="")
    return attempts + 1 if claimed else None


def _fail(job_id: int, attempt: int, message: str) -> None:
    ExportJob.objects.filter(pk=job_id, attempts=attempt, status=ExportStatus.RUNNING).update(
        status=ExportStatus.FAILED, error=message, finished_at=timezone.now(), updated_at=timezone.now())


def _kind_to_run(job: ExportJob, owner) -> ExportKind:
    """The job's kind, if its owner may still export it: the right is asked again when the file is written."""
    if not owner.is_active:
        raise PermissionDeniedError(_("This account is no longer active."), code="export_not_allowed")
    try:
        return export_kind_for(owner, job.kind)
    except NotFoundError:
        raise InvalidInput(_("This kind of export is no longer offered."), code="export_kind_unknown") from None


def export_run(*, job_id: int) -> ExportJob | None:
    """Write the job's file, as its owner's scope is now. Idempotent: a finished job is left as it is.

    Returns the job as this run left it, or ``None`` when there was nothing for this run to do.
    """
    attempt = _claim(job_id)
    if attempt is None:
        return None
    job = ExportJob.objects.get(pk=job_id)
    progress = Progress(job_id, attempt)
    storage = file_storage()
    stored = ""
    with translation.override(job.language):
        try:
            owner = get_user_model().objects.get(pk=job.owner_id)  # afresh: the scope as of now, not as asked
            kind = _kind_to_run(job, owner)
            with tempfile.TemporaryFile(suffix=f".{job.fmt}") as handle:
                kind.write(ExportRun(job_id=job.pk, user=owner, params=as_query(job.params), options=job.options,
                                     fmt=job.fmt, out=handle, progress=progress))
                size = handle.seek(0, 2)
                handle.seek(0)
                stored = _store(storage, job, handle)
            finished = timezone.now()
            finished_it = ExportJob.objects.filter(pk=job_id, attempts=attempt, status=ExportStatus.RUNNING).update(
                status=ExportStatus.DONE, file=stored, size=size, done=progress.done,
                total=progress.total if progress.total is not None else progress.done,
                finished_at=finished, updated_at=finished, expires_at=finished + retention())
            if not finished_it:
                raise Superseded(job_id)
        except Superseded:
            _discard(storage, stored)
            return None
        except DomainError as exc:
            _discard(storage, stored)
            _fail(job_id, attempt, str(exc.message))
        except TRANSIENT_ERRORS:
            _discard(storage, stored)
            raise  # the task retries; a run that never gets through is failed by exports_expire
        except Exception:
            logger.exception("export job %s (%s, %s) failed", job_id, job.kind, job.fmt)
            _discard(storage, stored)
            _fail(job_id, attempt, gettext(
                "The export failed because of an error on the server (job %(id)s). Try again; if it fails "
                "again, tell an administrator.") % {"id": job_id})
    return ExportJob.objects.get(pk=job_id)


def _store(storage, job: ExportJob, handle) -> str:
    try:
        return storage.save(export_path(job, ""), File(handle, name=f"export.{job.fmt}"))
    except STORAGE_ERRORS as exc:
        logger.warning("export job %s: the file could not be stored", job.pk, exc_info=True)
        raise StorageUnavailable(_("The file could not be stored: the file store does not answer. Try again in a "
                                   "few minutes.")) from exc


def _discard(storage, name: str) -> None:
    """Delete a file this run stored but may not keep; one left behind is the expiry task's to find."""
    if not name:
        return
    try:
        storage.delete(name)
    except Exception:
        logger.warning("could not delete %s; the expiry task will", name, exc_info=True)


# --- Expiring ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExpiryResult:
    expired: int  # files deleted because their time was up, their jobs marked expired
    failed: int  # jobs that stopped moving, marked failed
    orphans: list[str]  # files no job refers to, deleted


def exports_expire(*, now: datetime | None = None) -> ExpiryResult:
    """The periodic clean-up (beat, every 15 minutes). Safe to run twice, safe to kill halfway.

    Deletes the files of finished jobs whose time is up, through the storage API (the local folder
    or S3 alike), then marks those jobs expired, in batches; fails the jobs that stopped moving;
    deletes the files under the last two months' folders that no job refers to (a process killed
    between writing a file and recording it), once they are an hour old.
    """
    now = now or timezone.now()
    storage = file_storage()
    expired = 0
    while True:
        batch = list(ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now)
                     .order_by("expires_at", "pk").values_list("pk", "file")[:BATCH])
        for _pk, name in batch:
            if name:
                storage.delete(name)  # a file already gone is no error (local folder and S3 alike)
        if batch:
            expired += ExportJob.objects.filter(pk__in=[pk for pk, _name in batch], status=ExportStatus.DONE).update(
                status=ExportStatus.EXPIRED, file="", updated_at=now)
        if len(batch) < BATCH:
            break
    stale = ExportJob.objects.filter(Q(status=ExportStatus.RUNNING, updated_at__lt=now - STALE_AFTER)
                                     | Q(status=ExportStatus.QUEUED, created_at__lt=now - STALE_AFTER))
    failed = 0
    for language in {code for code, _name in settings.LANGUAGES} | set(stale.values_list("language", flat=True)):
        with translation.override(language):
            failed += stale.filter(language=language).update(
                status=ExportStatus.FAILED, finished_at=now, updated_at=now,
                error=gettext("The export did not finish: the background task service stopped working on it. "
                              "Ask for it again."))

    def referenced(names) -> set[str]:
        return set(ExportJob.objects.filter(file__in=names).values_list("file", flat=True))

    deleted = orphans.reclaim(storage=storage, folders=orphans.month_folders("exports", now), referenced=referenced,
                              now=now)
    return ExpiryResult(expired=expired, failed=failed, orphans=deleted)
