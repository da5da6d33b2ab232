"""Celery tasks of incidents: thin wrappers, retried only on transient database errors."""

from __future__ import annotations

from celery import shared_task

from governance.core.tasks import TRANSIENT_ERRORS


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=True,
             retry_backoff_max=30, retry_jitter=True)
def reclaim_orphan_photos() -> int:
    """Delete photos that no attachment row refers to (beat, every hour). Idempotent."""
    from incidents.attachments import reclaim_orphan_photos as reclaim

    return len(reclaim())
