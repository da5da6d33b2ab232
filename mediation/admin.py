"""Admin of mediation: dispute types and deadline rules are edited here; cases are only read.

Cases change through ``mediation.services`` alone, so every change is checked and leaves its timeline
event; the case admin is read-only and scoped to the administrator's territory, with its history.
Parties are shown masked: the whole data is seen on the case page, on request, recorded.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from governance.core.admin import ReadOnlyAdminMixin, ScopedHistoryAdmin
from governance.core.masking import mask_id_number, mask_name, mask_phone
from mediation.models import Case, CaseEvent, DeadlineRule, DisputeType, Party, RiskChange


@admin.register(DisputeType)
class DisputeTypeAdmin(SimpleHistoryAdmin):
    """The country-wide list of dispute types; who edits it is decided by model permissions."""

    list_display = ["code", "name", "is_active", "sort_order"]
    list_editable = ["is_active", "sort_order"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        return False  # cases point at types: deactivate instead


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(SimpleHistoryAdmin):
    """Days allowed per source and type; the most specific rule wins, none: 30 days."""

    list_display = ["source", "dispute_type", "days"]
    list_filter = ["source", "dispute_type"]


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class PartyInline(ReadOnlyInline):
    model = Party
    fields = ["role", "masked_name", "masked_id_number", "masked_phone", "added_at"]
    readonly_fields = fields

    @admin.display(description=_("name"))
    def masked_name(self, obj):
        return mask_name(obj.name)

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)


class RiskChangeInline(ReadOnlyInline):
    model = RiskChange
    fields = ["at", "from_level", "to_level", "reason", "actor"]
    readonly_fields = fields


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, ScopedHistoryAdmin):
    """Read-only: administrators see the cases of the regions they administer."""

    list_display = ["number", "title", "dispute_type", "status", "risk_level", "organisation", "region",
                    "registered_at", "due_at"]
    list_filter = ["status", "risk_level", "source", "dispute_type"]
    list_select_related = ["dispute_type", "organisation", "region"]
    search_fields = ["=number", "title"]
    show_full_result_count = False
    list_per_page = 50
    exclude = ["mediators"]
    inlines = [PartyInline, RiskChangeInline, CaseEventInline]
    readonly_fields = [f.name for f in Case._meta.concrete_fields]
