from django.utils.functional import SimpleLazyObject


def alert_count(request):
    """The unread-alert badge of the navigation bar.

    Lazy: the query runs only when a template shows the badge, and never for an
    anonymous visitor.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> str:
        from governance.alerts.selectors import UNREAD_COUNT_CAP, unread_count

        n = unread_count(user)
        return f"{UNREAD_COUNT_CAP}+" if n > UNREAD_COUNT_CAP else str(n) if n else ""

    return {"alert_count": SimpleLazyObject(count)}
