"""The admin site's doors: the same scoping as every page, and services as the only way to write.

A superuser sees everything. Anyone else is let in by an administrator role (``Action.ADMINISTER``
over part of the tree) and sees and changes only the objects of their territory; every save goes
through a service that checks the acting user's authority again; history is read, never reverted.
Each app's admin module builds on these mixins (``governance.access.admin``, ``grids.admin``…).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from governance.core.errors import DomainError
from governance.core.scoping import Action, get_scope


class ReadOnlyAdminMixin:
    """Records that change only through services (alerts, incidents): the admin reads them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def administers_anything(request) -> bool:
    return not get_scope(request.user).is_empty(Action.ADMINISTER)


class ScopedAdminMixin:
    """The admin goes through the scoping door too: administrators see and change what they administer.

    Superusers keep Django's model permissions. Anyone else is let in by their
    administrator role alone (actions, not model permissions), and only to the objects of
    their territory; ``has_*_permission`` with an object asks the same door.
    """

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        if not administers_anything(request):
            return qs.none()
        return self.scoped_queryset(request, qs)

    def scoped_queryset(self, request, qs):
        """What a non-superuser administrator sees of ``qs``: the door's answer for ``administer``."""
        return qs.restrict(request.user, Action.ADMINISTER)

    def _in_scope(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request):
        if request.user.is_superuser:
            return super().has_module_permission(request)
        return request.user.is_active and request.user.is_staff and administers_anything(request)

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_view_permission(request, obj)
        return self.has_module_permission(request) and self._in_scope(request, obj)

    def has_add_permission(self, request, *args):
        if request.user.is_superuser:
            return super().has_add_permission(request, *args)
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)
        return self.has_module_permission(request) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # records of the kernel are deactivated or revoked, never deleted

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """A guarded object (a region, a unit…) is picked among those the user administers; any other id is
        "not a valid choice"."""
        manager = db_field.related_model._default_manager
        if not request.user.is_superuser and hasattr(manager, "restrict"):
            kwargs["queryset"] = manager.restrict(request.user, Action.ADMINISTER)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceErrorsAdminMixin:
    """A service's refusal in ``save_model`` becomes a message on the same form page, never a 500.

    The forms check what they can first (``administers_path``), so this is the rare race:
    the admin view's transaction has rolled back, nothing was saved, and the page says why.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ScopedHistoryAdmin(ServiceErrorsAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """simple-history's pages, behind the same door as the object itself.

    Its history views read the history table directly; here an object outside the
    user's scope answers 404 on its history and on every past version, and a past
    version is never saved back (reverting would bypass the services).
    """

    def _require_visible(self, request, object_id) -> None:
        if request.user.is_superuser:
            return
        try:
            visible = self.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, TypeError):
            visible = False
        if not visible:
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._require_visible(request, object_id)
        if request.method != "GET":
            raise PermissionDenied  # history is a record: changes go through the services
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True


