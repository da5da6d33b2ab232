"""Writes of the governance kernel: role assignments and the permissions derived from them."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm

from governance.errors import ConflictError, InvalidInput
from governance.models import ROLE_ACTIONS, RoleAssignment, Unit
from governance.scoping import forget_scope, permission_codename, scopes_changed
from grids.models import Region


@transaction.atomic
def role_assign(*, user, role: str, region: Region | None = None, unit: Unit | None = None, acting_user=None
                ) -> RoleAssignment:
    """Give ``user`` the ``role`` over ``region`` or ``unit``; idempotent for an active one."""
    existing = RoleAssignment.objects.active().filter(user=user, role=role, region=region, unit=unit).first()
    if existing:
        return existing
    assignment = RoleAssignment(user=user, role=role, region=region, unit=unit, assigned_by=acting_user)
    try:
        assignment.full_clean()
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from exc
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as exc:
        raise ConflictError(_("This role was just assigned by someone else.")) from exc
    sync_object_permissions(user)
    return assignment


@transaction.atomic
def role_revoke(*, assignment: RoleAssignment, acting_user=None) -> RoleAssignment:
    if assignment.revoked_at is None:
        assignment.revoked_at = timezone.now()
        assignment._change_reason = f"revoked by {acting_user}" if acting_user else "revoked"
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
