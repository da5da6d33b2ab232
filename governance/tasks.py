"""Celery's autodiscovery reads ``<app>.tasks``: the governance app's tasks live in its sub-packages."""

from governance.alerts.tasks import send_alert_emails, send_pending_alert_emails, sweep_deadlines  # noqa: F401
