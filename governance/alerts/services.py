"""Writes to alerts by people. The sweep raises and resolves; users only acknowledge."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from governance.alerts.models import Alert
from governance.errors import NotFoundError
from governance.scoping import Action


@transaction.atomic
def alert_acknowledge(*, alert: Alert | int, actor, now: datetime | None = None) -> Alert:
    """Record that ``actor`` has seen the alert. An alert outside the actor's scope is "not found".

    Acknowledging twice keeps the first acknowledgement: who saw it first is the record.
    """
    pk = alert.pk if isinstance(alert, Alert) else alert
    locked = Alert.objects.restrict(actor, Action.VIEW).select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFoundError()
    if locked.acknowledged_at is None:
        locked.acknowledged_at = now or timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return locked
