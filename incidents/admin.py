"""Admin for incidents: the category catalogue is edited here; incidents are only read.

Incidents change through the services (``incidents.services``) alone, so that every
change is checked and leaves its timeline event: the incident admin offers no add,
change or delete, and shows the timeline, the units' tasks and the photos' metadata
read-only. Photos themselves are served only by the scoped attachment view.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.core.admin import ReadOnlyAdminMixin, ScopedAdminMixin
from incidents.models import Attachment, Category, Event, Incident, UnitTask, overdue_q


class MinorCategoryInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    fields = ["code", "name", "default_severity", "accept_hours", "handle_working_days", "on_spot_closable",
              "handler_unit_kind", "is_active", "sort_order"]
    extra = 0
    show_change_link = True
    verbose_name = _("minor category")
    verbose_name_plural = _("minor categories")

    def has_delete_permission(self, request, obj=None):
        return False  # incidents point at categories: deactivate instead


class CategoryLevelFilter(admin.SimpleListFilter):
    title = _("level")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("major", _("Major categories")), ("minor", _("Minor categories"))]

    def queryset(self, request, queryset):
        if self.value() == "major":
            return queryset.filter(parent__isnull=True)
        if self.value() == "minor":
            return queryset.filter(parent__isnull=False)
        return queryset


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The country-wide catalogue with its time limits; who edits it is decided by model permissions."""

    list_display = ["code", "name", "parent", "default_severity", "accept_hours", "handle_working_days",
                    "on_spot_closable", "handler_unit_kind", "is_active"]
    list_display_links = ["code", "name"]
    list_editable = ["accept_hours", "handle_working_days", "on_spot_closable", "is_active"]
    list_filter = [CategoryLevelFilter, "parent", "default_severity", "on_spot_closable", "handler_unit_kind",
                   "is_active"]
    list_select_related = ["parent"]
    search_fields = ["code", "name"]
    ordering = ["code"]
    inlines = [MinorCategoryInline]
    list_per_page = 200

    def get_inlines(self, request, obj):
        # Only a major category has minor ones; a minor category's page shows its own fields alone.
        return self.inlines if obj is None or obj.parent_id is None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "parent" in form.base_fields:
            # Two levels only: a parent is always a major category, never the category itself.
            parents = Category.objects.filter(parent__isnull=True)
            if obj is not None:
                parents = parents.exclude(pk=obj.pk)
            form.base_fields["parent"].queryset = parents
        return form

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class EventInline(ReadOnlyInline):
    model = Event
    fields = ["at", "action", "from_status", "to_status", "actor", "note", "data"]
    readonly_fields = fields
    ordering = ["at", "pk"]
    verbose_name_plural = _("timeline")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class UnitTaskInline(ReadOnlyInline):
    model = UnitTask
    fields = ["unit", "role", "assigned_at", "reported_back_at", "report", "withdrawn_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit")


class AttachmentInline(ReadOnlyInline):
    """Metadata only: the file is never linked here (MEDIA_URL is not routed; the scoped view serves it)."""

    model = Attachment
    fields = ["original_name", "content_type", "size", "width", "height", "sha256", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(overdue_q(timezone.now()))
        return queryset


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Read-only: staff see the incidents of the regions they administer (``Action.ADMINISTER``)."""

    list_display = ["number", "title", "category", "status", "severity", "responsible_level", "grid",
                    "lead_unit", "reported_at", "handle_due_at"]
    list_filter = ["status", "severity", "source", "responsible_level", OverdueFilter,
                   ("category__parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["category", "category__parent", "grid", "lead_unit"]
    search_fields = ["=number", "title"]  # "=": the number exactly, case-insensitive
    date_hierarchy = "reported_at"
    ordering = ["-reported_at", "-pk"]
    # A city holds hundreds of thousands: no COUNT(*) over the whole table on every page.
    show_full_result_count = False
    list_per_page = 50
    inlines = [UnitTaskInline, EventInline, AttachmentInline]
    fieldsets = [
        (None, {"fields": ["number", "title", "description", "category", "severity", "status", "source"]}),
        (_("Place"), {"fields": ["lat", "lng", "address", "grid", "responsible_region", "responsible_level",
                                 "lead_unit"]}),
        (_("Reporter"), {"fields": ["reporter", "reporter_name", "reporter_phone"]}),
        (_("Deadlines and steps"), {"fields": ["reported_at", "accept_due_at", "accept_warn_at", "accepted_at",
                                               "handle_due_at", "handle_warn_at", "deadline_note",
                                               "handle_days_left", "dispatched_at", "handled_at", "closed_at",
                                               "parked_until", "escalation_count"]}),
        (_("Outcome"), {"fields": ["duplicate_of", "satisfaction", "version", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]
