from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from governance import services
from governance.errors import DomainError
from governance.models import CalendarDay, RoleAssignment, Unit
from governance.scoping import Action
from governance.workcalendar import calendar_warnings


class ReadOnlyAdminMixin:
    """Records that change only through services (alerts, incidents): the admin reads them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedAdminMixin:
    """The admin goes through the scoping door too: staff see what they administer."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.restrict(request.user, Action.ADMINISTER)


@admin.register(Unit)
class UnitAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "code", "kind", "home_region", "is_active"]
    list_filter = ["kind", "is_active", "home_region__level"]
    search_fields = ["name", "code"]
    raw_id_fields = ["home_region"]

    def has_delete_permission(self, request, obj=None):
        return False  # units are deactivated, never deleted: their history stays readable

    def get_queryset(self, request):
        qs = super(ScopedAdminMixin, self).get_queryset(request)
        if request.user.is_superuser:
            return qs
        # Unit's own rule only opens other actions on one's own units; administrators
        # administer the units at home in their subtree.
        from django.db.models import Q

        from governance.scoping import get_scope

        q = Q(pk__in=[])
        for path in get_scope(request.user).paths(Action.ADMINISTER):
            q |= Q(home_region__path__startswith=path)
        return qs.filter(q)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ["user", "role", "region", "unit", "assigned_at", "assigned_by", "revoked_at"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "region__name", "unit__name"]
    raw_id_fields = ["user", "region", "unit"]
    readonly_fields = ["assigned_at", "assigned_by", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # an assignment is revoked and replaced, never edited
            return ["user", "role", "region", "unit", *self.readonly_fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            saved = services.role_assign(user=obj.user, role=obj.role, region=obj.region, unit=obj.unit,
                                         acting_user=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = saved.pk

    @admin.action(description=_("Revoke the selected role assignments"))
    def revoke(self, request, queryset):
        for assignment in queryset.select_related("user"):
            services.role_revoke(assignment=assignment, acting_user=request.user)
        self.message_user(request, _("Revoked %(n)d assignments.") % {"n": queryset.count()})


@admin.register(CalendarDay)
class CalendarDayAdmin(SimpleHistoryAdmin):
    """Public holidays and make-up working days: corrections to chinesecalendar, and years it does not know.

    The calendar is one for the whole country, not territory-scoped: who may edit it
    is decided by the ordinary model permissions (governance.change_calendarday).
    """

    list_display = ["date", "weekday", "kind", "name", "note", "updated_at"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    search_fields = ["name", "note"]
    ordering = ["-date"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return date_format(obj.date, "l")

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            for warning in calendar_warnings():
                self.message_user(request, warning, messages.WARNING)
        return super().changelist_view(request, extra_context)
