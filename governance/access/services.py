"""Writes of the governance kernel: units, role assignments and the permissions derived from them.

Every write takes the acting user and refuses what lies outside their authority
(``governance.access.require_administer``): an administrator changes only the units and
the role assignments of the territory they administer, and never grants a role over a
region or a unit outside it. Management commands and the demo act as
``governance.access.SYSTEM``.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm

from governance.access.models import ROLE_ACTIONS, Role, RoleAssignment, Unit, UnitKind
from governance.core.authority import actor_or_none, require_administer
from governance.core.errors import ConflictError, InvalidInput
from governance.core.scoping import forget_scope, permission_codename, scopes_changed
from grids.models import Region


def _assignment_target_path(region: Region | None, unit: Unit | None) -> str:
    if region is not None:
        return region.path
    if unit is not None:
        return unit.home_region.path
    return ""


@transaction.atomic
def role_assign(*, user, role: str, region: Region | None = None, unit: Unit | None = None, acting_user
                ) -> RoleAssignment:
    """Give ``user`` the ``role`` over ``region`` or ``unit``; idempotent for an active one.

    The acting user must administer the region (or the unit's home region): an
    administrator grants roles inside their territory only, so never one above their own.
    An administrator role makes its holder staff, so the admin site opens for them (scoped).
    """
    if role not in Role.values:
        raise InvalidInput(_("Unknown role."), field_errors={"role": [_("Unknown role.")]})
    target = region or unit
    require_administer(acting_user, _assignment_target_path(region, unit), target or _("This role"))
    existing = RoleAssignment.objects.active().filter(user=user, role=role, region=region, unit=unit).first()
    if existing:
        return existing
    assignment = RoleAssignment(user=user, role=role, region=region, unit=unit, assigned_by=actor_or_none(acting_user))
    try:
        assignment.full_clean()
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from exc
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as exc:
        raise ConflictError(_("This role was just assigned by someone else.")) from exc
    if role == Role.ADMINISTRATOR and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    sync_object_permissions(user)
    return assignment


@transaction.atomic
def role_revoke(*, assignment: RoleAssignment, acting_user) -> RoleAssignment:
    """End a role assignment (the row stays, with when it was revoked)."""
    # of=self: lock the assignment only (its region and unit are outer joins, which PostgreSQL cannot lock)
    assignment = (RoleAssignment.objects.select_for_update(of=("self",))
                  .select_related("region", "unit__home_region", "user").get(pk=assignment.pk))
    require_administer(acting_user, _assignment_target_path(assignment.region, assignment.unit), assignment)
    if assignment.revoked_at is None:
        assignment.revoked_at = timezone.now()
        actor = actor_or_none(acting_user)
        assignment._change_reason = f"revoked by {actor}" if actor else "revoked"
        if actor is not None:
            assignment._history_user = actor
        assignment.save(update_fields=["revoked_at"])
        sync_object_permissions(assignment.user)
    return assignment


def sync_object_permissions(user) -> None:
    """Make the user's guardian ``scope_*`` permissions match their active roles.

    Recomputed whole (a user holds a handful of roles), so a revoked role never
    leaves a permission behind while another role on the same object keeps it.
    """
    wanted: set[tuple[object, str]] = set()
    for assignment in RoleAssignment.objects.active().filter(user=user).select_related("region", "unit"):
        for action in ROLE_ACTIONS[assignment.role]:
            target = assignment.target
            codename = permission_codename(action)
            model_perms = {codename for codename, _label in type(target)._meta.permissions}
            if codename in model_perms:
                wanted.add((target, codename))

    content_types = ContentType.objects.get_for_models(Region, Unit)
    current = UserObjectPermission.objects.filter(
        user=user, content_type__in=content_types.values(), permission__codename__startswith="scope_"
    ).select_related("permission", "content_type")
    wanted_keys = {(ContentType.objects.get_for_model(t).id, str(t.pk), c) for t, c in wanted}
    for perm in current:
        key = (perm.content_type_id, perm.object_pk, perm.permission.codename)
        if key in wanted_keys:
            wanted_keys.discard(key)
        else:
            perm.delete()
    for target, codename in wanted:
        key = (ContentType.objects.get_for_model(target).id, str(target.pk), codename)
        if key in wanted_keys:
            app_label = target._meta.app_label
            assign_perm(f"{app_label}.{codename}", user, target)
    scopes_changed()
    forget_scope(user)


# --- Units --------------------------------------------------------------------------------------------

UNIT_CODE_MAX = Unit._meta.get_field("code").max_length
UNIT_NAME_MAX = Unit._meta.get_field("name").max_length


def _unit_fields(*, code: str, name: str, kind: str) -> tuple[str, str]:
    code, name = (code or "").strip(), (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not code:
        errors["code"] = [_("The code is required.")]
    elif len(code) > UNIT_CODE_MAX:
        errors["code"] = [_("The code is longer than %(n)d characters.") % {"n": UNIT_CODE_MAX}]
    if not name:
        errors["name"] = [_("The name is required.")]
    elif len(name) > UNIT_NAME_MAX:
        errors["name"] = [_("The name is longer than %(n)d characters.") % {"n": UNIT_NAME_MAX}]
    if kind not in UnitKind.values:
        errors["kind"] = [_("Unknown kind of unit.")]
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], field_errors=errors)
    return code, name


def _save_unit(unit: Unit, acting_user) -> Unit:
    actor = actor_or_none(acting_user)
    if actor is not None:
        unit._history_user = actor
    try:
        with transaction.atomic():
            unit.save()
    except IntegrityError as exc:
        raise InvalidInput(_("A unit with code %(code)s already exists.") % {"code": unit.code},
                           field_errors={"code": [_("Already taken.")]}) from exc
    return unit


@transaction.atomic
def unit_create(*, code: str, name: str, kind: str, home_region: Region, acting_user, is_active: bool = True) -> Unit:
    """Add a unit at home in a region the acting user administers."""
    require_administer(acting_user, home_region.path, home_region)
    code, name = _unit_fields(code=code, name=name, kind=kind)
    return _save_unit(Unit(code=code, name=name, kind=kind, home_region=home_region, is_active=is_active),
                      acting_user)


@transaction.atomic
def unit_update(*, unit: Unit, acting_user, code: str | None = None, name: str | None = None,
                kind: str | None = None, home_region: Region | None = None, is_active: bool | None = None) -> Unit:
    """Change a unit of the acting user's territory; a move keeps it inside that territory."""
    unit = Unit.objects.select_for_update().select_related("home_region").get(pk=unit.pk)
    require_administer(acting_user, unit.home_region.path, unit)
    if home_region is not None and home_region.pk != unit.home_region_id:
        require_administer(acting_user, home_region.path, home_region)
        unit.home_region = home_region
    unit.code, unit.name = _unit_fields(code=unit.code if code is None else code,
                                        name=unit.name if name is None else name,
                                        kind=unit.kind if kind is None else kind)
    if kind is not None:
        unit.kind = kind
    if is_active is not None:
        unit.is_active = is_active
    return _save_unit(unit, acting_user)
