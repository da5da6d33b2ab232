"""Celery tasks of mediation: thin wrappers, retried only on transient database errors."""

from __future__ import annotations

from celery import shared_task

from governance.core.tasks import TRANSIENT_ERRORS


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=True,
             retry_backoff_max=30, retry_jitter=True)
def reclaim_orphan_scans() -> int:
    """Delete scanned agreements that no agreement refers to (beat, every hour). Idempotent."""
    from mediation.services import reclaim_orphan_scans as reclaim

    return len(reclaim())
