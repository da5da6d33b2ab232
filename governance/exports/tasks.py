"""Celery tasks of the export jobs: thin wrappers over the services, retried only on transient database errors."""

from __future__ import annotations

from celery import shared_task

from governance.core.tasks import TRANSIENT_ERRORS


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=True,
             retry_backoff_max=30, retry_jitter=True)
def run_export(job_id: int) -> str:
    """Write one export job's file (``governance.exports.services.export_run``). A finished job is left alone."""
    from governance.exports.services import export_run

    job = export_run(job_id=job_id)
    return job.status if job is not None else "not claimed"


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=True,
             retry_backoff_max=30, retry_jitter=True)
def expire_exports() -> dict:
    """Delete expired and orphaned export files, fail jobs that stopped moving (beat, every 15 minutes). Idempotent."""
    from governance.exports.services import exports_expire

    result = exports_expire()
    return {"expired": result.expired, "failed": result.failed, "orphans": len(result.orphans)}
