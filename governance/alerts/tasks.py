"""The alert engine's Celery tasks: thin wrappers; only transient database errors are retried.

Their names stay those they were registered under before the code moved here
(``governance.tasks.*``): beat's schedules in the database name them.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from governance.core.tasks import TRANSIENT_ERRORS

# A sweep that finds another holding the lock tries again this soon, this many times: a minute in all,
# the life of beat's message (expire_seconds = 60), after which the next minute's sweep takes over.
SWEEP_BUSY_RETRY_SECONDS = 5
SWEEP_BUSY_MAX_RETRIES = 12


class SweepBusy(Exception):
    """Another sweep held the lock all along: this one did nothing."""


@shared_task(name="governance.tasks.sweep_deadlines", bind=True, acks_late=True, autoretry_for=TRANSIENT_ERRORS,
             max_retries=3, retry_backoff=True, retry_backoff_max=30, retry_jitter=True)
def sweep_deadlines(self, now: str | None = None) -> dict:
    """The alert sweep (governance.alerts.sweep), run every minute by beat. ``now``: ISO time, for tests.

    A sweep that could not take the lock is not done: the holder may be a worker killed
    mid-sweep whose statement PostgreSQL has yet to cancel. It runs again in a few
    seconds; if the lock stays taken for its whole minute, the task fails (``SweepBusy``)
    and says so, rather than reporting work it never did.
    """
    from governance.alerts.sweep import run_sweep

    result = run_sweep(now=datetime.fromisoformat(now) if now else None)
    if result.skipped:
        raise self.retry(exc=SweepBusy("another alert sweep held the lock"), countdown=SWEEP_BUSY_RETRY_SECONDS,
                         max_retries=SWEEP_BUSY_MAX_RETRIES)
    return {"now": result.now.isoformat(), "counts": result.counts}


@shared_task(name="governance.tasks.send_pending_alert_emails", acks_late=True, autoretry_for=TRANSIENT_ERRORS,
             max_retries=3, retry_backoff=True, retry_backoff_max=30, retry_jitter=True)
def send_pending_alert_emails() -> int:
    """Empty the alert email outbox (every minute by beat, and after a sweep that raised alerts)."""
    from governance.alerts import notify

    return notify.send_pending_alert_emails()


@shared_task(name="governance.tasks.send_alert_emails", acks_late=True, autoretry_for=TRANSIENT_ERRORS,
             max_retries=3, retry_backoff=True, retry_backoff_max=30, retry_jitter=True)
def send_alert_emails(raised_at: str | None = None) -> int:
    """The task queued by sweeps before the outbox: a message of it still in a queue empties the outbox."""
    from governance.alerts import notify

    return notify.send_pending_alert_emails()
