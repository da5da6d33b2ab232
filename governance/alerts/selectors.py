"""Reads of alerts, always through the scoping door."""

from __future__ import annotations

from django.db.models import F, QuerySet

from governance.alerts.models import Alert
from governance.scoping import Action

# The nav badge stops counting here ("99+"): counting is cheap only when bounded.
UNREAD_COUNT_CAP = 99


def alert_feed(user, *, open_only: bool = False) -> QuerySet[Alert]:
    """The user's alerts: open ones first, newest first."""
    qs = Alert.objects.restrict(user, Action.VIEW).select_related("region", "owner_region", "acknowledged_by")
    if open_only:
        qs = qs.open()
    return qs.order_by(F("resolved_at").desc(nulls_first=True), "-raised_at", "-pk")


def alert_get(user, pk: int) -> Alert | None:
    """One alert the user may see, or None (hidden and missing alike)."""
    return alert_feed(user).filter(pk=pk).first()


def unread_count(user) -> int:
    """Open, unacknowledged alerts in the user's scope, capped at ``UNREAD_COUNT_CAP + 1``."""
    qs = Alert.objects.restrict(user, Action.VIEW).unread()
    return qs.values("pk")[: UNREAD_COUNT_CAP + 1].count()
