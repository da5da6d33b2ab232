"""Writes to alerts by people. The sweep raises and resolves; people read and acknowledge.

* Acknowledging is the addressee's act (the command centre the alert is addressed to):
  it needs the right to act on the alert (``ACT_ON_ALERT``), not only to see it: a
  supervisor or a grid worker who sees the alert gets 403. It is recorded once, for
  everyone there: who saw it first is the record.
* Reading is each person's own: anyone who sees an alert may mark it read for themselves.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.alerts.models import ACT_ON_ALERT, Alert, AlertRead
from governance.alerts.selectors import alerts_changed
from governance.core.errors import NotFoundError, PermissionDeniedError
from governance.core.scoping import Action


@transaction.atomic
def alert_acknowledge(*, alert: Alert | int, actor, now: datetime | None = None) -> Alert:
    """Record that the addressee has seen the alert. Hidden is "not found"; seen but not theirs is 403."""
    pk = alert.pk if isinstance(alert, Alert) else alert
    visible = Alert.objects.restrict(actor, Action.VIEW).filter(pk=pk)
    if not visible.exists():
        raise NotFoundError()
    if not Alert.objects.restrict(actor, ACT_ON_ALERT).filter(pk=pk).exists():
        raise PermissionDeniedError(
            _("Only those this alert is addressed to may acknowledge it."), code="not_addressee")
    # Lock the alert row alone, by id: the scope's join is not re-checked under the lock (an alert's
    # addressee never changes), and a join would make PostgreSQL lock the regions too (and re-check them).
    locked = Alert.objects.select_for_update().get(pk=pk)
    if locked.acknowledged_at is None:
        locked.acknowledged_at = now or timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
    _mark_read([locked.pk], actor, locked.acknowledged_at if now is None else now)
    return locked


def alert_mark_read(*, alerts, actor, now: datetime | None = None) -> int:
    """Mark the given alerts read for ``actor`` alone (those they may see; others are ignored). Returns how many."""
    now = now or timezone.now()
    ids = list(Alert.objects.restrict(actor, Action.VIEW).filter(pk__in=alerts)
               .exclude(Exists(AlertRead.objects.filter(alert=OuterRef("pk"), user=actor)))
               .values_list("pk", flat=True))
    return _mark_read(ids, actor, now)


def _mark_read(ids, actor, now: datetime) -> int:
    rows = [AlertRead(alert_id=pk, user=actor, read_at=now) for pk in ids]
    AlertRead.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        alerts_changed()  # a bulk insert sends no signal
    return len(rows)
