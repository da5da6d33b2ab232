"""Fetching one object through the scoping door (Zulip's ``access_*`` helpers)."""

from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _

from governance.core.errors import PermissionDeniedError
from governance.core.scoping import Action, Principal, get_scope


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


# --- Authority: the right to change the kernel's records -------------------------------------------

class _System:
    """The acting user of what no person does: management commands, migrations, the demo, the sweep."""

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = _System()


def actor_or_none(acting_user):
    """The user to record as the author (``None`` for the system and for a principal that is not a user)."""
    return None if acting_user is SYSTEM or isinstance(acting_user, Principal) else acting_user


def administers_path(acting_user, path: str) -> bool:
    """Whether ``acting_user`` administers the region at ``path`` (its whole subtree is theirs)."""
    if acting_user is SYSTEM:
        return True
    if acting_user is None:
        raise TypeError("acting_user is required: a user, or governance.access.SYSTEM for the system itself")
    return get_scope(acting_user).covers_path(Action.ADMINISTER, path)


def require_administer(acting_user, path: str, what) -> None:
    """Refuse (403) a change to ``what``, at ``path`` in the tree, that lies outside the actor's territory."""
    if not administers_path(acting_user, path):
        raise PermissionDeniedError(
            _("%(what)s lies outside the territory you administer.") % {"what": what}, code="outside_authority")
