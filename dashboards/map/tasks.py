"""Celery tasks of the map: thin wrappers, retried only on transient database errors.

Imported by ``dashboards.models`` so that the worker registers them (Celery's
autodiscovery looks for ``<app>.tasks`` only).
"""

from __future__ import annotations

from celery import shared_task

from governance.core.tasks import TRANSIENT_ERRORS


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=True,
             retry_backoff_max=30, retry_jitter=True)
def refresh_map_overdue() -> int:
    """Bring the tallies' overdue figures up to now (beat, every minute). Idempotent."""
    from dashboards.map.stats import refresh_overdue

    return refresh_overdue()


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=True,
             retry_backoff_max=30, retry_jitter=True)
def refresh_map_tallies() -> dict:
    """Rebuild the map's tallies from the incidents (beat, every hour: the repair). Idempotent."""
    from dashboards.map.stats import refresh_tallies

    result = refresh_tallies()
    return {"category_rows": result.category_rows, "day_rows": result.day_rows, "seconds": result.seconds}
