"""Celery tasks: thin wrappers around services; only transient database errors are retried."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=True,
             retry_backoff_max=30, retry_jitter=True)
def sweep_deadlines(now: str | None = None) -> dict:
    """The alert sweep (governance.alerts.sweep), run every minute by beat. ``now``: ISO time, for tests."""
    from governance.alerts.sweep import run_sweep

    result = run_sweep(now=datetime.fromisoformat(now) if now else None)
    return {"now": result.now.isoformat(), "skipped": result.skipped, "counts": result.counts}


@shared_task(acks_late=True, autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=True,
             retry_backoff_max=30, retry_jitter=True)
def send_alert_emails(raised_at: str) -> int:
    from governance.alerts import notify

    return notify.send_alert_emails(raised_at=datetime.fromisoformat(raised_at))
