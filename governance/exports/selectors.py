"""Reads of export jobs, through their door: a job is its owner's alone."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse

from governance.core.authority import access_object
from governance.exports.kinds import KINDS
from governance.exports.models import ExportJob, ExportStatus


def export_job(user, pk: int) -> ExportJob:
    """The user's own job, or 404 exactly as if it did not exist."""
    return access_object(ExportJob.objects.all(), user, pk=pk)


def export_jobs(user) -> QuerySet[ExportJob]:
    """The user's jobs, newest first."""
    return ExportJob.objects.restrict(user).order_by("-created_at", "-pk")


def kind_label(job: ExportJob) -> str:
    kind = KINDS.get(job.kind)
    return str(kind.label) if kind is not None else job.kind


def job_status(job: ExportJob) -> dict:
    """What the progress page and the status API say of a job."""
    ready = job.status == ExportStatus.DONE and bool(job.file)
    return {
        "id": job.pk,
        "kind": job.kind,
        "label": kind_label(job),
        "format": job.fmt,
        "status": job.status,
        "progress": job.progress,
        "done": job.done,
        "total": job.total,
        "file_name": job.file_name,
        "size": job.size if ready else None,
        "download_url": reverse("exports:download", args=[job.pk]) if ready else "",
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "expires_at": job.expires_at if ready else None,
    }
