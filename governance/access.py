"""Fetching one object through the scoping door (Zulip's ``access_*`` helpers)."""

from django.db import models
from django.http import Http404

from governance.errors import PermissionDeniedError
from governance.scoping import Action, get_scope


def access_object(queryset: models.QuerySet, user, *, action: str = Action.VIEW, **lookup) -> models.Model:
    """The object the user may see, or 404 exactly as if it did not exist.

    When ``action`` is not ``view``, an object the user may see but not act on
    raises ``PermissionDeniedError`` (403): hiding it would only confuse.
    """
    try:
        obj = queryset.restrict(user, Action.VIEW).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None
    if action != Action.VIEW:
        require_action(obj, user, action)
    return obj


def require_action(obj: models.Model, user, action: str) -> None:
    if not may(obj, user, action):
        raise PermissionDeniedError()


def may(obj: models.Model, user, action: str) -> bool:
    """May ``user`` do ``action`` on ``obj``? Asked of the same door as every list."""
    if get_scope(user).everything:
        return True
    return type(obj)._default_manager.restrict(user, action).filter(pk=obj.pk).exists()
