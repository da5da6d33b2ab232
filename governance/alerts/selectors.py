"""Reads of alerts, always through the scoping door."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, QuerySet

from governance.alerts.models import ACT_ON_ALERT, Alert, AlertRead
from governance.core.memo import SharedMemo
from governance.core.scoping import Action, Scope, get_scope

# The nav badge stops counting here ("99+"): counting is cheap only when bounded.
UNREAD_COUNT_CAP = 99

# The badge is on every page, and counting it (the scope's join, the reads' anti-join) was the largest part of a
# page's fixed cost. Each process keeps the counts it made, per user and the scope they were counted in, while no
# alert and no read changes (``alerts_changed``, called on commit of every write to alerts and their reads: the
# models' receivers, the sweep, the bulk reads) and for a minute at most, like the scopes (governance.core.memo).
UNREAD: SharedMemo[dict[int, tuple[Scope, int]]] = SharedMemo("governance:unread-alerts", dict, max_age=60)


def alerts_changed() -> None:
    """Alerts or their reads changed in this transaction: every badge is counted again once it commits."""
    if not UNREAD.pending():
        UNREAD.changed()


def alert_feed(user, *, open_only: bool = False) -> QuerySet[Alert]:
    """The user's alerts, open ones first, newest first, each annotated with ``can_acknowledge``
    (the user may act on it) and ``read_by_me`` (the user has read it)."""
    qs = (Alert.objects.restrict(user, Action.VIEW)
          .select_related("region", "owner_region", "owner_unit", "owner_user", "acknowledged_by")
          .annotate(can_acknowledge=Exists(Alert.objects.restrict(user, ACT_ON_ALERT).filter(pk=OuterRef("pk"))),
                    read_by_me=Exists(AlertRead.objects.filter(alert=OuterRef("pk"), user=user))))
    if open_only:
        qs = qs.open()
    return qs.order_by(F("resolved_at").desc(nulls_first=True), "-raised_at", "-pk")


def alert_get(user, pk: int) -> Alert | None:
    """One alert the user may see, or None (hidden and missing alike)."""
    return alert_feed(user).filter(pk=pk).first()


def other_alerts_of_subject(user, alert: Alert, *, limit: int = 10) -> list[Alert]:
    """The user's other alerts about the same subject (earlier deadlines of the same incident…), newest first."""
    return list(alert_feed(user).filter(subject_type=alert.subject_type, subject_id=alert.subject_id)
                .exclude(pk=alert.pk)[:limit])


def unread_alerts(user) -> QuerySet[Alert]:
    """Open alerts of the user's territory that nobody at the addressee acknowledged and the user has not read."""
    read = AlertRead.objects.filter(alert=OuterRef("pk"), user=user)
    return Alert.objects.restrict(user, Action.VIEW).unread().exclude(Exists(read))


def unread_count(user) -> int:
    """How many alerts are unread for this user, capped at ``UNREAD_COUNT_CAP + 1``."""
    counts, scope = UNREAD.get(), get_scope(user)
    kept = counts.get(user.pk)
    if kept is not None and kept[0] is scope:  # a scope read again since is another object: count again
        return kept[1]
    n = unread_alerts(user).order_by().values("pk")[: UNREAD_COUNT_CAP + 1].count()
    counts[user.pk] = (scope, n)
    return n
