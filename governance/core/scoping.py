"""The one scoping door: ``Model.objects.restrict(user, action)``.

Every page, API endpoint, export, map layer and alert feed asks this module
what a user may see or do. Nothing else filters by region or unit.

How a user's scope is made:

* A user holds roles (``governance.models.RoleAssignment``) over a region or a
  unit. Assigning a role grants django-guardian object permissions
  ``scope_<action>`` on that region or unit (``governance.access.services``).
* A permission on a region covers its whole subtree; the subtree is computed
  from the treebeard path (``path LIKE 'prefix%'``), never stored per row.
* A permission on a unit covers what the unit was given (incidents dispatched
  to it, cases referred to it).

A guarded model says how it is placed with two class attributes:

* ``scope_region_path``: the lookup of the region path (``"path"`` on the
  region itself, ``"grid__path"`` on an incident);
* ``scope_unit``: the lookup of the unit id (``"assigned_unit_id"``), if any.

or, for a rule of its own, a classmethod ``scope_q(scope, action) -> Q``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import BigIntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Cast

from governance.core.memo import SharedMemo

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Action(models.TextChoices):
    """What a user may do; each role grants a set of these (governance.roles)."""

    VIEW = "view", "view"
    REPORT = "report", "report"
    TRIAGE = "triage", "triage"
    HANDLE = "handle", "handle"
    MEDIATE = "mediate", "mediate"
    SUPERVISE = "supervise", "supervise"  # pilot-task ledgers: supervision notices, reviewing filings
    ADMINISTER = "administer", "administer"


def permission_codename(action: str) -> str:
    return f"scope_{action}"


@dataclass(frozen=True)
class Scope:
    """What one user holds, per action: region subtrees and units."""

    everything: bool = False
    region_paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unit_ids: dict[str, frozenset[int]] = field(default_factory=dict)
    user_id: int | None = None  # whose scope: what is addressed to a person is in that person's scope

    def paths(self, action: str) -> tuple[str, ...]:
        return self.region_paths.get(action, ())

    def units(self, action: str) -> frozenset[int]:
        return self.unit_ids.get(action, frozenset())

    def is_empty(self, action: str) -> bool:
        return not (self.everything or self.paths(action) or self.units(action))

    def covers_path(self, action: str, path: str) -> bool:
        return self.everything or any(path.startswith(p) for p in self.paths(action))


NOTHING = Scope()
EVERYTHING = Scope(everything=True)


class Principal(abc.ABC):
    """A caller that is not a logged-in user: a grid's QR sign, an Open311 API key (``intake``).

    The door asks it for its scope (``principal_scope``) instead of reading guardian's
    permissions: its scope is what the credential it presented was issued for, computed by
    the app that issued it. It is never authenticated as a user (no session, no admin, no
    page that needs a login), and services record no user for it: ``incident_file`` stores
    ``reporter=None`` and names the principal (``label``) in the timeline.
    """

    is_authenticated = False
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None

    label: str = ""

    @abc.abstractmethod
    def principal_scope(self) -> Scope:
        """What the credential was issued for, computed by the app that issued it."""

    def __str__(self) -> str:
        return self.label


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """Drop paths that lie inside another path of the set (fewer OR terms)."""
    kept: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return tuple(sorted(kept))


# Every process keeps the scopes it read, {user id: Scope}, while the shared token stands
# (governance.core.memo): any change to anyone's scope permissions replaces the token when it
# commits (``scopes_changed``, called by the services and by receivers on guardian's
# table), and nothing is kept longer than a minute whatever happens.
SCOPES: SharedMemo[dict[int, Scope]] = SharedMemo("governance:scopes", dict, max_age=60)


def scopes_changed() -> None:
    """Scope permissions changed in this transaction: every process reads scopes again once it commits."""
    SCOPES.changed()


def get_scope(user: AbstractBaseUser | AnonymousUser | None) -> Scope:
    """The user's scope: once per user object, and once per process while nobody's scope changes.

    A ``Principal`` answers its own scope (what its credential was issued for).
    """
    if isinstance(user, Principal):
        return user.principal_scope()
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    cached = getattr(user, "_governance_scope", None)
    if cached is not None:
        return cached
    kept = SCOPES.get()
    scope = kept.get(user.pk)
    if scope is None:
        scope = kept[user.pk] = _read_scope(user)
    user._governance_scope = scope
    return scope


# The models whose guardian permissions make a scope, registered by their apps when Django starts: the
# region tree ("region": a permission covers the region's subtree, read by path) and the units ("unit":
# a permission covers what the unit was given). The door knows them only through this registry.
SCOPE_MODELS: dict[str, type[models.Model]] = {}


def register_scope_model(kind: str, model: type[models.Model]) -> None:
    if kind not in ("region", "unit"):
        raise ValueError(f"unknown kind of scope model: {kind!r}")
    SCOPE_MODELS[kind] = model


def _read_scope(user) -> Scope:
    """The scope as guardian's object permissions give it (one query)."""
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import UserObjectPermission

    region_model, unit_model = SCOPE_MODELS["region"], SCOPE_MODELS["unit"]
    region_ct = ContentType.objects.get_for_model(region_model)
    unit_ct = ContentType.objects.get_for_model(unit_model)
    # One query, every request: the permissions, and for those on regions the region's path
    # (guardian keeps object ids as text; a region that no longer exists has no path).
    rows = UserObjectPermission.objects.filter(
        user=user, content_type__in=[region_ct, unit_ct], permission__codename__startswith="scope_"
    ).annotate(
        region_path=Subquery(region_model.objects.filter(pk=Cast(OuterRef("object_pk"), BigIntegerField()))
                             .order_by().values("path")[:1])
    ).values_list("content_type_id", "permission__codename", "object_pk", "region_path")

    paths: dict[str, set[str]] = {}
    unit_ids: dict[str, set[int]] = {}
    for content_type_id, codename, object_pk, region_path in rows:
        action = codename.removeprefix("scope_")
        if content_type_id == region_ct.id:
            paths.setdefault(action, set())
            if region_path is not None:
                paths[action].add(region_path)
        else:
            unit_ids.setdefault(action, set()).add(int(object_pk))
    return Scope(
        region_paths={action: _outermost(found) for action, found in paths.items()},
        unit_ids={action: frozenset(ids) for action, ids in unit_ids.items()},
        user_id=user.pk,
    )


def forget_scope(user) -> None:
    """Drop the scope cached on this user object (after its roles change)."""
    user.__dict__.pop("_governance_scope", None)
    # guardian caches permissions on the user object too
    for attr in [a for a in vars(user) if a.startswith("_guardian") or a.endswith("_perm_cache")]:
        delattr(user, attr)


def scope_q(model: type[models.Model], scope: Scope, action: str) -> Q | None:
    """The filter that keeps what ``scope`` allows for ``action`` on ``model``.

    ``None`` means nothing is allowed (the caller answers ``.none()``).
    """
    if scope.everything:
        return Q()
    custom = getattr(model, "scope_q", None)
    if custom is not None:
        return custom(scope, action)
    q = Q()
    matched = False
    region_lookup = getattr(model, "scope_region_path", None)
    if region_lookup:
        for path in scope.paths(action):
            q |= Q(**{f"{region_lookup}__startswith": path})
            matched = True
    unit_lookup = getattr(model, "scope_unit", None)
    if unit_lookup and scope.units(action):
        q |= Q(**{f"{unit_lookup}__in": sorted(scope.units(action))})
        matched = True
    if not region_lookup and not unit_lookup:
        raise TypeError(f"{model.__name__} declares no scope (scope_region_path, scope_unit or scope_q).")
    return q if matched else None


class RestrictedQuerySetMixin:
    """Adds ``restrict(user, action)`` to a model's queryset."""

    def restrict(self, user, action: str = Action.VIEW):
        q = scope_q(self.model, get_scope(user), action)
        if q is None:
            return self.none()
        return self.filter(q)


class RestrictedQuerySet(RestrictedQuerySetMixin, models.QuerySet):
    pass
